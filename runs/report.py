"""Printing a run's summary for people: per level and phase, the numbers that matter first.

Core Objects: print_summary.
"""

from __future__ import annotations

import math

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
