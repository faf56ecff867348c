"""Printing summaries for people: per level and phase, the numbers that matter first.

Core Objects: format_summary, print_summary, extinction_line, format_sweep_summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from matryoshka.model.contract import (
    FINISHED,
    META_COLUMNS,
    PHASE_NAMES,
    PHASES,
    Metric,
    parse_summary_key,
    summary_key,
)


def format_summary(summary: Mapping[str, float], metrics: Mapping[str, Metric]) -> str:
    """A small fixed-width table of ``summary``: the registry's printed metrics, per phase and level.

    Args:
        summary: Values by summary key (``train/L1/population``).
        metrics: The run's metric registry.
    """
    parsed = {key: parse_summary_key(key) for key in summary}
    rows = sorted({(p[0], p[1]) for p in parsed.values() if p}, key=lambda r: (PHASES.index(r[0]), r[1]))
    present = {p[2] for p in parsed.values() if p}
    cols = [name for name, m in metrics.items() if m.printed and name in present]
    lines = ["phase   level  " + "  ".join(f"{c:>17}" for c in cols)]
    for phase, level in rows:
        cells = []
        for c in cols:
            v = summary.get(summary_key(phase, level, c), math.nan)
            cells.append(f"{v:>17.0f}" if c == "population" else f"{v:>17.3f}")
        lines.append(f"{phase:<7} L{level:<5} " + "  ".join(cells))
    return "\n".join(lines)


def print_summary(summary: Mapping[str, float], metrics: Mapping[str, Metric]) -> None:
    """Print ``format_summary`` (the last episode of each phase, per level)."""
    print("summary (last episode of each phase):")
    print(format_summary(summary, metrics))


def extinction_line(manifest: Mapping[str, Any]) -> str:
    """One line saying that a run's population died out, when, and what that leaves out."""
    ended = manifest["extinct_phase"]
    skipped = PHASES[PHASES.index(ended) + 1 :]
    never = f"; the {' and '.join(PHASE_NAMES[p] for p in skipped)} phase never came" if skipped else ""
    return (f"extinct: the population died out at step {manifest['extinct_at']} of "
            f"{manifest['config'].get('total_steps', manifest['steps'])}, in {PHASE_NAMES[ended]}{never}; "
            "its population counts as 0 from then on")  # fmt: skip


def format_sweep_summary(table: pd.DataFrame, metrics: Mapping[str, Metric]) -> str:
    """``format_summary`` of each condition of a sweep: the parameters that vary, means over seeds.

    Args:
        table: ``sweep.parquet`` as a DataFrame.
        metrics: The scenario's metric registry.
    """
    done = table[table["status"].isin(FINISHED)]
    values = [c for c in done.columns if parse_summary_key(c)]
    params = [c for c in done.columns if c not in META_COLUMNS and c not in values]
    axes = [c for c in params if done[c].nunique() > 1]
    blocks = []
    for key, group in done.groupby(axes, sort=False) if axes else [((), done)]:
        key = key if isinstance(key, tuple) else (key,)
        title = ", ".join(f"{a}={v}" for a, v in zip(axes, key, strict=True)) or "all runs"
        means = group[values].mean()
        blocks.append(f"{title} ({len(group)} runs)\n" + format_summary(means.dropna().to_dict(), metrics))
    return "\n\n".join(blocks)
