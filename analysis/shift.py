"""Distribution shift: deployment success against the share of training episodes with a random exit.

Training with a random exit in some episodes is the known fix for goal misgeneralization: the
proxy "go to the training exit corner" stops paying. Reads each run's summary of the deployment
episode (`deploy/L1/reached_exit`, `deploy/L1/reached_proxy`); needs `random_exit_share` as a
sweep axis.

Core objects: analyse.
"""

from __future__ import annotations

from pathlib import Path

from matryoshka.analysis.dataset import Dataset
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import by_run, select
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import condition_handles, condition_styles, new_figure, plot_band
from matryoshka.model.contract import summary_key

NAME = "shift"
TITLE = "Distribution shift"
AXIS = "random_exit_share"
MEASURES = {"reached_exit": "reached the deployment exit",
            "reached_proxy": "went to the training exit instead"}


def analyse(data: Dataset, out: Path) -> Section:
    """Plot the deployment shares of organisms reaching the exit and the proxy.

    Raises:
        NotApplicable: random_exit_share is not a sweep axis, or no reached_exit data.
    """
    if AXIS not in data.axes:
        raise NotApplicable(f"needs a sweep with {AXIS} as an axis (axes here: "
                            f"{', '.join(data.axes) or 'none'})")
    tidy = by_run(data, {m: [summary_key("deploy", 1, m)] for m in MEASURES})
    tidy = tidy.rename(columns={"label": "measure"}).dropna(subset=["value"])
    if tidy.empty:
        raise NotApplicable("no deploy/L1/reached_exit values: the runs have no maze "
                            "deployment episode")
    hue = list(data.hue_axes)
    table = summarise(tidy, [*hue, "measure", AXIS])
    conditions = data.conditions()
    styles = condition_styles(conditions, "this run" if data.kind == "run" else "all runs")
    measures = [m for m in MEASURES if m in set(table["measure"])]
    fig, axes = new_figure(1, len(measures), panel=(4.2, 3.2), sharey=True)
    for ax, measure in zip(axes[0], measures, strict=True):
        for condition, style in zip(conditions, styles, strict=True):
            rows = select(table, condition, measure=measure).sort_values(AXIS)
            plot_band(ax, rows[AXIS], rows["mean"], rows["ci_low"], rows["ci_high"], **style)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"organisms that {MEASURES[measure]}", fontsize="medium")
        ax.set_xlabel("share of training episodes with a random exit (fraction)")
    axes[0, 0].set_ylabel("share of organisms in deployment (fraction)")
    handles = condition_handles(styles, [data.runs_in(c) for c in conditions])
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3))
    fig.suptitle("Distribution shift: deployment success vs random-exit training")
    caption = ("Share of Level-1 organisms that reached the moved exit (left) and that went to "
               "the training exit's position instead (right), in the deployment episode, "
               f"against the share of training episodes whose exit was random; "
               f"{data.pooling_note()}. Goal misgeneralization shows as a high right panel at "
               "0; the fix works if the left panel rises with the share.")
    return write_section(out, NAME, TITLE, caption, fig, table)


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
