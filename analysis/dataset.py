"""The dataset the analyses share: a lone run or the complete runs of a sweep.

Every parameter that varies across the runs (a grid or a zip axis of the sweep) is an axis,
and every combination of axis values present is a condition. Only the runs of one condition are
replicates (seeds) of each other: figures draw one line, panel or figure per condition and
never average different parameter values as if they were seeds. Where a figure would hold more
conditions than it can show, `Dataset.pages` splits them over several figures.

Condition values the runs declare themselves (the tool policies, with their colours, in each
manifest's `tool_policies`) are read from the manifests into the dataset's `Legend`.

Core objects: VALUE_ORDER, MAX_CONDITIONS, Legend, Page, Dataset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matryoshka.model.contract import PHASES, Metric, summary_key

if TYPE_CHECKING:
    from matryoshka.analysis.io import Run

#: Reading order of the selection modes (the null model last); other values sort by value.
VALUE_ORDER = {v: (0, str(i)) for i, v in enumerate(("generational", "steady_state", "neutral"))}
#: The most conditions one figure shows (lines in a panel, or rows of panels); more are split.
MAX_CONDITIONS = 6


def value_key(value: object) -> tuple:
    """Sort key of a condition value: known names in reading order, then numbers, then text."""
    if value in VALUE_ORDER:
        return VALUE_ORDER[value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, "", float(value))
    return (2, str(value))


@dataclass(frozen=True)
class Legend:
    """The condition values the runs declare (their tool policies): reading order and colours.

    Attributes:
        order: The declared values, in reading order.
        colours: Each declared value's colour.
    """

    order: tuple[str, ...] = ()
    colours: Mapping[str, str] = field(default_factory=dict)

    def key(self, value: object) -> tuple:
        """Sort key of a condition value: declared values in their order, then as `value_key`."""
        if isinstance(value, str) and value in self.order:
            return (0, f"~{self.order.index(value):03d}")  # after the selection modes
        return value_key(value)


def condition_label(condition: Mapping[str, object], empty: str = "all runs") -> str:
    """`selection=neutral, tool_policy=free`, or `empty` for the empty condition."""
    return ", ".join(f"{k}={v}" for k, v in condition.items()) or empty


@dataclass(frozen=True)
class Page:
    """The conditions one figure shows.

    Attributes:
        fixed: The axis values shared by every condition of this figure (empty when the
            conditions fit in one figure); the figure's title names them.
        conditions: The conditions shown, each a full mapping axis -> value.
        number: 1-based position among the figures.
        of: How many figures the conditions were split into.
        legend: The dataset's declared condition values.
    """

    fixed: dict
    conditions: list[dict]
    number: int = 1
    of: int = 1
    legend: Legend = field(default_factory=Legend)

    def inner(self, condition: Mapping[str, object]) -> dict:
        """The part of a condition that varies within this figure."""
        return {k: v for k, v in condition.items() if k not in self.fixed}

    def title(self, title: str) -> str:
        """A figure title with this page's fixed values, e.g. `Drift (power=0.2; figure 1 of 3)`."""
        if self.of == 1:
            return title
        fixed = condition_label(self.fixed, "")
        return f"{title}\n({fixed + '; ' if fixed else ''}figure {self.number} of {self.of})"


@dataclass(frozen=True, eq=False)
class Dataset:
    """A lone run or a sweep, as the analyses see it.

    Attributes:
        path: The directory given by the user.
        kind: "run" or "sweep".
        runs: The complete runs.
        summary: One row per run: run_id, replicate, the parameters, and summary columns
            `<phase>/L<level>/<metric>` (the mean over the last episode of that phase).
        params: Names of the parameter columns in `summary`.
        notes: Lines worth telling the user (e.g. failed runs left out).
    """

    path: Path
    kind: str
    runs: tuple[Run, ...]
    summary: pd.DataFrame
    params: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @cached_property
    def axes(self) -> tuple[str, ...]:
        """Parameters that take more than one value across the runs (the sweep axes), in sweep order.

        Each is a condition axis: runs that differ in any of them are never pooled.
        """
        return tuple(p for p in self.params if self.summary[p].nunique(dropna=True) > 1)

    @cached_property
    def shift(self) -> dict | None:
        """The shift analysis the runs' scenario declares (``axis``, ``axis_doc``, ``metrics``), if any."""
        for run in self.runs:
            shift = run.manifest.get("shift")
            if isinstance(shift, dict) and isinstance(shift.get("axis"), str):
                return shift
        return None

    @cached_property
    def metrics(self) -> dict[str, Metric]:
        """The metric registry of the runs (the union of what their manifests declare)."""
        merged: dict[str, Metric] = {}
        for run in self.runs:
            merged.update(run.metrics)
        return merged

    @cached_property
    def legend(self) -> Legend:
        """The tool policies the runs' manifests declare, in their order, with their colours."""
        colours: dict[str, str] = {}
        for run in self.runs:
            declared = run.manifest.get("tool_policies")
            for name, record in (declared.items() if isinstance(declared, dict) else ()):
                if isinstance(record, dict) and isinstance(record.get("colour"), str):
                    colours.setdefault(str(name), record["colour"])
        return Legend(tuple(colours), colours)

    def share_rows(self, table: pd.DataFrame) -> np.ndarray:
        """Which rows of a table hold a share in [0, 1], by their `metric` column and the registry."""
        shares = {name for name, metric in self.metrics.items() if metric.share}
        return table["metric"].isin(shares).to_numpy()

    @property
    def features(self) -> list[str]:
        """Feature names, in manifest order."""
        names = self.runs[0].manifest.get("features")
        return [str(n) for n in names] if isinstance(names, list) else []

    def conditions(self, axes: Sequence[str] | None = None) -> list[dict]:
        """The distinct combinations of axis values present, in reading order.

        Args:
            axes: The axes to combine (default: every axis, so each result is one condition).

        Returns:
            E.g. [{"selection": "generational"}, {"selection": "neutral"}]; [{}] without axes.
        """
        names = list(self.axes if axes is None else axes)
        if not names:
            return [{}]
        combos = {tuple(row) for row in self.summary[names].itertuples(index=False)}
        ordered = sorted(combos, key=lambda row: [self.legend.key(v) for v in row])
        return [dict(zip(names, row, strict=True)) for row in ordered]

    def pages(self, axes: Sequence[str] | None = None,
              per_page: int = MAX_CONDITIONS) -> list[Page]:
        """The conditions split over figures of at most `per_page` conditions each.

        The last axes (in sweep order) vary within a figure, as many as fit; the leading ones
        vary between figures. An axis with more values than fit is cut into consecutive runs.

        Args:
            axes: The axes whose combinations are the conditions (default: every axis; an
                analysis that puts one axis on the x-axis passes the others).
            per_page: The most conditions in one figure.

        Returns:
            One page per figure, in reading order.
        """
        names = list(self.axes if axes is None else axes)
        conditions = self.conditions(names)
        split = next(k for k in range(len(names) + 1)
                     if len(self.conditions(names[k:])) <= per_page)
        split = min(split, max(len(names) - 1, 0))
        outer = names[:split]
        groups: dict[tuple, list[dict]] = {}
        for condition in conditions:
            groups.setdefault(tuple(condition[a] for a in outer), []).append(condition)
        chunks = [(dict(zip(outer, key, strict=True)), members[i:i + per_page])
                  for key, members in groups.items() for i in range(0, len(members), per_page)]
        return [Page(fixed if len(chunks) > 1 else {}, members, i + 1, len(chunks), self.legend)
                for i, (fixed, members) in enumerate(chunks)]

    def runs_in(self, condition: dict) -> int:
        """How many runs a condition has."""
        mask = pd.Series(True, index=self.summary.index)
        for key, value in condition.items():
            mask &= self.summary[key] == value
        return int(mask.sum())

    def interval_note(self, shares: bool = False) -> str:
        """A caption clause saying what the interval is over."""
        if self.kind == "run":
            return "one run, so there is no interval over seeds"
        kind = ("the score interval for shares (quasi-binomial, stays in [0, 1])" if shares
                else "the t-interval")
        axes = f" (a condition is one value of each of {', '.join(self.axes)})" if self.axes else ""
        return (f"95% interval over the seeds of each condition{axes}, {kind}; "
                "n = seeds per point")

    def without_tables(self) -> Dataset:
        """The same dataset with runs that have read nothing yet: what a worker process is sent.

        The tables a run has read (its per-step series above all, about 6 MB a run in memory)
        are not copied; where the worker needs one, it reads it from the run's folder.
        """
        return replace(self, runs=tuple(replace(run) for run in self.runs))

    def representative(self) -> Run:
        """One run to draw when a figure can show only one (lineage, occupancy).

        Prefers a run in which tools were built and selection is on, then the lowest replicate.
        """
        def rank(row: pd.Series) -> tuple:
            tools = any(row.get(summary_key(phase, 2, "population"), 0) > 0 for phase in PHASES)
            return (not tools, row.get("selection") == "neutral", row["replicate"], str(row["run_id"]))

        best = min((row for _, row in self.summary.iterrows()), key=rank)
        return next(run for run in self.runs if run.run_id == str(best["run_id"]))
