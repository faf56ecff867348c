"""Printing summaries for people: per level and phase, the numbers that matter first.

Core Objects: format_summary, print_summary, format_sweep_summary.
"""

from __future__ import annotations

import math

import pandas as pd

from matryoshka.model.params import PARAMS

COLUMNS = ("population", "align_base_train", "align_base_deploy", "reached_exit", "reached_proxy")


def format_summary(summary: dict[str, float]) -> str:
    """A small fixed-width table of ``summary`` (keys ``phase/L<level>/metric``)."""
    rows = sorted({tuple(k.split("/")[:2]) for k in summary}, key=lambda r: (r[0] != "train", r))
    cols = [c for c in COLUMNS if any(k.endswith("/" + c) for k in summary)]
    lines = ["phase   level  " + "  ".join(f"{c:>17}" for c in cols)]
    for phase, level in rows:
        cells = []
        for c in cols:
            v = summary.get(f"{phase}/{level}/{c}", math.nan)
            cells.append(f"{v:>17.0f}" if c == "population" else f"{v:>17.3f}")
        lines.append(f"{phase:<7} {level:<6} " + "  ".join(cells))
    return "\n".join(lines)


def print_summary(summary: dict[str, float]) -> None:
    """Print ``format_summary`` (the last episode of each phase, means per level)."""
    print("summary (mean over the last episode of each phase):")
    print(format_summary(summary))


def format_sweep_summary(table: pd.DataFrame) -> str:
    """``format_summary`` of each condition of a sweep: the parameters that vary, means over seeds.

    Args:
        table: ``sweep.parquet`` as a DataFrame.
    """
    done = table[table["status"] == "complete"]
    axes = [c for c in done.columns if c in PARAMS and done[c].nunique() > 1]
    metrics = [c for c in done.columns if c.count("/") == 2]
    blocks = []
    for key, group in done.groupby(axes, sort=False) if axes else [((), done)]:
        key = key if isinstance(key, tuple) else (key,)
        title = ", ".join(f"{a}={v}" for a, v in zip(axes, key, strict=True)) or "all runs"
        means = group[metrics].mean()
        blocks.append(f"{title} ({len(group)} runs)\n" + format_summary(means.dropna().to_dict()))
    return "\n\n".join(blocks)
