"""The telephone game: alignment against level, on training and on deployment cells.

Each hand-off (true objective to base objective at Level 0, parent to organism, builder to
tool, tool to tool) can lose some of what is wanted. Reads each run's summary (the last training
episode; deployment-cell metrics from the deployment episode when there is one) and plots
alignment against level: with the true objective, with the base objective (Level 0 is the base
objective itself), with the agent one hand-off up, and with the organism at the top of the builder chain
(`align_root_*`), which adds up what every hand-off since Level 1 lost.

Core objects: analyse.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from matryoshka.analysis.dataset import Dataset, Page
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import by_run, select
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import VALUE_COLOURS, new_figure, plot_band, row_label
from matryoshka.model.contract import summary_key

NAME = "telephone"
TITLE = "The telephone game: alignment by level"
MEASURES = {"align_true": "alignment with the true objective",
            "align_base": "alignment with the base objective",
            "align_parent": "alignment with parent / builder",
            "align_root": "cumulative: alignment with Level 1"}
WORLDS = {"train": ("training cells", "-"), "deploy": ("deployment cells", "--")}
MAX_LEVEL = 9


def _tidy(data: Dataset) -> pd.DataFrame:
    """One row per run, level, measure and world."""
    columns = {}
    for level, measure, world in itertools.product(range(MAX_LEVEL + 1), MEASURES, WORLDS):
        phases = ("deploy", "train") if world == "deploy" else ("train",)
        columns[(level, measure, world)] = [summary_key(phase, level, f"{measure}_{world}")
                                            for phase in phases]
    frame = by_run(data, columns)
    keys = pd.DataFrame(frame["label"].tolist(), columns=["level", "measure", "world"],
                        index=frame.index)
    return pd.concat([frame.drop(columns="label"), keys], axis=1)


def analyse(data: Dataset, out: Path) -> Section:
    """Plot alignment against level, one panel per measure and condition.

    Raises:
        NotApplicable: Fewer than two levels (no tools were built).
    """
    tidy = _tidy(data).dropna(subset=["value"])
    levels = sorted(tidy["level"].unique())
    if len([level for level in levels if level >= 1]) < 2:
        raise NotApplicable("only Level 1 has alignment data: no tools were built "
                            "(a tool policy that forbids them, or too little power)")
    axes = list(data.axes)
    table = summarise(tidy, [*axes, "measure", "world", "level"])
    # Conditions without tools have nothing to say about hand-offs.
    shown = [c for c in data.conditions() if select(table, c).query("level >= 1")["level"].nunique() > 1]
    pages = [page for page in data.pages() if any(c in shown for c in page.conditions)]
    figures = [_figure(table, page, [c for c in page.conditions if c in shown], levels)
               for page in pages]
    caption = ("Alignment of each level with the true objective (what is wanted), with the base "
               "objective (what selection sees), with the agent one hand-off "
               "up, and with the organism (Level 1) at the top of its builder chain (1 at Level "
               "1 by definition), at the end of training (deployment cells: during the "
               f"deployment episode when the run has one); mean over seeds, {data.interval_note()}"
               ". Level 0 is the base objective itself: its alignment with the true objective is "
               "base_fidelity (1 when the two are the same). "
               "Each step to the right is one more hand-off: the right-hand column is what all "
               "hand-offs since Level 1 lost together; the gap between the lines is what the "
               "distribution shift reveals.")
    return write_section(out, NAME, TITLE, caption, figures, table)


def _figure(table: pd.DataFrame, page: Page, conditions: list[dict], levels: list) -> Figure:
    """One figure: a row per condition, a column per measure, a line per world."""
    fig, axes = new_figure(len(conditions), len(MEASURES), sharex=True, sharey=True)
    for i, condition in enumerate(conditions):
        counts = []
        for j, (measure, measure_label) in enumerate(MEASURES.items()):
            ax = axes[i, j]
            for world, (world_label, linestyle) in WORLDS.items():
                rows = select(table, condition, measure=measure, world=world)
                plot_band(ax, rows["level"], rows["mean"], rows["ci_low"], rows["ci_high"],
                          color=VALUE_COLOURS[world], linestyle=linestyle, label=world_label)
                counts += rows["n"].tolist()
            ax.axhline(0.0, color="grey", linewidth=0.6)
            ax.set_ylim(-1.05, 1.05)
            ax.set_xticks(levels)
            if i == 0:
                ax.set_title(measure_label, fontsize="medium")
            if i == len(conditions) - 1:
                ax.set_xlabel("level", fontsize="small")
        axes[i, 0].set_ylabel(row_label(page.inner(condition), counts, "alignment (Pearson r)"))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    fig.suptitle(page.title("The telephone game: alignment by level (0 the base objective, 1 organisms, "
                            "2 tools, 3 tools of tools), training vs deployment"))
    return fig


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
