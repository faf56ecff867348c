"""Distribution shift: training and deployment outcomes against the parameter the scenario varies.

A scenario declares its shift analysis in its manifest (`shift`: the parameter `axis` and the
`metrics` to show); in the maze that is the share of training episodes with a random exit, the
known fix for goal misgeneralization, and the shares of organisms that reach the moved exit or the
old one; in the procedurally generated maze, the number of training layouts and the share that
reach the exit. Reads each run's summary of the last training episode and of the deployment
phase (`train/L1/<metric>`, `deploy/L1/<metric>`): the drop from one to the other is the
generalization gap. Needs the axis as a sweep axis.

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
#: The phases shown, each with its panel title: the last training episode and deployment.
PHASE_TITLES = {"train": "last training episode", "deploy": "deployment"}


def analyse(data: Dataset, out: Path) -> Section:
    """Plot each declared metric of Level-1 organisms, in training and deployment, against the shift axis.

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
    tidy = by_run(data, {(m, p): [summary_key(p, 1, m)] for m in measures for p in PHASE_TITLES})
    tidy[["measure", "phase"]] = pd.DataFrame(tidy.pop("label").tolist(), index=tidy.index,
                                              columns=["measure", "phase"])
    tidy = tidy.dropna(subset=["value"])
    if not (tidy["phase"] == "deploy").any():
        raise NotApplicable(f"no deploy/L1 values of {', '.join(measures) or 'any metric'}: the runs "
                            "have no deployment phase")
    others = [a for a in data.axes if a != axis]
    measures = [m for m in measures if m in set(tidy["measure"])]
    shares = all(data.metrics[m].share for m in measures if m in data.metrics)
    table = summarise(tidy, [*others, "measure", "phase", axis], shares=shares)
    figures = [_figure(table, page, measures, shift, shares) for page in data.pages(others)]
    meanings = "; ".join(f"{m}: {data.metrics[m].doc}" for m in measures if m in data.metrics)
    caption = (f"Level-1 organisms in the last training episode and in deployment, one panel per "
               f"metric and phase ({meanings}), "
               f"against {axis} ({shift.get('axis_doc', '')}); {data.interval_note(shares=shares)}. "
               f"{shift.get('reading', '')}").strip()
    return write_section(out, NAME, TITLE, caption, figures, table)


def _figure(table: pd.DataFrame, page: Page, measures: list[str], shift: dict, shares: bool) -> Figure:
    """One figure: a panel per measure and phase, a line per condition of the page, n at each point."""
    axis = shift["axis"]
    styles = condition_styles([page.inner(c) for c in page.conditions], "all runs", page.legend.colours)
    panels = [(m, p) for m in measures for p in PHASE_TITLES]
    fig, axes = new_figure(1, len(panels), panel=(4.2, 3.2), sharey=True)
    counts: list[list[float]] = [[] for _ in page.conditions]
    for ax, (measure, phase) in zip(axes[0], panels, strict=True):
        for k, (condition, style) in enumerate(zip(page.conditions, styles, strict=True)):
            rows = select(table, condition, measure=measure, phase=phase).sort_values(axis)
            plot_band(ax, rows[axis], rows["mean"], rows["ci_low"], rows["ci_high"], **style)
            annotate_n(ax, rows[axis], rows["mean"], rows["n"], **style)
            counts[k] += rows["n"].tolist()
        if shares:
            ax.set_ylim(-0.02, 1.02)
        values = table[axis].to_numpy(dtype=float)
        if (values > 0).all() and values.max() >= 30 * values.min():  # counts such as 1 ... 256
            ax.set_xscale("log", base=2)
        ax.set_title(f"{measure}, {PHASE_TITLES[phase]}", fontsize="medium")
        ax.set_xlabel(f"{axis}: {shift.get('axis_doc', '')}".rstrip(": "), fontsize="small")
    axes[0, 0].set_ylabel("Level 1" + (" (fraction)" if shares else ""))
    handles = condition_handles(styles, [n_text(c) for c in counts])
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3))
    fig.suptitle(page.title(f"Distribution shift: training and deployment against {axis}"))
    return fig


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
