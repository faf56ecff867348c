"""Drift over generations: each level's alignment with the base objective and with its parent.

Reads `levels.parquet` of every run (training phase), averages each generation's steps (each
step, for steady-state runs whose generation number does not advance), and
plots the mean over runs with a 95% interval, one line per condition (the neutral-selection
baseline dotted), one row per level.

Core objects: analyse.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.ticker import MaxNLocator

from matryoshka.analysis.dataset import Dataset
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import across_runs, endpoints, level_name, select, time_axis
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import (
    condition_handles,
    condition_styles,
    mark_empty,
    new_figure,
    plot_band,
)

NAME = "drift"
TITLE = "Drift over generations"
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
    hue = list(data.hue_axes)
    table = summarise(series, [*hue, "level", "metric", x])
    levels = sorted(table["level"].unique())
    conditions = data.conditions()
    styles = condition_styles(conditions, "this run" if data.kind == "run" else "all runs")
    fig, axes = new_figure(len(levels), len(METRICS), sharex=True, sharey=True)
    for i, level in enumerate(levels):
        for j, (metric, label) in enumerate(METRICS.items()):
            ax = axes[i, j]
            for condition, style in zip(conditions, styles, strict=True):
                rows = select(table, condition, level=level, metric=metric)
                plot_band(ax, rows[x], rows["mean"], rows["ci_low"], rows["ci_high"],
                          **style)
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
    handles = condition_handles(styles, [data.runs_in(c) for c in conditions])
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3))
    fig.suptitle(f"Objective drift over {x}s, per level (training phase)")
    caption = ("Correlation of each agent's utility with the base objective's and with its "
               "parent's (organisms) or builder's (tools), over reference cells of the training "
               f"and of the deployment world; mean over the steps of each {x}, then over "
               f"runs; {data.pooling_note()}. A fall from 1 is drift; the dotted neutral-selection"
               " line, where present, is the drift expected without selection.")
    display = endpoints(table, [*hue, "level", "metric"], x)
    return write_section(out, NAME, TITLE, caption, fig, table, display=display)


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
