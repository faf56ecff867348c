"""Per-run numbers derived from `levels.parquet`: per-generation series and run summaries.

Core objects: per_generation, run_summary, summary_column, across_runs, by_run, select.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from analysis.io import Dataset

LEVEL_NAMES = {1: "organisms", 2: "tools", 3: "tools of tools"}


def level_name(level: int) -> str:
    """A reader's name for a level: 1 organisms, 2 tools, 3 tools of tools."""
    return LEVEL_NAMES.get(int(level), f"level-{int(level)} tools")


def per_generation(levels: pd.DataFrame, phase: str,
                   metrics: Iterable[str] | None = None) -> pd.DataFrame:
    """The mean of each metric over the steps of each generation, per level.

    Args:
        levels: One run's `levels.parquet`.
        phase: "train" or "deploy".
        metrics: Metrics to keep (all when None).

    Returns:
        Columns level, metric, generation, value.
    """
    rows = levels[levels["phase"] == phase]
    if metrics is not None:
        rows = rows[rows["metric"].isin(list(metrics))]
    out = rows.groupby(["level", "metric", "generation"], as_index=False)["mean"].mean()
    return out.rename(columns={"mean": "value"})


def summary_column(phase: str, level: int, metric: str) -> str:
    """The sweep summary column name, e.g. `deploy/L1/reached_exit`."""
    return f"{phase}/L{int(level)}/{metric}"


def run_summary(levels: pd.DataFrame) -> dict[str, float]:
    """Each metric's mean over the last episode (last generation) of each phase.

    Args:
        levels: One run's `levels.parquet`.

    Returns:
        A mapping `<phase>/L<level>/<metric>` -> value, as in `sweep.parquet`.
    """
    out: dict[str, float] = {}
    for phase, rows in levels.groupby("phase"):
        last = rows[rows["generation"] == rows["generation"].max()]
        for (level, metric), value in last.groupby(["level", "metric"])["mean"].mean().items():
            out[summary_column(str(phase), level, metric)] = float(value)
    return out


def across_runs(data: Dataset, phase: str, metrics: Iterable[str] | None = None) -> pd.DataFrame:
    """`per_generation` for every run, tagged with run_id and the dataset's hue axes.

    Returns:
        Columns run_id, <hue axes>, level, metric, generation, value.
    """
    frames = [per_generation(run.levels, phase, metrics).assign(run_id=run.run_id)
              for run in data.runs]
    series = pd.concat(frames, ignore_index=True)
    tags = data.summary[["run_id", *data.hue_axes]].astype({"run_id": str})
    return series.merge(tags, on="run_id", how="left")


def by_run(data: Dataset, columns: dict[str, Sequence[str]]) -> pd.DataFrame:
    """Per-run summary values in tidy form, tagged with every parameter.

    Args:
        data: The dataset.
        columns: For each output label, candidate summary columns in order of preference
            (the first one present is used).

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
            frame["label"] = label
            frame["value"] = data.summary[found].astype(float)
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*keep, "label", "value"])
    return pd.concat(frames, ignore_index=True)


def select(frame: pd.DataFrame, condition: dict, **equal: object) -> pd.DataFrame:
    """The rows of `frame` matching a condition and further column == value filters."""
    mask = pd.Series(True, index=frame.index)
    for key, value in {**condition, **equal}.items():
        mask &= frame[key] == value
    return frame[mask]
