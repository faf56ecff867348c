"""Per-run numbers derived from `levels.parquet` and the run summaries, in tidy form.

Core objects: per_generation, time_axis, across_runs, by_run, select, endpoints.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matryoshka.analysis.stats import format_ci

if TYPE_CHECKING:
    from matryoshka.analysis.dataset import Dataset

LEVEL_NAMES = {1: "organisms", 2: "tools", 3: "tools of tools"}


def level_name(level: int) -> str:
    """A reader's name for a level: 1 organisms, 2 tools, 3 tools of tools."""
    return LEVEL_NAMES.get(int(level), f"level-{int(level)} tools")


def per_generation(levels: pd.DataFrame, phase: str, metrics: Iterable[str] | None = None,
                   x: str = "generation") -> pd.DataFrame:
    """The mean of each metric over the steps of each generation (or per step), per level.

    Args:
        levels: One run's `levels.parquet`.
        phase: "train" or "deploy".
        metrics: Metrics to keep (all when None).
        x: "generation", or "step" for runs whose generations do not advance.

    Returns:
        Columns level, metric, <x>, value.
    """
    rows = levels[levels["phase"] == phase]
    if metrics is not None:
        rows = rows[rows["metric"].isin(list(metrics))]
    out = rows.groupby(["level", "metric", x], as_index=False)["mean"].mean()
    return out.rename(columns={"mean": "value"})


def time_axis(data: Dataset) -> str:
    """"generation" when some run's training phase spans generations, else "step".

    Steady-state runs record one generation number throughout; their drift is over steps.
    """
    for run in data.runs:
        levels = run.levels
        if levels.loc[levels["phase"] == "train", "generation"].nunique() > 1:
            return "generation"
    return "step"


def across_runs(data: Dataset, phase: str, metrics: Iterable[str] | None = None,
                x: str = "generation") -> pd.DataFrame:
    """`per_generation` for every run, tagged with run_id and the dataset's axes.

    Returns:
        Columns run_id, <axes>, level, metric, <x>, value.
    """
    keep = None if metrics is None else list(metrics)
    frames = []
    for run in data.runs:
        levels = run.levels
        mask = (levels["phase"] == phase).to_numpy()  # compared as Arrow strings, not Python objects
        if keep is not None:
            mask = mask & levels["metric"].isin(keep).to_numpy()
        frames.append(levels.loc[mask, ["level", "metric", x, "mean"]].assign(run_id=run.run_id))
    rows = pd.concat(frames, ignore_index=True)
    series = rows.groupby(["run_id", "level", "metric", x], as_index=False)["mean"].mean()
    series = series.rename(columns={"mean": "value"})
    tags = data.summary[["run_id", *data.axes]].astype({"run_id": str})
    return series.merge(tags, on="run_id", how="left")


def by_run(data: Dataset, columns: dict[Hashable, Sequence[str]]) -> pd.DataFrame:
    """Per-run summary values in tidy form, tagged with every parameter.

    Args:
        data: The dataset.
        columns: For each output label (any hashable, e.g. a tuple), candidate summary
            columns in order of preference (the first one present is used).

    Returns:
        Columns run_id, replicate, <parameters>, label, value; labels with no column present
        are left out.
    """
    keep = ["run_id", "replicate", *data.params]
    frames = []
    for label, candidates in columns.items():
        found = next((c for c in candidates if c in data.summary.columns), None)
        if found is not None:
            frame = data.summary[keep].copy()
            frame["label"] = [label] * len(frame)
            frame["value"] = data.summary[found].astype(float)
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*keep, "label", "value"])
    return pd.concat(frames, ignore_index=True)


def select(frame: pd.DataFrame, condition: dict, **equal: object) -> pd.DataFrame:
    """The rows of `frame` matching a condition and further column == value filters."""
    mask = np.ones(len(frame), dtype=bool)
    for key, value in {**condition, **equal}.items():
        mask &= frame[key].to_numpy() == value
    return frame[mask]


def endpoints(table: pd.DataFrame, by: Sequence[str], x: str = "generation") -> pd.DataFrame:
    """A compact view of summarised series: the first and last point of each, and the change.

    Args:
        table: Output of `stats.summarise` with an `x` column among its keys.
        by: The series' key columns (all keys but `x`).
        x: The ordering column.

    Returns:
        One row per series: the keys, first/last x, `mean ± half-width` at both, and the change
        of the mean.
    """
    rows = []
    for key, group in table.sort_values(x).groupby(list(by), sort=True):
        first, last = group.iloc[0], group.iloc[-1]
        rows.append({**dict(zip(by, key, strict=True)),
                     f"first {x}": first[x], "first": format_ci(*first[["mean", "ci_low",
                                                                        "ci_high"]]),
                     f"last {x}": last[x], "last": format_ci(*last[["mean", "ci_low",
                                                                     "ci_high"]]),
                     "change": f"{last['mean'] - first['mean']:+.3g}"})
    return pd.DataFrame(rows)
