"""Distribution shift: deployment outcomes against the parameter the scenario's fix varies.

A scenario declares its shift analysis in its manifest (`shift`: the parameter `axis` and the
`metrics` to show); in the maze that is the share of training episodes with a random exit, the
known fix for goal misgeneralization, and the shares of organisms that reach the moved exit or the
old one. Reads each run's summary of the deployment phase (`deploy/L1/<metric>`); needs the axis
as a sweep axis.

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


def analyse(data: Dataset, out: Path) -> Section:
    """Plot each declared metric of Level-1 organisms in deployment against the shift axis.

    Raises:
        NotApplicable: The scenario declares no shift analysis, its axis is not a sweep axis, or
            the runs have no deployment values of its metrics.
    """
    shift = data.shift
    if shift is None:
        raise NotApplicable(f"scenario {data.runs[0].scenario} declares no shift analysis")
    axis, measures = shift["axis"], [str(m) for m in shift.get("metrics", [])]
    if axis not in data.axes:
        raise NotApplicable(f"needs a sweep with {axis} as an axis (axes here: "
                            f"{', '.join(data.axes) or 'none'})")
    tidy = by_run(data, {m: [summary_key("deploy", 1, m)] for m in measures})
    tidy = tidy.rename(columns={"label": "measure"}).dropna(subset=["value"])
    if tidy.empty:
        raise NotApplicable(f"no deploy/L1 values of {', '.join(measures) or 'any metric'}: the runs "
                            "have no deployment phase")
    others = [a for a in data.axes if a != axis]
    measures = [m for m in measures if m in set(tidy["measure"])]
    shares = all(data.metrics[m].share for m in measures if m in data.metrics)
    table = summarise(tidy, [*others, "measure", axis], shares=shares)
    figures = [_figure(table, page, measures, shift, shares) for page in data.pages(others)]
    meanings = "; ".join(f"{m}: {data.metrics[m].doc}" for m in measures if m in data.metrics)
    caption = (f"Level-1 organisms in the deployment phase, one panel per metric ({meanings}), "
               f"against {axis} ({shift.get('axis_doc', '')}); {data.interval_note(shares=shares)}. "
               f"{shift.get('reading', '')}").strip()
    return write_section(out, NAME, TITLE, caption, figures, table)


def _figure(table: pd.DataFrame, page: Page, measures: list[str], shift: dict, shares: bool) -> Figure:
    """One figure: a panel per measure, a line per condition of the page, n at each point."""
    axis = shift["axis"]
    styles = condition_styles([page.inner(c) for c in page.conditions], "all runs", page.legend.colours)
    fig, axes = new_figure(1, len(measures), panel=(4.2, 3.2), sharey=True)
    counts: list[list[float]] = [[] for _ in page.conditions]
    for ax, measure in zip(axes[0], measures, strict=True):
        for k, (condition, style) in enumerate(zip(page.conditions, styles, strict=True)):
            rows = select(table, condition, measure=measure).sort_values(axis)
            plot_band(ax, rows[axis], rows["mean"], rows["ci_low"], rows["ci_high"], **style)
            annotate_n(ax, rows[axis], rows["mean"], rows["n"], **style)
            counts[k] += rows["n"].tolist()
        if shares:
            ax.set_ylim(-0.02, 1.02)
        ax.set_title(measure, fontsize="medium")
        ax.set_xlabel(f"{axis}: {shift.get('axis_doc', '')}".rstrip(": "), fontsize="small")
    axes[0, 0].set_ylabel("Level 1, deployment" + (" (fraction)" if shares else ""))
    handles = condition_handles(styles, [n_text(c) for c in counts])
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3))
    fig.suptitle(page.title(f"Distribution shift: deployment against {axis}"))
    return fig


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
