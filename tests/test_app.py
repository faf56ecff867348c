"""The browser view without a browser: portrayal, world drawing, charts, controls and the page."""

from __future__ import annotations

import gc
import json
import math
import time
import weakref
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import ipyvuetify as v
import numpy as np
import pytest
import solara
from matplotlib import colormaps
from matplotlib.colors import to_hex, to_rgb
from solara.components.echarts import EchartsWidget

from matryoshka.agents.portrayal import (
    FADED_OPACITY,
    UNDEFINED_COLOR,
    WALL_STYLE,
    agent_portrayal,
    alignment_color,
    chain_rows,
    chain_slots,
    world_svg,
)
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import PARAMS, ConfigError
from matryoshka.model.scenarios import REGISTRY, get
from matryoshka.runs import app, charts, controls

FEATURES = ("exit_signal", "landmark", "dist_origin")
SVG = "{http://www.w3.org/2000/svg}"


def stand_in(kind: str = "organism", level: int = 1, align: float = 0.5, uid: int = 7) -> SimpleNamespace:
    """An object with what the portrayal reads: organisms now, tools at any level later."""
    genome = SimpleNamespace(top_weights=lambda names: [(names[1], 0.8), (names[0], -0.5)])
    return SimpleNamespace(
        kind=kind, level=level, align_base=align, unique_id=uid, pos=(3, 4), generation=5,
        genome=genome, model=SimpleNamespace(preset=SimpleNamespace(features=FEATURES)), builder=2,
    )  # fmt: skip


@pytest.fixture
def model() -> MatryoshkaModel:
    m = MatryoshkaModel("maze-v2", rng=42, population=30)
    for _ in range(3):
        m.step()
    return m


# -- portrayal -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "level", "marker", "size"),
    [("organism", 1, "o", 25), ("tool", 2, "^", 36), ("tool", 3, "s", 49), ("tool", 4, "D", 64)],
)
def test_marker_and_size_by_level(kind: str, level: int, marker: str, size: int) -> None:
    style = agent_portrayal(stand_in(kind, level))
    assert (style.marker, style.size, style.zorder) == (marker, size, level)
    assert (style.linewidths > 1) == (kind == "tool")  # tools are outlined


def test_colour_is_the_diverging_map_of_alignment() -> None:
    rd_bu = colormaps["RdBu"]
    assert agent_portrayal(stand_in(align=1.0)).color == to_hex(rd_bu(1.0)) == "#053061"  # dark blue
    assert agent_portrayal(stand_in(align=-1.0)).color == to_hex(rd_bu(0.0)) == "#67001f"  # dark red
    assert agent_portrayal(stand_in("tool", 2, align=0.5)).color == to_hex(rd_bu(0.75))
    assert min(to_rgb(alignment_color(0.0))) > 0.9  # unrelated: near white
    assert alignment_color(3.0) == alignment_color(1.0)  # clipped
    assert agent_portrayal(stand_in(align=math.nan)).color == UNDEFINED_COLOR


def test_tooltip_has_id_level_generation_and_top_weights() -> None:
    organism = agent_portrayal(stand_in(uid=11)).tooltip
    assert organism == {
        "organism": 11, "level": 1, "generation": 5, "alignment with base": "+0.50",
        "top weights": "landmark +0.80, exit_signal -0.50",
    }  # fmt: skip
    assert agent_portrayal(stand_in("tool", 3, uid=12)).tooltip["built by"] == 2
    assert agent_portrayal(stand_in(align=math.nan)).tooltip["alignment with base"] == "undefined"


def test_position_is_inside_the_agents_cell() -> None:
    for uid in range(50):
        style = agent_portrayal(stand_in(uid=uid))
        assert abs(style.x - 3) < 0.5 and abs(style.y - 4) < 0.5


# -- the world -----------------------------------------------------------------------------------


def test_world_svg_draws_cells_walls_marks_and_every_agent(model: MatryoshkaModel) -> None:
    root = ET.fromstring(world_svg(model, "landmark"))
    w, h = model.grid.width, model.grid.height
    cells = root.find(f"{SVG}g").findall(f"{SVG}rect")
    assert len(cells) == w * h
    assert sum(r.get("fill") == WALL_STYLE.color for r in cells) == int(model.world.walls.sum())
    tips = [t.text for t in root.iter(f"{SVG}title")]
    assert len(tips) == len(model.agents)
    agent = next(iter(model.agents))
    head = f"organism: {agent.unique_id}\nlevel: 1\ngeneration: {agent.generation}\nalignment with base: "
    assert any(tip.startswith(head) and "\ntop weights: " in tip for tip in tips)
    labels = {t.text for t in root.iter(f"{SVG}text")}
    assert {"exit", "landmark", "origin", "alignment with base objective"} <= labels


def test_world_svg_puts_the_origin_bottom_left(model: MatryoshkaModel) -> None:
    root = ET.fromstring(world_svg(model, "exit_signal"))
    cell = int(root.find(f"{SVG}g").find(f"{SVG}rect").get("width"))
    origin = [r for r in root.findall(f"{SVG}rect") if r.get("stroke") == "#546e7a"][0]
    assert float(origin.get("x")) < cell and float(origin.get("y")) > (model.grid.height - 1) * cell


def test_world_svg_gives_each_agent_its_id_and_scales_to_its_box(model: MatryoshkaModel) -> None:
    root = ET.fromstring(world_svg(model, "landmark"))
    ids = [int(e.get("data-agent")) for e in root.iter() if e.get("data-agent")]
    assert sorted(ids) == sorted(a.unique_id for a in model.agents)
    assert root.get("width") == "100%" and root.get("viewBox").startswith("0 0 ")


# -- the selected agent's chain ------------------------------------------------------------------


def test_chain_slots_follow_builders_up_and_tools_down() -> None:
    # slot 0: an organism whose tool is slot 2, whose tool is slot 5; slot 1 stands alone
    pop = {"builder_slot": np.array([-1, -1, 0, -1, -1, 2]), "tool_slot": np.array([2, -1, 5, -1, -1, -1])}
    assert chain_slots(pop, 0) == chain_slots(pop, 2) == chain_slots(pop, 5) == [0, 2, 5]
    assert chain_slots(pop, 1) == [1]


@pytest.fixture(scope="module")
def deep_model() -> MatryoshkaModel:
    """A maze with tools of tools (Level 3) alive."""
    m = MatryoshkaModel("maze-v2", rng=7, population=60, build_rate=0.5, build_power=0.0)
    while not (m.pop["level"][m.pop.slots] == 3).any():
        m.step()
    return m


def test_chain_rows_list_the_chain_from_level_1_with_each_ones_alignment(deep_model) -> None:
    pop = deep_model.pop
    slot = int(pop.slots[pop["level"][pop.slots] == 3][0])
    builder = int(pop["builder_slot"][slot])
    organism = int(pop["builder_slot"][builder])
    rows = chain_rows(deep_model, int(pop["id"][slot]))
    assert [(r["level"], r["kind"], r["id"], r["selected"]) for r in rows] == [
        (1, "organism", int(pop["id"][organism]), False), (2, "tool", int(pop["id"][builder]), False),
        (3, "tool", int(pop["id"][slot]), True),
    ]  # fmt: skip
    assert rows[2]["align_parent_train"] == pop["align_parent_train"][slot]  # with its builder
    assert rows[0]["align_base_deploy"] == pop["align_base_deploy"][organism]
    assert chain_rows(deep_model, -5) is None


def test_world_svg_rings_the_selected_chain_and_fades_the_rest(deep_model) -> None:
    pop = deep_model.pop
    slot = int(pop.slots[pop["level"][pop.slots] == 3][0])
    root = ET.fromstring(world_svg(deep_model, "landmark", selected=int(pop["id"][slot])))
    line = root.find(f"{SVG}polyline")
    assert line is not None and len(line.get("points").split()) == 3  # organism, tool, tool of tool
    chain = {int(pop["id"][s]) for s in chain_slots(pop, slot)}
    faded = {int(e.get("data-agent")) for e in root.iter() if e.get("fill-opacity") == str(FADED_OPACITY)}
    assert faded == {a.unique_id for a in deep_model.agents} - chain
    plain = ET.fromstring(world_svg(deep_model, "landmark"))
    assert plain.find(f"{SVG}polyline") is None


# -- charts --------------------------------------------------------------------------------------


def test_step_charts_have_a_line_per_level_and_one_point_per_step(model: MatryoshkaModel) -> None:
    population = charts.population_chart(model, charts.points(model, "step"))
    assert [s["name"] for s in population["series"]] == ["L1", "L2", "L3"]
    assert population["series"][0]["data"][-1] == [3, 30.0]
    alignment = charts.alignment_chart(model, charts.points(model, "step"))
    assert len(alignment["series"]) == 6 and alignment["yAxis"]["min"] == -1
    weights = charts.weights_chart(model, charts.points(model, "step"))
    assert {s["name"] for s in weights["series"]} == {f"{f} L{lv}" for f in FEATURES for lv in (1, 2, 3)}
    for chart in (population, alignment, weights):
        json.dumps(chart, allow_nan=False)  # NaN (no agents at a level) is sent as a gap
        assert "markArea" not in chart["series"][0]


def test_step_charts_shade_deployment_and_thin_long_runs(model: MatryoshkaModel) -> None:
    model.deploy()
    model.step()
    area = charts.population_chart(model, charts.points(model, "step"))["series"][0]["markArea"]["data"][0]
    assert (area[0]["xAxis"], area[1]["xAxis"]) == (3, 4)
    for _ in range(charts.MAX_POINTS + 30):
        model.step()
    data = charts.population_chart(model, charts.points(model, "step"))["series"][0]["data"]
    assert len(data) <= charts.MAX_POINTS + 1 and data[-1][0] == model.steps


def test_generation_charts_show_each_generations_mean_and_shade_deployment() -> None:
    model = MatryoshkaModel("maze-v2", rng=2, population=10, generations=3, episode_steps=4,
                            deploy_episodes=1, tool_policy="forbid")  # fmt: skip
    while model.running:
        model.step()
    df = model.datacollector.get_model_vars_dataframe()
    # rows hold the state after each step: row 0 before any step, rows 1-4 generation 0's steps,
    # rows 5-8 and 9-12 generations 1 and 2, rows 13-16 the deployment episode
    groups = [range(0, 5), range(5, 9), range(9, 13), range(13, 17)]
    chart = charts.alignment_chart(model, charts.points(model))
    assert chart["xAxis"]["data"] == ["0", "1", "2", "deploy"] and chart["xAxis"]["name"] == "generation"
    line = next(s for s in chart["series"] if s["name"] == "L1 deploy")
    by_hand = [round(sum(df["align_base_deploy_L1"].iloc[list(g)]) / len(g), 3) for g in groups]
    assert line["data"] == by_hand
    assert charts.population_chart(model, charts.points(model))["series"][0]["data"] == [10.0] * 4
    area = chart["series"][0]["markArea"]["data"][0]
    assert (area[0]["xAxis"], area[1]["xAxis"]) == (2, 3)  # from generation 2 to the deployment point


# -- the controls --------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(REGISTRY))
def test_choosing_a_scenario_gives_every_control_that_scenarios_value(scenario: str) -> None:
    form = controls.scenario_form(scenario, seed=9)
    config = get(scenario).validate({})
    assert form["scenario"] == scenario and form["seed"] == "9"
    keys = [c.key for c in controls.controls_of(scenario)]
    assert set(get(scenario).params) <= set(keys)  # the scenario's own parameters have controls
    assert {k: form[k] for k in keys} == {k: config[k] for k in keys}
    model = controls.build_model(form)
    assert controls.model_form(model) == form
    assert controls.pending(form, model) == []


def test_scenario_values_differ_where_the_scenarios_do() -> None:
    evolution, approval = controls.scenario_form("evolution-v1"), controls.scenario_form("approval-v1")
    assert (evolution["selection"], evolution["population"]) == ("steady_state", 60)
    assert (approval["deception_share"], approval["population"], approval["power"]) == (0.3, 150, 0.6)


def test_controls_that_do_not_apply_are_hidden() -> None:
    def keys(scenario: str, **change) -> set[str]:
        return {c.key for c in controls.shown({**controls.scenario_form(scenario), **change})}

    assert {"random_exit_share", "generations"} <= keys("maze-v2")
    assert not {"shift_at", "total_steps"} & keys("maze-v2")
    assert {"shift_at", "total_steps"} <= keys("evolution-v1")
    assert not {"random_exit_share", "generations"} & keys("evolution-v1")
    assert "generations" in keys("evolution-v1", selection="generational")
    assert "random_exit_share" not in keys("approval-v1")


def test_every_allowed_value_can_be_chosen() -> None:
    approval = controls.build_model({**controls.scenario_form("approval-v1"), "deception_share": 0})
    assert approval.config["deception_share"] == 0.0  # not the scenario's 0.3
    evolution = controls.build_model({**controls.scenario_form("evolution-v1"), "selection": "generational"})
    assert evolution.config["selection"] == "generational"
    typed = {**controls.scenario_form("maze-v2"), "population": "2", "mutation_rate": "5", "seed": " 7 "}
    model = controls.build_model(typed)  # beyond the sliders' ends, typed in the boxes
    assert (model.config["population"], model.config["mutation_rate"]) == (2, 5.0)
    assert controls.seed_of(model) == "7"


def test_sliders_stay_inside_what_each_parameter_allows() -> None:
    own = [c for scenario in REGISTRY for c in controls.scenario_controls(scenario)]
    for c in [*controls.CONTROLS, *own]:
        spec = c.param
        assert spec is PARAMS.get(c.key) or c in own
        assert (c.choices is None) == (spec.choices is None and spec.kind is not bool)
        if c.low is not None:
            assert spec.low <= c.low < c.high <= spec.high and c.step > 0, c.key


def test_refused_values_raise_the_models_own_message() -> None:
    form = controls.scenario_form("maze-v2")
    with pytest.raises(ConfigError, match="parameter 'population' = 'abc' is not allowed: expected an int"):
        controls.build_model({**form, "population": "abc"})
    for seed in ("abc", "-1", "1.5", ""):
        with pytest.raises(ConfigError, match=f"seed '{seed}' is not allowed: expected a whole number"):
            controls.build_model({**form, "seed": seed})


def test_hidden_controls_are_left_to_the_scenario() -> None:
    form = {**controls.scenario_form("evolution-v1"), "random_exit_share": 0.5, "generations": 3}
    config = controls.build_model(form).config
    assert "random_exit_share" not in config and config["generations"] == 20


def test_pending_names_the_controls_that_reset_would_change() -> None:
    model = controls.build_model(controls.default_form())
    form = {**controls.model_form(model), "population": "80", "power": 0.5, "seed": "43"}
    assert controls.pending(form, model) == ["Seed", "Population"]
    assert controls.pending({**form, "scenario": "approval-v1"}, model)[0] == "Scenario"


# -- the page ------------------------------------------------------------------------------------


def _click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def _render(model: MatryoshkaModel) -> tuple[app.Session, object]:
    """Render the page as the server does, inside an app layout; return its session and context."""
    session = app.Session(model)
    box, rc = solara.render(solara.AppLayout(children=[app.AppPage(session)]), handle_error=False)
    return session, rc


def _text(rc, css_class: str) -> str:
    """The text of the one widget with this class (a line of text or a message)."""
    return rc.find(class_=css_class).widget.children[0]


def _phase(rc) -> str:
    return _text(rc, "matryoshka-phase")


def _settle(session: app.Session, rc, seconds: float = 60) -> None:
    """Wait until no job runs and the page has drawn the model's last state.

    A job ends in its own thread, which then redraws the page; the limit only keeps a broken page
    from hanging the tests.
    """
    deadline = time.monotonic() + seconds
    while session.job.value is not None or _phase(rc) != session.live.read(app.phase_text):
        assert time.monotonic() < deadline, "the page did not settle"
        time.sleep(0.05)


def _type(rc, key: str, text: str) -> None:
    """Type into a parameter's box and leave it, as a person does."""
    box = rc.find(v.TextField, class_=f"matryoshka-param-{key}").widget
    box.v_model = text
    box.fire_event("keyup.enter")


def _shown(rc, scenario: str) -> dict[str, object]:
    """What each parameter control displays, read as the model would read it, by parameter name."""
    shown = {}
    for c in controls.controls_of(scenario):
        found = rc.find(class_=f"matryoshka-param-{c.key}")
        if found.widgets:
            shown[c.key] = get(scenario).coerce(c.key, found.widget.v_model)
    return shown


def _small(scenario: str = "maze-v2", **params) -> MatryoshkaModel:
    return controls.build_model({**controls.scenario_form(scenario), "population": 30, **params})


def test_page_renders_steps_shifts_and_resets() -> None:
    session, rc = _render(_small())
    try:
        assert _phase(rc) == "Phase: training · generation 0 (training ends after 19) · step 0"
        assert rc.find(app.WorldView).widget.svg.startswith('<svg class="matryoshka-world"')
        for _ in range(3):
            _click(rc, "Step")
        assert _phase(rc).endswith("step 3")
        _click(rc, "Shift to deployment")
        assert _phase(rc).startswith("Phase: deployment")
        assert rc.find(v.Btn, children=["Shift to deployment"]).widget.disabled
        _click(rc, "Step")
        assert _phase(rc) == "Phase: deployment · generation 0 · step 4"
        first = session.live.model
        _click(rc, "Reset")
        assert session.live.model is not first and session.live.model.config == first.config
        assert _phase(rc) == "Phase: training · generation 0 (training ends after 19) · step 0"
        assert not rc.find(v.Btn, children=["Shift to deployment"]).widget.disabled
        replaced = weakref.ref(first)  # the page keeps only the model it shows: Reset frees the old one
        del first
        gc.collect()
        assert replaced() is None
    finally:
        rc.close()


def test_the_sidebar_shows_what_the_model_runs_with() -> None:
    session, rc = _render(_small())
    try:
        for scenario in ("evolution-v1", "approval-v1", "maze-v2"):
            rc.find(v.Select, class_="matryoshka-param-scenario").widget.v_model = scenario
            form = controls.scenario_form(scenario)
            assert _shown(rc, scenario) == {c.key: form[c.key] for c in controls.shown(form)}
            assert "Scenario" in _text(rc, "matryoshka-pending")  # Reset has yet to apply it
            _click(rc, "Reset")
            model = session.live.model
            shown = _shown(rc, scenario)
            assert model.preset.key == scenario and shown == {k: model.config[k] for k in shown}
            assert ("random_exit_share" in shown) == (scenario == "maze-v2")
            assert not rc.find(class_="matryoshka-pending").widgets
            assert _text(rc, "matryoshka-info-scenario") == f"Scenario: {scenario}"
        rc.find(v.Select, class_="matryoshka-param-scenario").widget.v_model = "approval-v1"
        _type(rc, "deception_share", "0")
        _click(rc, "Reset")
        shown = _shown(rc, "approval-v1")
        assert session.live.model.config["deception_share"] == 0 == shown["deception_share"]
        html = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets]
        row = '<tr data-param="deception_share"><td>deception_share</td><td class="value">0</td>'
        assert sum(row in h for h in html) == 1  # the Information card lists the run's parameters
    finally:
        rc.close()


def test_a_refused_value_is_shown_beside_the_controls_and_the_page_keeps_working() -> None:
    session, rc = _render(_small())
    try:
        first = session.live.model
        _type(rc, "seed", "abc")
        _click(rc, "Reset")
        message = _text(rc, "matryoshka-form-error")
        assert "seed 'abc' is not allowed: expected a whole number" in message
        assert session.live.model is first
        _click(rc, "Step")
        assert _phase(rc).endswith("step 1")
        _type(rc, "seed", "5")
        _type(rc, "population", "-3")
        _click(rc, "Reset")
        message = _text(rc, "matryoshka-form-error")
        assert message.startswith("parameter 'population' = '-3' is not allowed: expected an integer in [2, ")
        _type(rc, "population", "12")
        _click(rc, "Reset")
        assert not rc.find(class_="matryoshka-form-error").widgets
        assert (session.live.model.config["population"], controls.seed_of(session.live.model)) == (12, "5")
    finally:
        rc.close()


def test_run_to_end_of_training_then_shift() -> None:
    session, rc = _render(_small(population=20, generations=4))
    try:
        _click(rc, "Run to end of training")
        _settle(session, rc)
        assert _phase(rc) == "Phase: training · generation 3, the last training generation · step 159"
        assert rc.find(v.Btn, children=["Run to end of training"]).widget.disabled
        _click(rc, "Shift to deployment")
        _settle(session, rc)  # the job's thread may still be drawing, and then draws this too
        assert _phase(rc).startswith("Phase: deployment · generation 3 · step 159")
    finally:
        rc.close()


def test_one_more_generation_and_play() -> None:
    session, rc = _render(_small(population=20))
    try:
        _click(rc, "+1 generation")
        _settle(session, rc)
        assert _phase(rc).startswith("Phase: training · generation 1 ") and _phase(rc).endswith("step 40")
        play = rc.find(v.Btn, class_="matryoshka-play").widget
        assert play.children == ["▶"]
        play.click()
        while session.live.read(lambda m: m.steps) < 45:
            time.sleep(0.05)
        play.click()  # now ❚❚: pause
        _settle(session, rc)
        assert session.live.model.steps >= 45 and not session.live.busy
    finally:
        rc.close()


def _chain_tables(rc) -> list[str]:
    html = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets]
    return [h for h in html if "matryoshka-chain-table" in h]


def test_information_card_and_the_selected_agent(deep_model) -> None:
    session, rc = _render(deep_model)
    try:
        pop = deep_model.pop
        population = [int((pop["level"][pop.slots] == lv).sum()) for lv in (1, 2, 3)]
        assert _text(rc, "matryoshka-info-population") == "Population: L1 {} · L2 {} · L3 {}".format(
            *population
        )
        assert _text(rc, "matryoshka-info-seed") == "Seed: 7"
        assert _text(rc, "matryoshka-info-generation") == "Generation: 0 (training: 0 to 19)"
        slot = int(pop.slots[pop["level"][pop.slots] == 3][0])
        rc.find(app.WorldView).widget.selected = int(pop["id"][slot])  # what a click sends
        tables = _chain_tables(rc)
        assert len(tables) == 1 and tables[0].count("<tr") == 4  # a header and three agents
        assert f"L3 tool {int(pop['id'][slot])}" in tables[0]
        assert "<polyline" in rc.find(app.WorldView).widget.svg
        rc.find(app.WorldView).widget.selected = -1  # a click beside the agents
        assert not _chain_tables(rc)
    finally:
        rc.close()


def test_charts_switch_between_generations_and_steps() -> None:
    session, rc = _render(_small())
    try:
        for _ in range(3):
            _click(rc, "Step")

        def x_axes() -> list[str]:
            return [w.option["xAxis"]["name"] for w in rc.find(EchartsWidget).widgets]

        assert x_axes() == ["generation"] * 3
        rc.find(v.BtnToggle).widget.v_model = charts.X_AXES.index("step")  # what a click sends
        assert x_axes() == ["step"] * 3
    finally:
        rc.close()
