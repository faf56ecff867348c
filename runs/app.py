"""The browser view of Matryoshka: watch nested optimizers evolve, then shift their world.

``make viz`` serves it (``solara run app.py``). Mesa's ``SolaraViz`` supplies the sidebar: the
step / play / reset controls and the model parameters. The main area is laid out here: the phase,
a **Shift to deployment** button, a feature selector, the world, and three plots.

Two departures from Mesa's example apps, both forced: SolaraViz's own main area is a draggable
grid of fixed-height tiles that clips a full-size world, so the page passes it no components
and draws its own; and the world is inline SVG (``agents.portrayal``) rather than a
``SpaceRenderer``, which finds no agents (they keep their cells in the model's arrays) and whose
Altair backend loads Vega from a CDN path the offline assets (solara-assets) do not serve. The
plots are ECharts, which solara-assets serves offline and which the browser draws, so a step
costs the server little.

Core Objects: page, AppPage, BrowserModel, MainView, PhaseBar, population_chart,
alignment_chart, weights_chart.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import solara
from mesa.experimental.scenarios import Scenario
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import force_update, update_counter

from matryoshka.agents.portrayal import world_svg
from matryoshka.model.contract import PHASE_NAMES
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import PARAMS, ConfigError
from matryoshka.model.scenarios import DEFAULT_SCENARIO, REGISTRY, get

TITLE = "Matryoshka: objective drift under delegation"
DEFAULT_SEED = 42
LEVEL_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
FEATURE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
LEVEL_DASHES = ("solid", "dashed", "dotted")
MAX_POINTS = 500  # longer series are thinned: every k-th step is drawn
CHART_STYLE = "height: 290px; width: 540px;"
TALL_CHART_STYLE = "height: 340px; width: 540px;"  # room for a legend of up to 18 lines


# The controls' starting values: the default scenario's configuration, and each other scenario's
# own parameters at that scenario's defaults.
SIDEBAR_START = {
    **{name: c.defaults.get(name, p.default) for c in REGISTRY.values() for name, p in c.params.items()},
    **get(DEFAULT_SCENARIO).validate({}),
}


class BrowserModel(MatryoshkaModel):
    """The model as the page builds and rebuilds it.

    Mesa 3.5.1's Reset always passes ``scenario=Scenario()`` (an empty one, without our key), so the
    scenario key travels as ``scenario_key`` and that argument is dropped. The seed arrives as text
    from the seed box. Reset also passes every control, touched or not: a value still equal to its
    control's starting value is left to the scenario's own default, so that choosing a scenario
    gives it as designed (``evolution-v1`` in steady state, ``approval-v1`` with deception).

    Args:
        scenario_key: A registered scenario key.
        rng: The seed, as a whole number or its text.
        scenario: Ignored (see above).
        **params: Parameters from ``model.params.PARAMS``.

    Raises:
        ConfigError: The seed is not a whole number, or a parameter is not allowed.
    """

    def __init__(
        self,
        scenario_key: str = DEFAULT_SCENARIO,
        *,
        rng: Any = DEFAULT_SEED,
        scenario: Scenario | None = None,
        **params: Any,
    ) -> None:
        try:
            seed = int(str(rng).strip())
        except ValueError:
            raise ConfigError(f"seed {rng!r} is not allowed: expected a whole number") from None
        known = get(scenario_key).parameters()  # another scenario's own controls do not apply
        params = {k: v for k, v in params.items()
                  if k in known and (k not in SIDEBAR_START or v != SIDEBAR_START[k])}  # fmt: skip
        super().__init__(scenario_key, rng=seed, **params)


def model_params() -> dict[str, Any]:
    """The sidebar's inputs, starting from the default scenario's effective parameters."""
    d = SIDEBAR_START

    def select(label: str, key: str) -> dict[str, Any]:
        return {"type": "Select", "value": d[key], "values": list(PARAMS[key].choices), "label": label}

    return {
        "scenario_key": {"type": "Select", "value": DEFAULT_SCENARIO, "values": sorted(REGISTRY),
                         "label": "Scenario"},
        "rng": {"type": "InputText", "value": DEFAULT_SEED, "label": "Seed"},
        "population": Slider("Population", d["population"], 10, 1000, 10),
        "mutation_rate": Slider("Mutation rate", d["mutation_rate"], 0.0, 1.0, 0.01),
        "power": Slider("Initial power", d["power"], 0.0, 1.0, 0.05),
        "wisdom": Slider("Initial wisdom", d["wisdom"], 0.0, 1.0, 0.05),
        "selection": select("Selection", "selection"),
        "tool_policy": select("Tool policy", "tool_policy"),
        "max_depth": Slider("Max depth", d["max_depth"], 1, int(PARAMS["max_depth"].high), 1),
        "deception_share": Slider("Deception share", d["deception_share"], 0.0, 1.0, 0.05),
        **scenario_controls(),
    }  # fmt: skip


def scenario_controls() -> dict[str, Any]:
    """A slider for each bounded number parameter a scenario declares, labelled with its scenario."""
    controls = {}
    for key, cls in sorted(REGISTRY.items()):
        for name, p in cls.params.items():
            if p.kind in (int, float) and p.low is not None and p.high is not None and p.high < math.inf:
                step = 1 if p.kind is int else (p.high - p.low) / 20
                label = f"{name.replace('_', ' ').capitalize()} ({key})"
                controls[name] = Slider(label, SIDEBAR_START[name], p.low, p.high, step)
    return controls


def phase_text(model: MatryoshkaModel) -> str:
    """One line: the phase, the generation and the step (and whether the run is over)."""
    text = f"Phase: {PHASE_NAMES[model.phase]} · generation {model.generation} · step {model.steps}"
    return text if model.running else text + " · finished"


# -- plots: ECharts options built from the model's DataCollector -------------------------------


def _line_chart(model: MatryoshkaModel, title: str, ylabel: str, lines: list[tuple]) -> dict[str, Any]:
    """An ECharts line chart over steps, with the deployment steps shaded.

    Args:
        model: The model; its DataCollector has one row per step, starting at step 0.
        title: The chart's title.
        ylabel: The y axis name.
        lines: ``(name, reporter, colour, dash)`` per line; ``reporter`` is a DataCollector column.
    """
    df = model.datacollector.get_model_vars_dataframe()
    rows = np.unique(np.append(np.arange(0, len(df), math.ceil(len(df) / MAX_POINTS)), len(df) - 1))
    series = []
    for name, reporter, color, dash in lines:
        values = df[reporter].to_numpy(float)[rows]
        data = [
            [int(s), None if math.isnan(v) else round(float(v), 3)] for s, v in zip(rows, values, strict=True)
        ]
        line = {"color": color, "type": dash, "width": 1.8}
        series.append({"type": "line", "name": name, "data": data, "showSymbol": False,
                       "itemStyle": {"color": color}, "lineStyle": line})  # fmt: skip
    deploy = np.flatnonzero(df["phase"].to_numpy() == "deploy")  # rows after a step in deployment
    if len(deploy) and series:
        series[0]["markArea"] = {
            "silent": True, "itemStyle": {"color": "rgba(230, 159, 0, 0.15)"},
            "label": {"color": "#9a6700"},
            "data": [[{"name": "deployment", "xAxis": int(deploy[0]) - 1}, {"xAxis": int(deploy[-1])}]],
        }  # fmt: skip
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "itemWidth": 18, "itemGap": 8, "textStyle": {"fontSize": 11}},
        "grid": {"left": 52, "right": 16, "top": 36, "bottom": 40 + 20 * math.ceil(len(lines) / 4)},
        "xAxis": {"type": "value", "name": "step", "nameLocation": "middle", "nameGap": 22,
                  "min": 0, "max": max(1, len(df) - 1), "minInterval": 1},
        "yAxis": {"type": "value", "name": ylabel, "nameLocation": "middle", "nameGap": 38},
        "series": series,
    }  # fmt: skip


def _levels(model: MatryoshkaModel) -> range:
    return range(1, model.config["max_depth"] + 1)


def population_chart(model: MatryoshkaModel) -> dict[str, Any]:
    """Agents alive per level."""
    lines = [(f"L{lv}", f"population_L{lv}", LEVEL_COLORS[lv - 1], "solid") for lv in _levels(model)]
    return _line_chart(model, "Population per level", "agents", lines)


def alignment_chart(model: MatryoshkaModel) -> dict[str, Any]:
    """Mean alignment with the base objective per level, on training (solid) and deployment cells."""
    phases = (("train", "solid"), ("deploy", "dashed"))
    lines = [(f"L{lv} {phase}", f"align_base_{phase}_L{lv}", LEVEL_COLORS[lv - 1], dash)
             for lv in _levels(model) for phase, dash in phases]  # fmt: skip
    chart = _line_chart(model, "Alignment with the base objective", "mean correlation", lines)
    chart["yAxis"].update(min=-1, max=1)
    return chart


def weights_chart(model: MatryoshkaModel) -> dict[str, Any]:
    """Mean objective weight per feature (colour) and level (L1 solid, L2 dashed, L3 dotted)."""
    lines = [(f"{feature} L{lv}", f"w_{feature}_L{lv}", FEATURE_COLORS[k % len(FEATURE_COLORS)],
              LEVEL_DASHES[(lv - 1) % len(LEVEL_DASHES)])
             for k, feature in enumerate(model.preset.features) for lv in _levels(model)]  # fmt: skip
    return _line_chart(model, "What each level wants (mean weight)", "weight", lines)


# -- the page -----------------------------------------------------------------------------------


@solara.component
def PhaseBar(model: MatryoshkaModel) -> None:
    """The phase, generation and step, and the Shift to deployment button."""
    update_counter.get()

    def shift() -> None:
        model.deploy()
        force_update()

    solara.Text(phase_text(model), classes=["matryoshka-phase"], style={"font-size": "1.1em"})
    solara.Button("Shift to deployment", on_click=shift, color="warning", disabled=model.phase == "deploy")


@solara.component
def MainView(model: MatryoshkaModel) -> None:
    """The phase bar and the feature selector, the world, and the plots."""
    update_counter.get()
    features = list(model.preset.features)
    chosen, set_chosen = solara.use_state(features[0])
    feature = chosen if chosen in features else features[0]
    with solara.Column(style={"padding": "8px"}):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            PhaseBar(model)
            with solara.Div(style={"width": "220px"}):
                solara.Select("Feature layer", values=features, value=feature, on_value=set_chosen)
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
            solara.HTML(unsafe_innerHTML=world_svg(model, feature))
            with solara.Column():
                solara.FigureEcharts(population_chart(model), attributes={"style": CHART_STYLE})
                solara.FigureEcharts(alignment_chart(model), attributes={"style": CHART_STYLE})
            solara.FigureEcharts(weights_chart(model), attributes={"style": TALL_CHART_STYLE})


@solara.component
def AppPage(model: BrowserModel | None = None) -> None:
    """Mesa's controls in the sidebar, and the main view of the current model.

    Args:
        model: The first model to show; by default each browser session builds its own.
    """
    first = solara.use_memo(lambda: model if model is not None else BrowserModel(), [])
    current = solara.use_reactive(first)  # Mesa's Reset replaces its value
    SolaraViz(current, components=[], model_params=model_params(), name=TITLE)
    MainView(current.value)


page = AppPage()
