"""Interventions: base return and alignment under tool_policy free / audit / forbid.

Reads each run's summary (last episode of each phase) and compares the policies, with the
neutral-selection runs as a baseline when the sweep has them.

Core objects: analyse.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from matryoshka.analysis.dataset import VALUE_ORDER, Dataset
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import by_run
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import CYCLE, VALUE_COLOURS, new_figure
from matryoshka.model.contract import summary_key

NAME = "interventions"
TITLE = "Interventions: tool policy"
LEVEL_MARKERS = {1: "o", 2: "s", 3: "D"}
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
    """Plot base return and alignment per tool policy, level and selection mode.

    Raises:
        NotApplicable: tool_policy is not a sweep axis.
    """
    if "tool_policy" not in data.axes:
        raise NotApplicable(f"needs a sweep with tool_policy as an axis (axes here: "
                            f"{', '.join(data.axes) or 'none'})")
    hue = ["selection"] if "selection" in data.axes else []
    table = summarise(_tidy(data), ["panel", "level", *hue, "tool_policy"])
    policies = sorted(table["tool_policy"].unique(), key=lambda p: VALUE_ORDER.get(p, (1, p)))
    selections = sorted(table["selection"].unique()) if hue else [None]
    fig, axes = new_figure(2, 2, panel=(4.4, 3.0))
    for ax, (panel, (title, ylabel, _, _)) in zip(axes.flat, PANELS.items(), strict=True):
        levels = sorted(table.loc[table["panel"] == panel, "level"].unique())
        groups = list(itertools.product(selections, levels))
        for k, (selection, level) in enumerate(groups):
            rows = table[(table["panel"] == panel) & (table["level"] == level)]
            if hue:
                rows = rows[rows["selection"] == selection]
            x = np.array([policies.index(p) for p in rows["tool_policy"]], dtype=float)
            x += (k - (len(groups) - 1) / 2) * 0.8 / max(len(groups), 1)
            mean = rows["mean"].to_numpy(dtype=float)
            err = np.nan_to_num(np.vstack([mean - rows["ci_low"], rows["ci_high"] - mean]))
            colour = VALUE_COLOURS.get(str(selection), CYCLE[selections.index(selection)])
            ax.errorbar(x, mean, yerr=err, fmt=LEVEL_MARKERS.get(int(level), "^"),
                        color=colour, capsize=3, markersize=5, linestyle="none")
        if panel.startswith("align"):
            ax.set_ylim(-1.05, 1.05)  # the intervals of a few seeds can reach past +-1
        ax.set_xticks(range(len(policies)), policies)
        ax.set_xlim(-0.6, len(policies) - 0.4)
        ax.set_title(title, fontsize="medium")
        ax.set_ylabel(ylabel)
        ax.set_xlabel("tool_policy")
    handles = [Line2D([], [], color=VALUE_COLOURS.get(str(s), CYCLE[i]), marker="o",
                      linestyle="none", label=f"selection={s}")
               for i, s in enumerate(selections) if s is not None]
    handles += [Line2D([], [], color="grey", marker=LEVEL_MARKERS.get(int(lv), "^"),
                       linestyle="none", label=f"Level {lv}")
                for lv in sorted(table["level"].unique())]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5))
    fig.suptitle("Interventions: base return and alignment by tool policy")
    baseline = ("" if "neutral" in selections else
                " This sweep has no selection=neutral runs, so no neutral baseline is drawn.")
    caption = ("Base reward earned per step by organisms (last episode of training and of "
               "deployment), and each level's alignment with the base objective at the end, for "
               "each tool policy; points are means over runs, bars 95% t-intervals over seeds "
               f"(none where a condition has one run).{baseline} Level 2 and 3 are absent under "
               "forbid: no tools exist there.")
    return write_section(out, NAME, TITLE, caption, fig, table)


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
