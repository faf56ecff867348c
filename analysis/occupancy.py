"""Occupancy: where organisms and tools spend their time, training vs deployment.

Reads `occupancy.parquet` and the world layout in `manifest.json` of one run; one heatmap per
level (rows) and phase (columns) of the share of agent-steps spent on each cell, with the walls
and the scenario's marked cells (in the maze: the exit, the landmark and the origin) of that
phase, in the colours the scenario declares.

Core objects: occupancy_grid, analyse.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from matryoshka.analysis.checks import mark_names
from matryoshka.analysis.dataset import Dataset
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import level_name
from matryoshka.analysis.style import CYCLE, SEQUENTIAL_CMAP, new_figure
from matryoshka.model.contract import PHASE_NAMES

NAME = "occupancy"
TITLE = "Occupancy"
#: Markers of the marked cells, in the scenario's order; each next one is drawn smaller on top, so
#: marks that share a cell (the maze's training exit and landmark) all stay visible.
MARKERS = ("o", "X", "s", "D", "P", "*")
MARK_SIZES = (15, 11, 8, 6)


def occupancy_grid(visits: pd.DataFrame, width: int, height: int) -> np.ndarray:
    """Share of agent-steps (in %) spent on each cell, indexed [y, x].

    Args:
        visits: Columns x, y, visits for one level and phase.
        width: Grid width in cells.
        height: Grid height in cells.

    Returns:
        A (height, width) array summing to 100 (all zeros when there were no visits).
    """
    grid = np.zeros((height, width))
    np.add.at(grid, (visits["y"].to_numpy(int), visits["x"].to_numpy(int)),
              visits["visits"].to_numpy(float))
    total = grid.sum()
    return grid * 100.0 / total if total > 0 else grid


def _marks(world: dict) -> dict[str, str]:
    """The scenario's marked cells and their colours (runs without declared colours: the cycle)."""
    declared = world.get("marks")
    if isinstance(declared, dict):
        return {str(k): str(v) for k, v in declared.items()}
    return {name: CYCLE[i % len(CYCLE)] for i, name in enumerate(mark_names(world))}


def analyse(data: Dataset, out: Path) -> Section:
    """Draw occupancy heatmaps per level and phase of the representative run.

    Raises:
        NotApplicable: The run has no world layout in its manifest, or no occupancy.parquet.
    """
    run = data.representative()
    if run.world is None:
        raise NotApplicable(f"{run.path / 'manifest.json'} has no world layout")
    visits = run.occupancy()
    if visits is None or visits.empty:
        raise NotApplicable(f"{run.path / 'occupancy.parquet'} is missing or empty")
    world = run.world or {}
    marks = _marks(world)
    width, height = int(world["width"]), int(world["height"])  # checked when loading
    levels = sorted(visits["level"].unique())
    phases = [p for p in PHASE_NAMES if p in set(visits["phase"])]
    grids = {(lv, ph): occupancy_grid(visits[(visits["level"] == lv) & (visits["phase"] == ph)],
                                      width, height) for lv in levels for ph in phases}
    positive = [g[g > 0] for g in grids.values() if (g > 0).any()]
    norm = LogNorm(min(p.min() for p in positive), max(p.max() for p in positive))
    walls = np.zeros((height, width))
    for x, y in world.get("walls") or []:
        walls[int(y), int(x)] = 1.0
    wall_cmap = ListedColormap(["#444444"])
    cmap = colormaps[SEQUENTIAL_CMAP].with_extremes(bad="white")
    fig, axes = new_figure(len(levels), len(phases), panel=(3.4, 3.2), sharex=True, sharey=True)
    image = None
    for i, level in enumerate(levels):
        for j, phase in enumerate(phases):
            ax = axes[i, j]
            grid = grids[(level, phase)]
            image = ax.imshow(np.ma.masked_less_equal(grid, 0), origin="lower", cmap=cmap,
                              norm=norm, interpolation="nearest")
            ax.imshow(np.ma.masked_equal(walls, 0), origin="lower", cmap=wall_cmap,
                      interpolation="nearest")
            for k, (name, colour) in enumerate(marks.items()):
                if world.get(f"{name}_{phase}") is not None:
                    ax.plot(*world[f"{name}_{phase}"], marker=MARKERS[k % len(MARKERS)], color=colour,
                            markersize=MARK_SIZES[min(k, len(MARK_SIZES) - 1)],
                            markeredgecolor="white", linestyle="none")
            ax.set_title(f"Level {level}: {level_name(level)}, {PHASE_NAMES[phase]}",
                         fontsize="medium")
            if i == len(levels) - 1:
                ax.set_xlabel("x (cells)")
            if j == 0:
                ax.set_ylabel("y (cells)")
    bar = fig.colorbar(image, ax=axes, label="share of agent-steps (%, log scale)", shrink=0.8)
    for axis_format in (bar.ax.yaxis.set_major_formatter, bar.ax.yaxis.set_minor_formatter):
        axis_format(FuncFormatter(lambda v, _: f"{v:g}"))
    handles = [Line2D([], [], marker=MARKERS[k % len(MARKERS)], color=colour, markeredgecolor="white",
                      markersize=10, linestyle="none", label=name)
               for k, (name, colour) in enumerate(marks.items())]
    handles.append(Line2D([], [], marker="s", color="#444444", linestyle="none", label="wall"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    fig.suptitle(f"Where agents spend their time: run {run.run_id}")
    table = pd.DataFrame([{"level": lv, "phase": ph, "agent_steps": int(
        visits[(visits["level"] == lv) & (visits["phase"] == ph)]["visits"].sum()),
        "cells_visited": int((g > 0).sum()), "max_cell_share_pct": float(g.max())}
        for (lv, ph), g in grids.items()])
    caption = ("Share of all agent-steps of a level and phase spent on each cell (log colour "
               "scale; white: never visited) in one run, with the scenario's marked cells where "
               "they stand in that phase. A population that learned a proxy keeps crowding the "
               "cells it learned in training after the shift.")
    return write_section(out, NAME, TITLE, caption, fig, table)


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
