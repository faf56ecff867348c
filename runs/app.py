"""The browser view of Matryoshka: watch nested optimizers evolve, then shift their world.

``matryoshka viz`` serves it (``solara run matryoshka.runs.app --production``). The sidebar holds
the model's parameters (with Reset) and the Information card; the main area holds the run
controls, the world and the charts: side by side on a window at least 1200 px wide, stacked on a
narrower one.

It departs from Mesa's ``SolaraViz`` in three places, each forced. SolaraViz's controls keep the
values they started with and its Play steps the model in a thread with no lock, so renders and
clicks during Play raced with steps: the page keeps its own controls and steps through ``LiveRun``,
which holds one lock for every change and every read. Its main area is a grid of fixed-height tiles
that clips a full-size world, so the page lays out its own. And the world is inline SVG
(``agents.portrayal``) rather than a ``SpaceRenderer``, which finds no agents (they keep their
cells in the model's arrays) and whose Altair backend loads Vega from a CDN path that the offline
assets (solara-assets) do not serve. The charts are ECharts, which solara-assets serves offline.

A session's state and buttons are ``runs.session.Session``.

Core Objects: page, AppPage, WorldView, MainView, phase_text.
"""

from __future__ import annotations

from html import escape
from typing import Any

import ipyvuetify as v
import solara
import traitlets

from matryoshka.agents.portrayal import alignment_color, chain_rows, world_svg
from matryoshka.model.contract import PHASE_NAMES
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.scenarios import REGISTRY
from matryoshka.runs.charts import X_AXES, all_charts
from matryoshka.runs.controls import (
    Control,
    build_model,
    default_form,
    pending,
    seed_of,
    shown,
)
from matryoshka.runs.live import current_generation, training_steps_left
from matryoshka.runs.session import Session

TITLE = "Matryoshka: objective drift under delegation"
CHART_HEIGHTS = (260, 290, 330)  # population, alignment, weights: room for each one's legend
CSS = """
.matryoshka-page { display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; align-items: start; }
.matryoshka-main { display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; align-items: start; }
.matryoshka-sidebar { order: 2; }
@media (min-width: 960px) {
  .matryoshka-page { grid-template-columns: 340px minmax(0, 1fr); }
  .matryoshka-sidebar { order: 0; }
}
@media (min-width: 1200px) {
  .matryoshka-main { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
}
.matryoshka-toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.matryoshka-chain-table { border-collapse: collapse; font-size: 13px; }
.matryoshka-chain-table td, .matryoshka-chain-table th { padding: 2px 8px; text-align: right; }
.matryoshka-chain-table td:first-child, .matryoshka-chain-table th:first-child { text-align: left; }
.matryoshka-chain-table tr.selected { font-weight: bold; }
.matryoshka-chain-table .dot { -webkit-text-stroke: 0.6px #616161; }
.matryoshka-params td { padding: 0 8px 0 0; font-size: 12px; }
"""


def phase_text(model: MatryoshkaModel) -> str:
    """One line: the phase, the generation (and whether it is training's last) and the step."""
    cfg, generation = model.config, current_generation(model)
    if cfg["selection"] == "steady_state":
        where = f"generation {generation} (mean)"
    elif model.phase == "train" and generation == cfg["generations"] - 1:
        where = f"generation {generation}, the last training generation"
    elif model.phase == "train":
        where = f"generation {generation} (training ends after {cfg['generations'] - 1})"
    else:
        where = f"generation {generation}"
    text = f"Phase: {PHASE_NAMES[model.phase]} · {where} · step {model.steps}"
    return text if model.running else text + " · finished"


class WorldView(v.VuetifyTemplate):
    """The world's SVG; a click on an agent selects it (``selected`` is its id, -1 for none)."""

    template = traitlets.Unicode("""
<template>
  <div class="matryoshka-world-box" style="cursor: pointer" @click="pick" v-html="svg"></div>
</template>
<script>
module.exports = {
  methods: {
    pick(event) {
      const node = event.target.closest("[data-agent]");
      this.selected = node ? Number(node.getAttribute("data-agent")) : -1;
    },
  },
};
</script>
""").tag(sync=True)
    svg = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)


def _number_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


@solara.component
def ParamControl(session: Session, control: Control, value: Any) -> None:
    """A select for a parameter with choices; else its value in a box, with a slider if it has one."""
    label, classes = control.label, [f"matryoshka-param-{control.key}"]

    def keep(new: Any) -> None:
        session.set_param(control.key, new)

    if control.choices:
        solara.Select(label, values=list(control.choices), value=value, classes=classes, on_value=keep)
        return
    if control.low is None:
        solara.InputText(label, value=_number_text(value), classes=classes, on_value=keep)
        return
    try:
        number = min(max(float(value), control.low), control.high)
    except (TypeError, ValueError):
        number = control.low  # the box shows the text; the model says why it refuses it
    slider = solara.SliderInt if control.integer else solara.SliderFloat
    with solara.Row(style={"align-items": "center", "gap": "8px"}):
        with solara.Div(style={"width": "140px", "flex": "none"}):
            solara.InputText(label, value=_number_text(value), classes=classes, on_value=keep)
        with solara.Div(style={"flex": "1"}):
            slider("", value=int(number) if control.integer else number, min=control.low,
                   max=control.high, step=control.step, thumb_label=False, on_value=keep)  # fmt: skip


@solara.component
def ParametersCard(session: Session) -> None:
    """The scenario, the seed and every parameter that applies, with Reset and the model's messages."""
    session.built.get()  # not the tick: a step changes nothing here
    form = session.form.value
    changed = session.live.read(lambda m: pending(form, m))
    with solara.Card("Model parameters"):
        solara.Select("Scenario", values=sorted(REGISTRY), value=form["scenario"],
                      on_value=session.choose_scenario, classes=["matryoshka-param-scenario"])  # fmt: skip
        solara.InputText("Seed", value=str(form["seed"]), classes=["matryoshka-param-seed"],
                         on_value=lambda x: session.set_param("seed", x))  # fmt: skip
        for control in shown(form):
            ParamControl(session, control, form[control.key]).key(control.key)
        reset = solara.Button("Reset", color="primary", on_click=session.reset, classes=["matryoshka-reset"])
        reset.key("reset")  # the same button when the controls above change: a click is never lost
        if session.form_error.value:
            solara.Error(session.form_error.value, classes=["matryoshka-form-error"])
        elif changed:
            solara.Info("Reset applies: " + ", ".join(changed), dense=True, classes=["matryoshka-pending"])


def _population(model: MatryoshkaModel) -> str:
    return " · ".join(
        f"L{lv} {int(model.summary.get(lv, {}).get('population', 0))}"
        for lv in range(1, model.config["max_depth"] + 1)
    )


def _all_params(model: MatryoshkaModel) -> str:
    """The run's whole configuration, folded, one row per parameter."""
    rows = []
    for key, value in model.config.items():
        k, v = escape(key), escape(_number_text(value))
        rows.append(f'<tr data-param="{k}"><td>{k}</td><td class="value">{v}</td></tr>')
    return (
        '<details class="matryoshka-params"><summary>All parameters of this run</summary>'
        f'<table>{"".join(rows)}</table></details>'
    )


@solara.component
def InformationCard(session: Session) -> None:
    """What runs: the scenario, seed, phase, generation, step and the population per level."""
    session.tick.get()

    def facts(model: MatryoshkaModel) -> tuple[list[tuple[str, str]], str]:
        cfg = model.config
        generation = str(current_generation(model))
        if cfg["selection"] == "steady_state":
            generation += " (the organisms' mean)"
        else:
            generation += f" (training: 0 to {cfg['generations'] - 1})"
        rows = [
            ("Scenario", model.preset.key), ("Seed", seed_of(model)),
            ("Phase", PHASE_NAMES[model.phase] + ("" if model.running else ", finished")),
            ("Generation", generation), ("Step", str(model.steps)), ("Population", _population(model)),
        ]  # fmt: skip
        return rows, _all_params(model)

    rows, params = session.live.read(facts)
    with solara.Card("Information"):
        with solara.Column(gap="2px", classes=["matryoshka-info"]):
            for name, value in rows:
                solara.Text(f"{name}: {value}", classes=[f"matryoshka-info-{name.lower()}"])
        solara.HTML(unsafe_innerHTML=params)


@solara.component
def RunProgress(session: Session) -> None:
    """A long run's progress (it redraws nothing else until it ends)."""
    job, progress = session.job.value, session.progress.value
    if job in ("generation", "training"):
        done, total = progress or (0, None)
        solara.ProgressLinear(100 * done / total if total else True, classes=["matryoshka-progress"])
        solara.Text(f"running without redrawing: {done} steps" + (f" of {total}" if total else ""))


@solara.component
def Toolbar(session: Session) -> None:
    """The run controls, the phase line at the last redraw, a long run's progress, a failed step."""
    session.tick.get()
    job = session.job.value

    def state(model: MatryoshkaModel) -> tuple[str, bool, bool, bool]:
        left = training_steps_left(model)
        return phase_text(model), model.running, model.phase == "train" and model.running, left > 1

    phase, running, training, more = session.live.read(state)
    with solara.Div(classes=["matryoshka-toolbar"]):
        solara.Button("❚❚" if job else "▶", color="primary", on_click=session.play,
                      disabled=not running and not job, classes=["matryoshka-play"])  # fmt: skip
        solara.Button("Step", color="primary", on_click=session.step, disabled=bool(job) or not running)
        solara.Button("+1 generation", color="primary", on_click=session.next_generation,
                      disabled=bool(job) or not running)  # fmt: skip
        solara.Button("Run to end of training", color="primary", on_click=session.end_of_training,
                      disabled=bool(job) or not more)  # fmt: skip
        solara.Button("Shift to deployment", color="warning", on_click=session.shift, disabled=not training)
    solara.Text(phase, classes=["matryoshka-phase"], style={"font-size": "1.1em"})
    RunProgress(session)
    if session.run_error.value:
        solara.Error(session.run_error.value, classes=["matryoshka-run-error"])


def _fmt(value: float) -> str:
    return "–" if value != value else f"{value:+.2f}"


def _chain_table(rows: list[dict[str, Any]]) -> str:
    """The selected agent's chain as an HTML table, Level 1 first."""
    head = ("<tr><th>agent</th><th>with builder<br>train / deploy</th>"
            "<th>with base objective<br>train / deploy</th></tr>")  # fmt: skip
    body = []
    for r in rows:
        dot = f'<span class="dot" style="color: {alignment_color(r["align_base_train"])}">●</span>'
        body.append(
            f'<tr class="{"selected" if r["selected"] else ""}"><td>{dot} L{r["level"]} {r["kind"]} '
            f'{r["id"]}</td><td>{_fmt(r["align_parent_train"])} / {_fmt(r["align_parent_deploy"])}</td>'
            f'<td>{_fmt(r["align_base_train"])} / {_fmt(r["align_base_deploy"])}</td></tr>'
        )
    return f'<table class="matryoshka-chain-table">{head}{"".join(body)}</table>'


@solara.component
def SelectedAgent(session: Session, agent_id: int) -> None:
    """The selected agent's chain up to Level 1 (and its tools), with each one's alignment."""
    session.tick.get()
    rows = session.live.read(lambda m: chain_rows(m, agent_id))
    with solara.Card(f"Agent {agent_id}", classes=["matryoshka-selected"], margin=0):
        if rows is None:
            solara.Text("It is no longer alive (click another agent).")
            return
        solara.Text("Its chain from Level 1 (the builder of a Level-1 organism is its parent); "
                    "alignment is the correlation of objectives over the training and the deployment "
                    "world's cells.", style={"font-size": "12px"})  # fmt: skip
        solara.HTML(unsafe_innerHTML=_chain_table(rows))


@solara.component
def MainView(session: Session) -> None:
    """The run controls, the world (click an agent) and the charts."""
    session.tick.get()
    feature_choice, set_feature = solara.use_state(None)
    x_axis, set_x_axis = solara.use_state(X_AXES[0])
    selected = session.selected.value

    def select(agent_id: int) -> None:
        session.selected.set(None if agent_id < 0 else agent_id)

    def draw(model: MatryoshkaModel) -> tuple[list[str], str, str, list[dict[str, Any]]]:
        features = list(model.preset.features)
        feature = feature_choice if feature_choice in features else features[0]
        return features, feature, world_svg(model, feature, selected), all_charts(model, x_axis)

    features, feature, svg, charts = session.live.read(draw)
    with solara.Column(style={"min-width": "0"}):
        Toolbar(session)
        with solara.Div(classes=["matryoshka-main"]):
            with solara.Column(classes=["matryoshka-world-column"]):
                with solara.Div(style={"width": "220px"}):
                    solara.Select("Feature layer", values=features, value=feature, on_value=set_feature,
                                  classes=["matryoshka-feature"])  # fmt: skip
                WorldView.element(svg=svg, selected=-1 if selected is None else selected, on_selected=select)
                if selected is not None:
                    SelectedAgent(session, selected)
            with solara.Column(classes=["matryoshka-chart-column"]):
                with solara.Row(style={"align-items": "center"}):
                    solara.Text("x-axis:")
                    solara.ToggleButtonsSingle(x_axis, values=list(X_AXES), on_value=set_x_axis, dense=True)
                for height, chart in zip(CHART_HEIGHTS, charts, strict=True):
                    box = {"style": f"height: {height}px; width: 100%;", "class": "matryoshka-chart"}
                    solara.FigureEcharts(chart, responsive=True, attributes=box)


@solara.component
def AppPage(session: Session | None = None) -> None:
    """The sidebar (information, parameters) and the main view of this browser session's model.

    Args:
        session: The session to show (tests pass their own); by default each browser session
            builds one, with the default scenario.
    """
    session = solara.use_memo(lambda: session or Session(build_model(default_form())), [])
    solara.use_effect(lambda: session.live.stop, [])  # the browser session ends: stop its job
    solara.Title(TITLE)
    solara.Style(CSS)
    with solara.AppBarTitle():
        solara.Text(TITLE)
    with solara.Div(classes=["matryoshka-page"]):
        with solara.Column(classes=["matryoshka-sidebar"]):
            InformationCard(session)
            ParametersCard(session)
            with solara.Card("Play"):
                n = session.redraw_every.value
                solara.SliderInt(f"Steps per redraw: {n}", value=session.redraw_every, min=1, max=50,
                                 thumb_label=False)  # fmt: skip
        MainView(session)


page = AppPage()
