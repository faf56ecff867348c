"""Distribution shift: deployment success against the share of training episodes with a random exit.

Training with a random exit in some episodes is the known fix for goal misgeneralization: the
proxy "go to the training exit corner" stops paying. Reads each run's summary of the deployment
episode (`deploy/L1/reached_exit`, `deploy/L1/reached_proxy`); needs `random_exit_share` as a
sweep axis.

Core objects: analyse.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from matryoshka.analysis.dataset import Dataset, Page
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import by_run, select
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import (
    annotate_n,
    condition_handles,
    condition_styles,
    n_text,
    new_figure,
    plot_band,
)
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
    others = [a for a in data.axes if a != AXIS]
    table = summarise(tidy, [*others, "measure", AXIS], shares=True)
    measures = [m for m in MEASURES if m in set(table["measure"])]
    figures = [_figure(table, page, measures) for page in data.pages(others)]
    caption = ("Share of Level-1 organisms that reached the moved exit (left) and that went to "
               "the training exit's position instead (right), in the deployment episode, "
               f"against the share of training episodes whose exit was random; "
               f"{data.interval_note(shares=True)}. Goal misgeneralization shows as a high right "
               "panel at 0; the fix works if the left panel rises with the share.")
    return write_section(out, NAME, TITLE, caption, figures, table)


def _figure(table: pd.DataFrame, page: Page, measures: list[str]) -> Figure:
    """One figure: a panel per measure, a line per condition of the page, n at each point."""
    styles = condition_styles([page.inner(c) for c in page.conditions], "all runs")
    fig, axes = new_figure(1, len(measures), panel=(4.2, 3.2), sharey=True)
    counts: list[list[float]] = [[] for _ in page.conditions]
    for ax, measure in zip(axes[0], measures, strict=True):
        for k, (condition, style) in enumerate(zip(page.conditions, styles, strict=True)):
            rows = select(table, condition, measure=measure).sort_values(AXIS)
            plot_band(ax, rows[AXIS], rows["mean"], rows["ci_low"], rows["ci_high"], **style)
            annotate_n(ax, rows[AXIS], rows["mean"], rows["n"], **style)
            counts[k] += rows["n"].tolist()
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"organisms that {MEASURES[measure]}", fontsize="medium")
        ax.set_xlabel("share of training episodes with a random exit (fraction)")
    axes[0, 0].set_ylabel("share of organisms in deployment (fraction)")
    handles = condition_handles(styles, [n_text(c) for c in counts])
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3))
    fig.suptitle(page.title("Distribution shift: deployment success vs random-exit training"))
    return fig


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
