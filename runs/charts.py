"""The browser page's charts: ECharts options built from the model's DataCollector.

Each chart has the generation on its x-axis (the mean of each generation's steps; deployment steps
are their own points, after training's) or the step. The deployment phase is shaded.

Core Objects: population_chart, alignment_chart, weights_chart, X_AXES.
"""

from __future__ import annotations

import math
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


def _by_step(df: pd.DataFrame) -> tuple[list[int], pd.DataFrame, np.ndarray]:
    """Every step (every k-th in long runs): the x values, the rows, and which are deployment."""
    rows = np.unique(np.append(np.arange(0, len(df), math.ceil(len(df) / MAX_POINTS)), len(df) - 1))
    return [int(r) for r in rows], df.iloc[rows], df["phase"].to_numpy()[rows] == "deploy"


def _by_generation(df: pd.DataFrame) -> tuple[list[str], pd.DataFrame, np.ndarray]:
    """One point per run of steps with the same phase and generation: labels, means, deployment.

    A deployment point that continues the last training generation is labelled ``deploy``.
    """
    key = df["phase"].astype(str) + "/" + df["generation"].astype(str)
    group = (key != key.shift()).cumsum().to_numpy()
    means = df.drop(columns=["phase"]).groupby(group, sort=True).mean()
    first = df.groupby(group, sort=True).head(1)
    deploy = first["phase"].to_numpy() == "deploy"
    gens = first["generation"].to_numpy()
    labels = [
        "deploy" if d and k > 0 and gens[k - 1] == g else str(int(g))
        for k, (d, g) in enumerate(zip(deploy, gens, strict=True))
    ]
    return labels, means, deploy


def _line_chart(
    model: MatryoshkaModel, x_axis: str, title: str, ylabel: str, lines: list[tuple]
) -> dict[str, Any]:
    """A line chart over generations or steps, with the deployment phase shaded.

    Args:
        model: The model; its DataCollector has one row per step, starting at step 0.
        x_axis: ``generation`` or ``step``.
        title: The chart's title.
        ylabel: The y axis name.
        lines: ``(name, reporter, colour, dash)`` per line; ``reporter`` is a DataCollector column.
    """
    df = model.datacollector.get_model_vars_dataframe()
    if x_axis == "step":
        xs, rows, deploy = _by_step(df)
        x = {"type": "value", "min": 0, "max": max(1, len(df) - 1), "minInterval": 1}
    else:
        xs, rows, deploy = _by_generation(df)
        x = {"type": "category", "data": xs, "boundaryGap": False}
    series = []
    for name, reporter, color, dash in lines:
        values = rows[reporter].to_numpy(float)
        ys = [None if math.isnan(v) else round(float(v), 3) for v in values]
        data = ys if x_axis == "generation" else [list(p) for p in zip(xs, ys, strict=True)]
        series.append({
            "type": "line", "name": name, "data": data, "showSymbol": len(xs) <= 40, "symbolSize": 4,
            "itemStyle": {"color": color}, "lineStyle": {"color": color, "type": dash, "width": 1.8},
        })  # fmt: skip
    shaded = np.flatnonzero(deploy)
    if len(shaded) and series:
        # the shade starts at the point before deployment's first, so that one point has a width
        first, last = max(int(shaded[0]) - 1, 0), int(shaded[-1])
        if x_axis == "step":  # a row holds the state after its step: deployment began a step earlier
            first, last = xs[int(shaded[0])] - 1, xs[last]
        series[0]["markArea"] = {**DEPLOY_SHADE, "data": [[{"name": "deployment", "xAxis": first},
                                                           {"xAxis": last}]]}  # fmt: skip
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "itemWidth": 18, "itemGap": 8, "textStyle": {"fontSize": 11}},
        "grid": {"left": 52, "right": 16, "top": 36, "bottom": 40 + 20 * math.ceil(len(lines) / 4)},
        "xAxis": {**x, "name": x_axis, "nameLocation": "middle", "nameGap": 22},
        "yAxis": {"type": "value", "name": ylabel, "nameLocation": "middle", "nameGap": 38},
        "series": series,
    }


def _levels(model: MatryoshkaModel) -> range:
    return range(1, model.config["max_depth"] + 1)


def population_chart(model: MatryoshkaModel, x_axis: str = "generation") -> dict[str, Any]:
    """Agents alive per level."""
    lines = [(f"L{lv}", f"population_L{lv}", LEVEL_COLORS[lv - 1], "solid") for lv in _levels(model)]
    return _line_chart(model, x_axis, "Population per level", "agents", lines)


def alignment_chart(model: MatryoshkaModel, x_axis: str = "generation") -> dict[str, Any]:
    """Mean alignment with the base objective per level, on training (solid) and deployment cells."""
    phases = (("train", "solid"), ("deploy", "dashed"))
    lines = [(f"L{lv} {phase}", f"align_base_{phase}_L{lv}", LEVEL_COLORS[lv - 1], dash)
             for lv in _levels(model) for phase, dash in phases]  # fmt: skip
    chart = _line_chart(model, x_axis, "Alignment with the base objective", "mean correlation", lines)
    chart["yAxis"].update(min=-1, max=1)
    return chart


def weights_chart(model: MatryoshkaModel, x_axis: str = "generation") -> dict[str, Any]:
    """Mean objective weight per feature (colour) and level (L1 solid, L2 dashed, L3 dotted)."""
    lines = [(f"{feature} L{lv}", f"w_{feature}_L{lv}", FEATURE_COLORS[k % len(FEATURE_COLORS)],
              LEVEL_DASHES[(lv - 1) % len(LEVEL_DASHES)])
             for k, feature in enumerate(model.preset.features) for lv in _levels(model)]  # fmt: skip
    return _line_chart(model, x_axis, "What each level wants (mean weight)", "weight", lines)
