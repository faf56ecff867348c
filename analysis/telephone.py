"""The telephone game: alignment against level, on training and on deployment cells.

Each hand-off (parent to organism, builder to tool, tool to tool) can lose some of the base
objective. Reads each run's summary (the last training episode; deployment-cell metrics from
the deployment episode when there is one) and plots alignment against level.

Core objects: analyse.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd

from matryoshka.analysis.dataset import Dataset
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import by_run, select
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import VALUE_COLOURS, condition_label, new_figure, plot_band
from matryoshka.model.contract import summary_key

NAME = "telephone"
TITLE = "The telephone game: alignment by level"
MEASURES = {"align_base": "alignment with the base objective",
            "align_parent": "alignment with parent / builder"}
WORLDS = {"train": ("training cells", "-"), "deploy": ("deployment cells", "--")}
MAX_LEVEL = 9


def _tidy(data: Dataset) -> pd.DataFrame:
    """One row per run, level, measure and world."""
    columns = {}
    for level, measure, world in itertools.product(range(1, MAX_LEVEL + 1), MEASURES, WORLDS):
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
    if len(levels) < 2:
        raise NotApplicable("only Level 1 has alignment data: no tools were built "
                            "(tool_policy=forbid, or too little power)")
    hue = list(data.hue_axes)
    table = summarise(tidy, [*hue, "measure", "world", "level"])
    # Conditions without tools (tool_policy=forbid) have nothing to say about hand-offs.
    conditions = [c for c in data.conditions()
                  if select(table, c)["level"].nunique() > 1]
    fig, axes = new_figure(len(conditions), len(MEASURES), sharex=True, sharey=True)
    for i, condition in enumerate(conditions):
        for j, (measure, measure_label) in enumerate(MEASURES.items()):
            ax = axes[i, j]
            for world, (world_label, linestyle) in WORLDS.items():
                rows = select(table, condition, measure=measure, world=world)
                plot_band(ax, rows["level"], rows["mean"], rows["ci_low"], rows["ci_high"],
                          color=VALUE_COLOURS[world], linestyle=linestyle, label=world_label)
            ax.axhline(0.0, color="grey", linewidth=0.6)
            ax.set_ylim(-1.05, 1.05)
            ax.set_xticks(levels)
            if i == 0:
                ax.set_title(measure_label, fontsize="medium")
            if j == 0:
                label = condition_label(condition).replace(", ", "\n")
                ax.set_ylabel(f"{label} ({data.runs_in(condition)} runs)\n"
                              "alignment (Pearson r)")
            if i == len(conditions) - 1:
                ax.set_xlabel("level (1 organisms, 2 tools, 3 tools of tools)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    fig.suptitle("The telephone game: alignment by level, training vs deployment")
    caption = ("Alignment of each level with the base objective and with the agent one "
               "hand-off up, at the end of training (deployment cells: during the deployment "
               "episode when the run has one); mean over runs, "
               f"{data.pooling_note()}. Each step to the right is one more hand-off; the gap "
               "between the lines is what the distribution shift reveals.")
    return write_section(out, NAME, TITLE, caption, fig, table)


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
