"""Maze occupancy: where organisms and tools spend their time, training vs deployment.

Reads `occupancy.parquet` and the maze layout in `manifest.json` of one run; one heatmap per
level (rows) and phase (columns) of the share of agent-steps spent on each cell, with walls,
exits and the landmark marked.

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

from matryoshka.analysis.dataset import Dataset
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import level_name
from matryoshka.analysis.style import OKABE_ITO, SEQUENTIAL_CMAP, new_figure
from matryoshka.model.contract import PHASE_NAMES

NAME = "occupancy"
TITLE = "Maze occupancy"
#: Manifest world key -> (marker, colour, legend label, marker size).
#: The landmark is drawn first and largest: in the maze it sits on the training exit.
MARKS = {"landmark": ("o", OKABE_ITO["orange"], "landmark", 15),
         "exit_train": ("X", OKABE_ITO["vermillion"], "training exit", 9),
         "exit_deploy": ("*", OKABE_ITO["sky_blue"], "deployment exit", 13)}


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


def analyse(data: Dataset, out: Path) -> Section:
    """Draw occupancy heatmaps per level and phase of the representative run.

    Raises:
        NotApplicable: Not a maze scenario, or the run wrote no occupancy.parquet.
    """
    if not data.is_maze:
        raise NotApplicable(f"scenario {data.runs[0].scenario} is not a maze with a world "
                            "layout in manifest.json")
    run = data.representative()
    visits = run.occupancy()
    if visits is None or visits.empty:
        raise NotApplicable(f"{run.path / 'occupancy.parquet'} is missing or empty")
    world = run.world or {}
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
            for key, (marker, colour, _, size) in MARKS.items():
                if world.get(key) is not None:
                    ax.plot(*world[key], marker=marker, color=colour, markersize=size,
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
    handles = [Line2D([], [], marker=m, color=c, markeredgecolor="white", markersize=10,
                      linestyle="none", label=label)
               for key, (m, c, label, _) in MARKS.items() if world.get(key) is not None]
    handles.append(Line2D([], [], marker="s", color="#444444", linestyle="none", label="wall"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    fig.suptitle(f"Where agents spend their time: run {run.run_id}")
    table = pd.DataFrame([{"level": lv, "phase": ph, "agent_steps": int(
        visits[(visits["level"] == lv) & (visits["phase"] == ph)]["visits"].sum()),
        "cells_visited": int((g > 0).sum()), "max_cell_share_pct": float(g.max())}
        for (lv, ph), g in grids.items()])
    caption = ("Share of all agent-steps of a level and phase spent on each cell (log colour "
               "scale; white: never visited) in one run. A population that learned the proxy "
               "keeps crowding the training exit's position in deployment instead of the moved "
               "exit.")
    return write_section(out, NAME, TITLE, caption, fig, table)


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
