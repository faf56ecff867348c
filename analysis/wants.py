"""What each level wants: the mean objective weight on each named feature, over generations.

Reads the `w_<feature>` metrics of every run's `levels.parquet` (training phase); one panel
per level (columns) and condition (rows), one line per feature; conditions that do not fit one
figure go on to the next.

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
from matryoshka.analysis.style import CYCLE, mark_empty, new_figure, plot_band, row_label

NAME = "wants"
TITLE = "What each level wants"
#: It reads every run's `levels.parquet`, so it runs in the process that loaded them.
READS_LEVELS = True


def analyse(data: Dataset, out: Path) -> Section:
    """Plot the mean weight per feature against generation, per level and condition.

    Raises:
        NotApplicable: No `w_<feature>` metric in the training phase.
    """
    x = time_axis(data)
    recorded = {str(m) for run in data.runs for m in run.levels["metric"].unique()}
    series = across_runs(data, "train", sorted(m for m in recorded if m.startswith("w_")), x)
    if series.empty:
        raise NotApplicable("levels.parquet has no w_<feature> metrics in the training phase")
    named = [f"w_{f}" for f in data.features]
    weights = [w for w in named if w in set(series["metric"])] + sorted(
        set(series["metric"]) - set(named))
    axes = list(data.axes)
    table = summarise(series, [*axes, "level", "metric", x])
    levels = sorted(table["level"].unique())
    figures = [_figure(table, page, levels, weights, x) for page in data.pages()]
    caption = ("Mean objective weight (dimensionless) that agents of each level put on each "
               f"feature, averaged over the steps of each {x}, then over seeds; "
               f"{data.interval_note()}. A level that drifts moves weight from the rewarded "
               "feature to one that coincided with it in training.")
    display = endpoints(table, [*axes, "level", "metric"], x)
    return write_section(out, NAME, TITLE, caption, figures, table, display=display)


def _figure(table: pd.DataFrame, page: Page, levels: list, weights: list[str], x: str) -> Figure:
    """One figure: a row per condition of the page, a column per level, a line per feature."""
    fig, axes = new_figure(len(page.conditions), len(levels), sharex=True, sharey=True)
    for i, condition in enumerate(page.conditions):
        counts = []
        for j, level in enumerate(levels):
            ax = axes[i, j]
            for k, weight in enumerate(weights):
                rows = select(table, condition, level=level, metric=weight)
                plot_band(ax, rows[x], rows["mean"], rows["ci_low"], rows["ci_high"],
                          color=CYCLE[k % len(CYCLE)], label=weight.removeprefix("w_"))
                counts += rows["n"].tolist()
            mark_empty(ax)
            ax.axhline(0.0, color="grey", linewidth=0.6)
            if i == 0:
                ax.set_title(f"Level {level}: {level_name(level)}", fontsize="medium")
            if i == len(page.conditions) - 1:
                ax.set_xlabel(x)
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[i, 0].set_ylabel(row_label(page.inner(condition), counts, "mean objective weight"))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, title="feature", loc="outside lower center",
               ncols=min(len(weights), 5))
    fig.suptitle(page.title(f"What each level wants: mean weight on each feature per {x} "
                            "(training phase)"))
    return fig


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
