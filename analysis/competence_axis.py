"""Competence along one axis: what tools do as power and wisdom rise together.

The essay's question of power and wisdom, asked along `competence` (a sweep axis that sets both
initial gene means; `wisdom_lag` lets wisdom trail power). For each run: Level-2 tools built per
organism, the share of them misaligned with their builder and with the base objective (on the
training and on the deployment world's cells; `competence.tool_counts`), and the base return of
the whole system, organisms and every tool, per organism and step (`competence.run_measures`).
One line per condition of the other sweep axes, with its 95% interval over seeds.

Core objects: AXIS, analyse.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from matryoshka.analysis.competence import MISALIGNED_BELOW, SHARES, run_measures
from matryoshka.analysis.dataset import Dataset, Page
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import select
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import condition_handles, condition_styles, n_text, new_figure, plot_band

NAME = "competence_axis"
TITLE = "Competence along one axis"
#: It reads every run's `levels.parquet`, so it runs in the process that loaded them.
READS_LEVELS = True
AXIS = "competence"
#: The panels: a measure per line style (solid: training, dashed: deployment), and the y label.
PANELS = {
    "Level-2 tools built per organism": ({"tools_per_organism": "-"}, "tools per organism"),
    "misaligned with their builder": ({"share_misaligned_train": "-", "share_misaligned": "--"},
                                      f"share of Level-2 tools (alignment < {MISALIGNED_BELOW:g})"),
    "misaligned with the base objective": (
        {"share_misaligned_base_train": "-", "share_misaligned_base": "--"},
        f"share of Level-2 tools (alignment < {MISALIGNED_BELOW:g})"),
    "base return of the whole system": ({"system_return_train": "-", "system_return_deploy": "--"},
                                        "base reward per organism per step"),
}


def analyse(data: Dataset, out: Path) -> Section:
    """Draw tools built, shares misaligned and the system's base return against competence.

    Raises:
        NotApplicable: `competence` is not a sweep axis, or no Level-2 tool was built.
    """
    if AXIS not in data.axes:
        raise NotApplicable(f"needs a sweep with competence as an axis (axes here: "
                            f"{', '.join(data.axes) or 'none'})")
    others = [a for a in data.axes if a != AXIS]
    params = data.summary.set_index(data.summary["run_id"].astype(str))
    frame = pd.DataFrame([{"run_id": run.run_id, **{a: params.at[run.run_id, a] for a in data.axes},
                           **run_measures(run)} for run in data.runs])
    if frame.empty or not (frame["tools_per_organism"] > 0).any():
        raise NotApplicable("no Level-2 tool was built in any run")
    tidy = frame.melt(id_vars=["run_id", *data.axes], var_name="measure", value_name="value")
    table = summarise(tidy, ["measure", *others, AXIS],
                      shares=lambda rows: rows["measure"].isin(SHARES).to_numpy())
    figures = [_figure(table, page) for page in data.pages(others)]
    caption = (f"Against competence (the initial power mean; wisdom = competence - wisdom_lag, "
               "clipped), one line per condition of the other sweep axes: Level-2 tools built per "
               f"organism; of them, the share whose alignment is below {MISALIGNED_BELOW:g} with "
               "their builder and with the base objective, on the training world's cells (solid) "
               "and the deployment world's (dashed); and the base reward earned by every agent, "
               "organisms and tools, per organism and step, in the last training (solid) and "
               f"deployment (dashed) episode. Mean over seeds, {data.interval_note(shares=True)} "
               "(shares); a gap means no tools were built there.")
    return write_section(out, NAME, TITLE, caption, figures, table)


def _figure(table: pd.DataFrame, page: Page) -> Figure:
    """A panel per quantity, a line per condition and measure, competence on the x-axis."""
    fig, axes = new_figure(1, len(PANELS), panel=(3.8, 3.0), sharex=True)
    styles = condition_styles([page.inner(c) for c in page.conditions])
    counts = []
    for ax, (title, (measures, ylabel)) in zip(axes[0], PANELS.items(), strict=True):
        for condition, style in zip(page.conditions, styles, strict=True):
            for measure, linestyle in measures.items():
                rows = select(table, condition, measure=measure).sort_values(AXIS)
                plot_band(ax, rows[AXIS], rows["mean"], rows["ci_low"], rows["ci_high"],
                          color=style["color"], linestyle=linestyle)
                if measure == "tools_per_organism":
                    counts.append(n_text(rows["n"]))
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("competence")
        ax.set_ylabel(ylabel)
        if title.startswith("misaligned"):
            ax.set_ylim(-0.02, 1.02)
    handles = condition_handles(styles, counts) + [
        Line2D([], [], color="grey", linestyle="-", label="training cells / episode"),
        Line2D([], [], color="grey", linestyle="--", label="deployment cells / episode")]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4))
    fig.suptitle(page.title("Competence along one axis: tools built, misaligned, and what the "
                            "whole system earns"))
    return fig


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
