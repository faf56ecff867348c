"""Interventions: base return and alignment under each tool_policy (free, audit, oversight, forbid, ...).

Reads each run's summary (last episode of each phase) and compares the policies within each
condition of the other axes (the neutral-selection runs are the baseline when the sweep has
them); conditions that do not fit one figure go on to the next.

Core objects: analyse.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from matryoshka.analysis.dataset import Dataset, Page
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import by_run, select
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import annotate_n, condition_styles, new_figure
from matryoshka.model.contract import summary_key

NAME = "interventions"
TITLE = "Interventions: tool policy"
AXIS = "tool_policy"
LEVEL_MARKERS = {1: "o", 2: "s", 3: "D"}
#: Conditions (besides the tool policy) per figure: each brings a point per level and policy.
PER_FIGURE = 3
#: Panel -> (title, y label, levels drawn, candidate (phase, metric) columns).
PANELS = {
    "base_return_train": ("base return, training", "base reward per step", (1,),
                          (("train", "base_return"),)),
    "base_return_deploy": ("base return, deployment", "base reward per step", (1,),
                           (("deploy", "base_return"),)),
    "align_base_train": ("alignment with base, training cells", "alignment (Pearson r)",
                         (1, 2, 3), (("train", "align_base_train"),)),
    "align_base_deploy": ("alignment with base, deployment cells", "alignment (Pearson r)",
                          (1, 2, 3), (("deploy", "align_base_deploy"),
                                      ("train", "align_base_deploy"))),
}


def _tidy(data: Dataset) -> pd.DataFrame:
    """One row per run, panel and level."""
    columns = {(panel, level): [summary_key(phase, level, metric) for phase, metric in cands]
               for panel, (_, _, levels, cands) in PANELS.items() for level in levels}
    frame = by_run(data, columns).dropna(subset=["value"])
    keys = pd.DataFrame(frame["label"].tolist(), columns=["panel", "level"], index=frame.index)
    return pd.concat([frame.drop(columns="label"), keys], axis=1)


def analyse(data: Dataset, out: Path) -> Section:
    """Plot base return and alignment per tool policy, level and condition.

    Raises:
        NotApplicable: tool_policy is not a sweep axis.
    """
    if AXIS not in data.axes:
        raise NotApplicable(f"needs a sweep with {AXIS} as an axis (axes here: "
                            f"{', '.join(data.axes) or 'none'})")
    others = [a for a in data.axes if a != AXIS]
    table = summarise(_tidy(data), ["panel", "level", *others, AXIS])
    policies = sorted(table[AXIS].unique(), key=data.legend.key)
    pages = data.pages(others, per_page=PER_FIGURE)
    figures = [_figure(table, page, policies) for page in pages]
    neutral = any(c.get("selection") == "neutral" for c in data.conditions(others))
    baseline = "" if neutral else (" This sweep has no selection=neutral runs, so no neutral "
                                   "baseline is drawn.")
    caption = ("Base reward earned per step by organisms (last episode of training and of "
               "deployment), and each level's alignment with the base objective at the end, for "
               "each tool policy; points are means over seeds, bars the 95% t-interval over the "
               f"seeds of each condition, n beside each point.{baseline} Level 2 and 3 are "
               "absent where a policy allows no tools.")
    return write_section(out, NAME, TITLE, caption, figures, table)


def _figure(table: pd.DataFrame, page: Page, policies: list) -> Figure:
    """One figure: four panels, tool policy on the x-axis, a colour per condition of the page."""
    styles = condition_styles([page.inner(c) for c in page.conditions], "all runs", page.legend.colours)
    fig, axes = new_figure(2, 2, panel=(4.4, 3.0))
    for ax, (panel, (title, ylabel, _, _)) in zip(axes.flat, PANELS.items(), strict=True):
        rows = table[table["panel"] == panel]
        groups = list(itertools.product(range(len(page.conditions)),
                                        sorted(rows["level"].unique())))
        for k, (c, level) in enumerate(groups):
            part = select(rows, page.conditions[c], level=level)
            x = np.array([policies.index(p) for p in part[AXIS]], dtype=float)
            x += (k - (len(groups) - 1) / 2) * 0.8 / max(len(groups), 1)
            mean = part["mean"].to_numpy(dtype=float)
            err = np.nan_to_num(np.vstack([mean - part["ci_low"], part["ci_high"] - mean]))
            ax.errorbar(x, mean, yerr=err, fmt=LEVEL_MARKERS.get(int(level), "^"),
                        color=styles[c]["color"], capsize=3, markersize=5, linestyle="none")
            annotate_n(ax, x, mean, part["n"], color=styles[c]["color"])
        if panel.startswith("align"):
            ax.set_ylim(-1.05, 1.05)  # the intervals of a few seeds can reach past +-1
        ax.set_xticks(range(len(policies)), policies)
        ax.set_xlim(-0.6, len(policies) - 0.4)
        ax.set_title(title, fontsize="medium")
        ax.set_ylabel(ylabel)
        ax.set_xlabel(AXIS)
    handles = [Line2D([], [], color=s["color"], marker="o", linestyle="none", label=s["label"])
               for s in styles]
    handles += [Line2D([], [], color="grey", marker=LEVEL_MARKERS.get(int(lv), "^"),
                       linestyle="none", label=f"Level {lv}")
                for lv in sorted(table["level"].unique())]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5))
    fig.suptitle(page.title("Interventions: base return and alignment by tool policy"))
    return fig


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
