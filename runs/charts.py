"""The browser page's charts: ECharts options built from the model's DataCollector.

Each chart has the generation on its x-axis (the mean of each generation's steps; deployment steps
are their own points, after training's) or the step. The deployment phase is shaded.

Core Objects: Points, points, population_chart, alignment_chart, weights_chart, all_charts, X_AXES.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from matryoshka.model.model import MatryoshkaModel

X_AXES = ("generation", "step")
LEVEL_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
FEATURE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
LEVEL_DASHES = ("solid", "dashed", "dotted")
MAX_POINTS = 500  # longer series are thinned: every k-th step is drawn
DEPLOY_SHADE = {
    "silent": True, "itemStyle": {"color": "rgba(230, 159, 0, 0.15)"},
    "label": {"color": "#9a6700", "position": "insideTopRight"},
}  # fmt: skip


@dataclass(frozen=True)
class Points:
    """What a chart draws: the x values, each point's DataCollector values, which are deployment.

    Attributes:
        x_axis: ``generation`` or ``step``.
        xs: Category labels (generations) or step numbers.
        values: One row per point, one column per DataCollector reporter.
        deploy: Whether each point is in the deployment phase.
        last: The last x index (generations) or the last step.
    """

    x_axis: str
    xs: list
    values: pd.DataFrame
    deploy: np.ndarray
    last: int


def points(model: MatryoshkaModel, x_axis: str = "generation") -> Points:
    """The points every chart draws, over generations or steps (computed once for all charts)."""
    df = model.datacollector.get_model_vars_dataframe()
    phase = df["phase"].to_numpy()
    if x_axis == "step":  # every step; every k-th in long runs
        rows = np.unique(np.append(np.arange(0, len(df), math.ceil(len(df) / MAX_POINTS)), len(df) - 1))
        values = df.drop(columns=["phase"]).iloc[rows]
        return Points("step", [int(r) for r in rows], values, phase[rows] == "deploy", len(df) - 1)
    # one point per run of rows with the same phase and generation: the mean of its rows
    generation = df["generation"].to_numpy()
    new = np.ones(len(df), dtype=bool)
    new[1:] = (phase[1:] != phase[:-1]) | (generation[1:] != generation[:-1])
    starts = np.flatnonzero(new)
    numbers = df.drop(columns=["phase"]).to_numpy(float)
    known = ~np.isnan(numbers)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.add.reduceat(np.where(known, numbers, 0.0), starts) / np.add.reduceat(known, starts)
    deploy, gens = phase[starts] == "deploy", generation[starts]
    labels = [  # a deployment point that continues the last training generation is "deploy"
        "deploy" if d and k > 0 and gens[k - 1] == g else str(int(g))
        for k, (d, g) in enumerate(zip(deploy, gens, strict=True))
    ]
    values = pd.DataFrame(means, columns=df.columns.drop("phase"))
    return Points("generation", labels, values, deploy, len(starts) - 1)


def _line_chart(at: Points, title: str, ylabel: str, lines: list[tuple]) -> dict[str, Any]:
    """A line chart over generations or steps, with the deployment phase shaded.

    Args:
        at: The points to draw.
        title: The chart's title.
        ylabel: The y axis name.
        lines: ``(name, reporter, colour, dash)`` per line; ``reporter`` is a DataCollector column.
    """
    if at.x_axis == "step":
        x = {"type": "value", "min": 0, "max": max(1, at.last), "minInterval": 1}
    else:
        x = {"type": "category", "data": at.xs, "boundaryGap": False}
    series = []
    for name, reporter, color, dash in lines:
        ys = [None if math.isnan(v) else round(float(v), 3) for v in at.values[reporter].to_numpy(float)]
        data = ys if at.x_axis == "generation" else [list(p) for p in zip(at.xs, ys, strict=True)]
        series.append({
            "type": "line", "name": name, "data": data, "showSymbol": len(at.xs) <= 40, "symbolSize": 4,
            "itemStyle": {"color": color}, "lineStyle": {"color": color, "type": dash, "width": 1.8},
        })  # fmt: skip
    shaded = np.flatnonzero(at.deploy)
    if len(shaded) and series:
        # the shade starts at the point before deployment's first, so that one point has a width
        first, last = max(int(shaded[0]) - 1, 0), int(shaded[-1])
        if at.x_axis == "step":  # a row holds the state after its step: deployment began a step earlier
            first, last = at.xs[int(shaded[0])] - 1, at.xs[last]
        series[0]["markArea"] = {**DEPLOY_SHADE, "data": [[{"name": "deployment", "xAxis": first},
                                                           {"xAxis": last}]]}  # fmt: skip
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "itemWidth": 18, "itemGap": 8, "textStyle": {"fontSize": 11}},
        "grid": {"left": 52, "right": 28, "top": 36, "bottom": 40 + 20 * math.ceil(len(lines) / 4)},
        "xAxis": {**x, "name": at.x_axis, "nameLocation": "middle", "nameGap": 22},
        "yAxis": {"type": "value", "name": ylabel, "nameLocation": "middle", "nameGap": 38},
        "series": series,
    }


def _levels(model: MatryoshkaModel) -> range:
    return range(1, model.config["max_depth"] + 1)


def population_chart(model: MatryoshkaModel, at: Points) -> dict[str, Any]:
    """Agents alive per level."""
    lines = [(f"L{lv}", f"population_L{lv}", LEVEL_COLORS[lv - 1], "solid") for lv in _levels(model)]
    return _line_chart(at, "Population per level", "agents", lines)


def alignment_chart(model: MatryoshkaModel, at: Points) -> dict[str, Any]:
    """Mean alignment with the base objective per level, on training (solid) and deployment cells."""
    phases = (("train", "solid"), ("deploy", "dashed"))
    lines = [(f"L{lv} {phase}", f"align_base_{phase}_L{lv}", LEVEL_COLORS[lv - 1], dash)
             for lv in _levels(model) for phase, dash in phases]  # fmt: skip
    chart = _line_chart(at, "Alignment with the base objective", "mean correlation", lines)
    chart["yAxis"].update(min=-1, max=1)
    return chart


def weights_chart(model: MatryoshkaModel, at: Points) -> dict[str, Any]:
    """Mean objective weight per feature (colour) and level (L1 solid, L2 dashed, L3 dotted)."""
    lines = [(f"{feature} L{lv}", f"w_{feature}_L{lv}", FEATURE_COLORS[k % len(FEATURE_COLORS)],
              LEVEL_DASHES[(lv - 1) % len(LEVEL_DASHES)])
             for k, feature in enumerate(model.preset.features) for lv in _levels(model)]  # fmt: skip
    return _line_chart(at, "What each level wants (mean weight)", "weight", lines)


def all_charts(model: MatryoshkaModel, x_axis: str = "generation") -> list[dict[str, Any]]:
    """The population, alignment and weights charts, over generations or steps."""
    at = points(model, x_axis)
    return [chart(model, at) for chart in (population_chart, alignment_chart, weights_chart)]
