"""The dataset the analyses share: a lone run or the complete runs of a sweep.

Core objects: HUE_AXES, VALUE_ORDER, Dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from matryoshka.model.contract import Metric

if TYPE_CHECKING:
    from matryoshka.analysis.io import Run

#: Parameters whose values name the conditions compared in headline plots (colour / line style).
HUE_AXES = ("selection", "tool_policy")
#: Reading order of known condition values (baseline-like values last); others sort by name.
VALUE_ORDER = {v: (0, str(i)) for i, v in enumerate(
    ("generational", "steady_state", "neutral", "free", "audit", "forbid"))}


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
        """Parameters that take more than one value across the runs (the sweep axes)."""
        return tuple(p for p in self.params if self.summary[p].nunique(dropna=True) > 1)

    @cached_property
    def hue_axes(self) -> tuple[str, ...]:
        """The sweep axes that name compared conditions (selection, tool_policy)."""
        return tuple(a for a in HUE_AXES if a in self.axes)

    @property
    def is_maze(self) -> bool:
        """Whether the runs are of a maze scenario with a world layout in the manifest."""
        run = self.runs[0]
        return run.scenario.startswith("maze") and run.world is not None

    @cached_property
    def metrics(self) -> dict[str, Metric]:
        """The metric registry of the runs (the union of what their manifests declare)."""
        merged: dict[str, Metric] = {}
        for run in self.runs:
            merged.update(run.metrics)
        return merged

    @property
    def features(self) -> list[str]:
        """Feature names, in manifest order."""
        names = self.runs[0].manifest.get("features")
        return [str(n) for n in names] if isinstance(names, list) else []

    def conditions(self) -> list[dict]:
        """The distinct combinations of the hue axes in reading order, e.g. [{"selection": "neutral"}]."""
        hue = list(self.hue_axes)
        if not hue:
            return [{}]
        combos = {tuple(row) for row in self.summary[hue].itertuples(index=False)}
        ordered = sorted(combos, key=lambda row: [VALUE_ORDER.get(v, (1, str(v))) for v in row])
        return [dict(zip(hue, row, strict=True)) for row in ordered]

    def runs_in(self, condition: dict) -> int:
        """How many runs a condition has."""
        mask = pd.Series(True, index=self.summary.index)
        for key, value in condition.items():
            mask &= self.summary[key] == value
        return int(mask.sum())

    @cached_property
    def pooled_axes(self) -> tuple[str, ...]:
        """The sweep axes that headline plots pool over (all but the hue axes)."""
        return tuple(a for a in self.axes if a not in self.hue_axes)

    def pooling_note(self) -> str:
        """A caption clause saying what the interval is over."""
        if self.kind == "run":
            return "one run, so there is no interval over seeds"
        over = f", pooled over {', '.join(self.pooled_axes)}" if self.pooled_axes else ""
        return f"shaded: 95% t-interval over the runs (seeds) of each condition{over}"

    def representative(self) -> Run:
        """One run to draw when a figure can show only one (lineage, occupancy).

        Prefers a run with tools allowed and selection on, then the lowest replicate.
        """
        def rank(row: pd.Series) -> tuple:
            return (row.get("tool_policy") == "forbid", row.get("selection") == "neutral",
                    row["replicate"], str(row["run_id"]))

        best = min((row for _, row in self.summary.iterrows()), key=rank)
        return next(run for run in self.runs if run.run_id == str(best["run_id"]))
