"""Drift over generations: each level's alignment with the base objective and with its parent.

Reads `levels.parquet` of every run (training phase), averages each generation's steps (each
step, for steady-state runs whose generation number does not advance), and
plots the mean over seeds with a 95% interval, one line per condition (the neutral-selection
baseline dotted), one row per level; conditions that do not fit one figure go on to the next.

Core objects: analyse.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from matryoshka.analysis.dataset import Dataset, Page
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import across_runs, endpoints, level_name, select, time_axis
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import (
    condition_handles,
    condition_styles,
    mark_empty,
    n_text,
    new_figure,
    plot_band,
)

NAME = "drift"
TITLE = "Drift over generations"
#: It reads every run's `levels.parquet`, so it runs in the process that loaded them.
READS_LEVELS = True
METRICS = {
    "align_base_train": "with the base objective\n(training cells)",
    "align_base_deploy": "with the base objective\n(deployment cells)",
    "align_parent_train": "with parent / builder\n(training cells)",
    "align_parent_deploy": "with parent / builder\n(deployment cells)",
}


def analyse(data: Dataset, out: Path) -> Section:
    """Plot alignment against generation per level and condition.

    Raises:
        NotApplicable: No alignment metric in the training phase.
    """
    x = time_axis(data)
    series = across_runs(data, "train", METRICS, x)
    if series.empty:
        raise NotApplicable("levels.parquet has no align_* metrics in the training phase")
    axes = list(data.axes)
    table = summarise(series, [*axes, "level", "metric", x])
    levels = sorted(table["level"].unique())
    figures = [_figure(table, page, levels, x, data.kind) for page in data.pages()]
    caption = ("Correlation of each agent's utility with the base objective's and with its "
               "parent's (organisms) or builder's (tools), over reference cells of the training "
               f"and of the deployment world; mean over the steps of each {x}, then over "
               f"seeds; {data.interval_note()}. A fall from 1 is drift; the dotted "
               "neutral-selection line, where present, is the drift expected without selection.")
    display = endpoints(table, [*axes, "level", "metric"], x)
    return write_section(out, NAME, TITLE, caption, figures, table, display=display)


def _figure(table: pd.DataFrame, page: Page, levels: list, x: str, kind: str) -> Figure:
    """One figure: a row per level, a column per metric, a line per condition of the page."""
    styles = condition_styles([page.inner(c) for c in page.conditions],
                              "this run" if kind == "run" else "all runs", page.legend.colours)
    fig, axes = new_figure(len(levels), len(METRICS), sharex=True, sharey=True)
    counts: list[list[float]] = [[] for _ in page.conditions]
    for i, level in enumerate(levels):
        for j, (metric, label) in enumerate(METRICS.items()):
            ax = axes[i, j]
            for k, (condition, style) in enumerate(zip(page.conditions, styles, strict=True)):
                rows = select(table, condition, level=level, metric=metric)
                plot_band(ax, rows[x], rows["mean"], rows["ci_low"], rows["ci_high"], **style)
                counts[k] += rows["n"].tolist()
            mark_empty(ax)
            ax.axhline(0.0, color="grey", linewidth=0.6)
            ax.set_ylim(-1.05, 1.05)
            if i == 0:
                ax.set_title(f"alignment {label}", fontsize="medium")
            if j == 0:
                ax.set_ylabel(f"Level {level}: {level_name(level)}\nalignment (Pearson r)")
            if i == len(levels) - 1:
                ax.set_xlabel(x)
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles = condition_handles(styles, [n_text(c) for c in counts])
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3))
    fig.suptitle(page.title(f"Objective drift over {x}s, per level (training phase)"))
    return fig


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
