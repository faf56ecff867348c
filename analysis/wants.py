"""What each level wants: the mean objective weight on each named feature, over generations.

Reads the `w_<feature>` metrics of every run's `levels.parquet` (training phase); one panel
per level (columns) and condition (rows), one line per feature.

Core objects: analyse.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.ticker import MaxNLocator

from matryoshka.analysis.dataset import Dataset
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import across_runs, endpoints, level_name, select, time_axis
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import CYCLE, condition_label, mark_empty, new_figure, plot_band

NAME = "wants"
TITLE = "What each level wants"


def analyse(data: Dataset, out: Path) -> Section:
    """Plot the mean weight per feature against generation, per level and condition.

    Raises:
        NotApplicable: No `w_<feature>` metric in the training phase.
    """
    x = time_axis(data)
    series = across_runs(data, "train", x=x)
    series = series[series["metric"].str.startswith("w_")]
    if series.empty:
        raise NotApplicable("levels.parquet has no w_<feature> metrics in the training phase")
    named = [f"w_{f}" for f in data.features]
    weights = [w for w in named if w in set(series["metric"])] + sorted(
        set(series["metric"]) - set(named))
    hue = list(data.hue_axes)
    table = summarise(series, [*hue, "level", "metric", x])
    levels = sorted(table["level"].unique())
    conditions = data.conditions()
    fig, axes = new_figure(len(conditions), len(levels), sharex=True, sharey=True)
    for i, condition in enumerate(conditions):
        for j, level in enumerate(levels):
            ax = axes[i, j]
            for k, weight in enumerate(weights):
                rows = select(table, condition, level=level, metric=weight)
                plot_band(ax, rows[x], rows["mean"], rows["ci_low"], rows["ci_high"],
                          color=CYCLE[k % len(CYCLE)], label=weight.removeprefix("w_"))
            mark_empty(ax)
            ax.axhline(0.0, color="grey", linewidth=0.6)
            if i == 0:
                ax.set_title(f"Level {level}: {level_name(level)}", fontsize="medium")
            if j == 0:
                label = condition_label(condition).replace(", ", "\n")
                ax.set_ylabel(f"{label}\nmean objective weight" if hue
                              else "mean objective weight")
            if i == len(conditions) - 1:
                ax.set_xlabel(x)
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, title="feature", loc="outside lower center",
               ncols=min(len(weights), 5))
    fig.suptitle(f"What each level wants: mean weight on each feature per {x} (training phase)")
    caption = ("Mean objective weight (dimensionless) that agents of each level put on each "
               "feature, averaged over "
               f"the steps of each {x}, then over runs; {data.pooling_note()}. A level "
               "that drifts moves weight from the rewarded feature to one that coincided with "
               "it in training.")
    display = endpoints(table, [*hue, "level", "metric"], x)
    return write_section(out, NAME, TITLE, caption, fig, table, display=display)


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
