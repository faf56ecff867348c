"""The browser view without a browser: portrayal, world drawing, charts, and the page's controls."""

from __future__ import annotations

import json
import math
import statistics
import time
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import ipyvuetify as v
import numpy as np
import pytest
import solara
from matplotlib import colormaps
from matplotlib.colors import to_hex, to_rgb
from mesa.visualization.solara_viz import _build_model_init_kwargs

from matryoshka.agents.portrayal import (
    UNDEFINED_COLOR,
    WALL_STYLE,
    agent_portrayal,
    alignment_color,
    world_svg,
)
from matryoshka.model.params import ConfigError
from matryoshka.runs import app

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
def model() -> app.BrowserModel:
    m = app.BrowserModel(population=30)
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


def test_world_svg_draws_cells_walls_marks_and_every_agent(model: app.BrowserModel) -> None:
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


def test_world_svg_puts_the_origin_bottom_left(model: app.BrowserModel) -> None:
    root = ET.fromstring(world_svg(model, "exit_signal"))
    cell = int(root.find(f"{SVG}g").find(f"{SVG}rect").get("width"))
    origin = [r for r in root.findall(f"{SVG}rect") if r.get("stroke") == "#546e7a"][0]
    assert float(origin.get("x")) < cell and float(origin.get("y")) > (model.grid.height - 1) * cell


# -- charts --------------------------------------------------------------------------------------


def test_charts_have_a_line_per_level_and_one_point_per_step(model: app.BrowserModel) -> None:
    population = app.population_chart(model)
    assert [s["name"] for s in population["series"]] == ["L1", "L2", "L3"]
    assert population["series"][0]["data"][-1] == [3, 30.0]
    alignment = app.alignment_chart(model)
    assert len(alignment["series"]) == 6 and alignment["yAxis"]["min"] == -1
    weights = app.weights_chart(model)
    assert {s["name"] for s in weights["series"]} == {f"{f} L{lv}" for f in FEATURES for lv in (1, 2, 3)}
    for chart in (population, alignment, weights):
        json.dumps(chart, allow_nan=False)  # NaN (no agents at a level) is sent as a gap
        assert "markArea" not in chart["series"][0]


def test_charts_shade_deployment_and_thin_long_runs(model: app.BrowserModel) -> None:
    model.deploy()
    model.step()
    area = app.population_chart(model)["series"][0]["markArea"]["data"][0]
    assert (area[0]["xAxis"], area[1]["xAxis"]) == (3, 4)
    for _ in range(app.MAX_POINTS + 30):
        model.step()
    data = app.population_chart(model)["series"][0]["data"]
    assert len(data) <= app.MAX_POINTS + 1 and data[-1][0] == model.steps


# -- the model as Mesa's controls rebuild it ------------------------------------------------------


def test_mesa_reset_rebuilds_the_chosen_scenario_with_the_seed_from_the_text_box(model) -> None:
    params = {"scenario_key": "evolution-v1", "rng": "7", "population": 20, "max_depth": 2}
    kwargs = _build_model_init_kwargs(
        model, params, add_scenario_when_empty=True, require_model_accepts_scenario=True
    )  # what Mesa 3.5.1's Reset does
    rebuilt = type(model)(**kwargs)
    assert rebuilt.preset.key == "evolution-v1" and rebuilt.config["population"] == 20
    twin = app.BrowserModel("evolution-v1", rng=7, population=20, max_depth=2)
    for m in (rebuilt, twin):
        m.step()
    assert np.array_equal(rebuilt.pop["pos"][rebuilt.pop.slots], twin.pop["pos"][twin.pop.slots])


def test_untouched_controls_leave_the_chosen_scenario_as_designed() -> None:
    start = {k: p.value if hasattr(p, "value") else p["value"] for k, p in app.model_params().items()}
    start.pop("scenario_key")
    approval = app.BrowserModel("approval-v1", **start).config
    assert (approval["deception_share"], approval["population"], approval["power"]) == (0.3, 150, 0.6)
    evolution = app.BrowserModel("evolution-v1", **{**start, "population": 80}).config
    assert (evolution["selection"], evolution["population"]) == ("steady_state", 80)
    assert app.BrowserModel(**start).config == app.BrowserModel().config


def test_a_bad_seed_is_named() -> None:
    with pytest.raises(ConfigError, match="seed 'abc' is not allowed"):
        app.BrowserModel(rng="abc")


def test_controls_cover_the_main_parameters() -> None:
    params = app.model_params()
    assert {"scenario_key", "rng", "population", "mutation_rate", "power", "wisdom", "tool_policy",
            "max_depth", "deception_share", "random_exit_share"} <= set(params)  # fmt: skip
    assert params["scenario_key"]["values"] == ["approval-v1", "evolution-v1", "maze-v1"]
    app.BrowserModel(**{k: p.value if hasattr(p, "value") else p["value"] for k, p in params.items()})


# -- the page ------------------------------------------------------------------------------------


def _click(rc, label: str) -> float:
    """Click a button; return the seconds it took (the step, the re-render and the widget sync)."""
    start = time.perf_counter()
    rc.find(v.Btn, children=[label]).widget.click()
    return time.perf_counter() - start


def _render(model: app.BrowserModel):
    """Render the page as the server does: inside an app layout, which hosts Mesa's sidebar."""
    return solara.render(solara.AppLayout(children=[app.AppPage(model=model)]), handle_error=False)


def _phase(rc) -> str:
    return rc.find(v.Html, class_="matryoshka-phase").widget.children[0]


def test_page_renders_steps_shifts_and_resets() -> None:
    box, rc = _render(app.BrowserModel(population=30))
    try:
        assert _phase(rc) == "Phase: training · generation 0 · step 0"
        world = rc.find(solara.widgets.HTML).widget.unsafe_innerHTML
        assert world.startswith('<svg class="matryoshka-world"')
        for _ in range(3):
            _click(rc, "Step")
        assert _phase(rc) == "Phase: training · generation 0 · step 3"
        _click(rc, "Shift to deployment")
        assert _phase(rc).startswith("Phase: deployment")
        assert rc.find(v.Btn, children=["Shift to deployment"]).widget.disabled
        _click(rc, "Step")
        assert _phase(rc) == "Phase: deployment · generation 0 · step 4"
        _click(rc, "Reset")
        assert _phase(rc) == "Phase: training · generation 0 · step 0"
        assert not rc.find(v.Btn, children=["Shift to deployment"]).widget.disabled
    finally:
        rc.close()


def test_page_switches_scenario_on_reset_and_feature_layer_on_select() -> None:
    box, rc = _render(app.BrowserModel(population=30))
    try:
        rc.find(v.Select, label="Feature layer").widget.v_model = "dist_origin"
        assert ">dist_origin</text>" in rc.find(solara.widgets.HTML).widget.unsafe_innerHTML
        rc.find(v.Select, label="Scenario").widget.v_model = "evolution-v1"
        rc.find(v.Slider, label="Population").widget.v_model = 40
        _click(rc, "Reset")
        features = rc.find(v.Select, label="Feature layer").widget.items
        assert features == ["sweetness", "nutrition", "brightness"]
        assert ">sweetness</text>" in rc.find(solara.widgets.HTML).widget.unsafe_innerHTML
        _click(rc, "Step")
        assert _phase(rc) == "Phase: training · generation 0 · step 1"
    finally:
        rc.close()


def test_a_step_of_the_default_scenario_renders_well_under_a_second() -> None:
    box, rc = _render(app.BrowserModel())
    try:
        _click(rc, "Step")  # warm-up
        seconds = [_click(rc, "Step") for _ in range(5)]
    finally:
        rc.close()
    print(f"step + render: median {statistics.median(seconds) * 1000:.0f} ms")
    assert statistics.median(seconds) < 0.5
