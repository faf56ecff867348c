"""A scenario declared only here, registered as a third-party package's entry point would register it.

It has its own parameter, state column, per-level and whole-world metrics, marked cell and shift
axis; nothing outside this file names any of them. It must run, be summarised, be listed by
`matryoshka params`, and appear in `sweep.parquet` and in the analysis' tables and figures.
"""

import json
from collections.abc import Iterator, Mapping
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import matryoshka.model.scenarios as scenarios
from matryoshka.agents.paths import Paths
from matryoshka.analysis.cli import main as analyze
from matryoshka.model.contract import PHASE_END, Metric
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import ConfigError, Param
from matryoshka.model.scenarios.base import PopulationView, Preset, Update
from matryoshka.model.world import World, distance_map
from matryoshka.runs.cli import main as cli
from matryoshka.runs.single import run_simulation
from matryoshka.runs.sweep import run_sweep

TINY = {"population": 12, "generations": 2, "episode_steps": 6, "deploy_episodes": 1, "width": 9,
        "height": 9, "max_depth": 2}


class Beacon(Preset):
    """Find the lit beacon: at (2, 2) in training, at the far corner in deployment."""

    key = "beacon-v1"
    features = ("glow", "centre")
    noise = (0.05, 0.05)
    base_weights = (1.0, 0.0)
    organism_features = features
    tool_features = ("glow",)
    defaults = {"population": 20}
    params = {"beacon_reward": Param(float, 1.0, "reward per step on the beacon", 0, 10)}
    columns = {"lit_seen": (bool, (), False)}
    metrics = (
        Metric("seen_beacon", "share of agents that stood on the beacon this episode", PHASE_END,
               share=True, headline=True, printed=True),
        Metric("crowd", "most agents on one cell", per_level=False),
    )
    marks = {"beacon": "#009e73"}
    shift_axis = "beacon_reward"
    shift_metrics = ("seen_beacon",)

    def world(self, config: Mapping[str, Any], phase: str, paths: Paths) -> World:
        shape = (config["width"], config["height"])
        beacon = (2, 2) if phase == "train" else (shape[0] - 1, shape[1] - 1)
        glow = 1.0 - distance_map(shape, beacon) / distance_map(shape, beacon).max()
        centre = 1.0 - distance_map(shape, (shape[0] // 2, shape[1] // 2)) / max(shape)
        reward = np.zeros(shape)
        reward[beacon] = config["beacon_reward"]
        return World(np.stack([glow, centre], axis=-1), np.zeros(shape, bool), reward, {"beacon": beacon})

    def begin_episode(self, phase, world, view, rng, config, paths) -> Update:
        return Update(columns={"lit_seen": np.zeros(len(view.pos), bool)})

    def observe(self, world: World, view: PopulationView) -> Update:
        on = view.pos == world.cell(world.marks["beacon"])
        return Update(columns={"lit_seen": view.columns["lit_seen"] | on})

    def agent_metrics(self, world: World, view: PopulationView) -> dict[str, np.ndarray]:
        return {"seen_beacon": view.columns["lit_seen"].astype(float)}

    def world_metrics(self, world: World, view: PopulationView) -> dict[str, float]:
        return {"crowd": float(np.bincount(view.pos).max()) if len(view.pos) else 0.0}


@pytest.fixture
def beacon() -> Iterator[type[Beacon]]:
    """Beacon in the registry for one test, registered by the entry-point loader itself."""
    point = EntryPoint("beacon-v1", f"{__name__}:Beacon", scenarios.ENTRY_POINTS)
    original = scenarios.entry_points
    scenarios.entry_points = lambda group: [point] if group == scenarios.ENTRY_POINTS else []
    try:
        scenarios._register_installed()
    finally:
        scenarios.entry_points = original
    yield scenarios.REGISTRY["beacon-v1"]
    scenarios.REGISTRY.pop("beacon-v1")


def test_it_runs_is_summarised_and_keeps_its_own_parameter(beacon, tmp_path: Path) -> None:
    assert beacon is Beacon
    summary = run_simulation("beacon-v1", {**TINY, "beacon_reward": 2.0}, 1, tmp_path / "run", progress=False)
    for phase in ("train", "deploy"):
        assert 0.0 <= summary[f"{phase}/L1/seen_beacon"] <= 1.0
        assert summary[f"{phase}/L0/crowd"] >= 1.0  # the whole world's metric sits at level 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"]["beacon_reward"] == 2.0 and "random_exit_share" not in manifest["config"]
    assert manifest["metrics"]["seen_beacon"]["summary"] == "phase_end"
    assert manifest["world"]["beacon_deploy"] == [8, 8] and manifest["world"]["marks"] == Beacon.marks
    assert manifest["shift"]["axis"] == "beacon_reward"
    model = MatryoshkaModel("beacon-v1", rng=0, **TINY)
    model.step()
    assert {"seen_beacon_L1", "seen_beacon_L2", "crowd"} <= set(model.datacollector.model_reporters)
    with pytest.raises(ConfigError, match="'beacon_reward' = 20"):
        MatryoshkaModel("beacon-v1", beacon_reward=20)
    with pytest.raises(ConfigError, match="unknown parameter 'beacon_reward'"):
        MatryoshkaModel("maze-v2", beacon_reward=1.0)


def test_params_lists_its_own_parameters_and_no_other_scenarios(beacon, capsys) -> None:
    assert cli(["params", "--scenario", "beacon-v1"]) == 0
    own = capsys.readouterr().out
    assert "beacon-v1 only:" in own and "beacon_reward" in own and "random_exit_share" not in own
    assert cli(["params", "--scenario", "maze-v2"]) == 0
    assert "beacon_reward" not in capsys.readouterr().out


def test_a_bad_declaration_is_refused() -> None:
    class Broken(Beacon):
        key = "broken-v1"
        params = {"population": Param(int, 3, "clashes with the global one", 1, 9)}

    with pytest.raises(ValueError, match="already global parameters"):
        scenarios.register(Broken)
    Broken.params, Broken.key = {}, "broken"
    with pytest.raises(ValueError, match="version number"):
        scenarios.register(Broken)
    assert "broken-v1" not in scenarios.REGISTRY and "broken" not in scenarios.REGISTRY


def test_a_broken_entry_point_warns_and_the_others_still_work(monkeypatch) -> None:
    point = EntryPoint("nope-v1", "no_such_module_anywhere:Nope", scenarios.ENTRY_POINTS)
    monkeypatch.setattr(scenarios, "entry_points", lambda group: [point])
    with pytest.warns(UserWarning, match="'nope-v1'.*was not registered"):
        scenarios._register_installed()
    assert "nope-v1" not in scenarios.REGISTRY and "maze-v2" in scenarios.REGISTRY


@pytest.mark.slow
def test_its_metric_reaches_the_sweep_table_and_the_analysis(beacon, tmp_path: Path) -> None:
    experiment = tmp_path / "beacon.toml"
    params = "\n".join(f"{k} = {v}" for k, v in TINY.items())
    experiment.write_text(f'scenario = "beacon-v1"\n[params]\n{params}\n[sweep]\nbeacon_reward = [0.5, 2.0]\n'
                          "[seeds]\ncount = 2\n")
    out = tmp_path / "sweep"
    result = run_sweep(experiment, out, workers=1, progress=False)
    assert result.complete == 4
    table = pd.read_parquet(out / "sweep.parquet")
    assert {"beacon_reward", "deploy/L1/seen_beacon", "train/L0/crowd"} <= set(table.columns)
    assert analyze([str(out)]) == 0
    summary = pd.read_csv(out / "figures" / "summary.csv")
    assert {"seen_beacon", "crowd"} <= set(summary["metric"])
    assert "seen_beacon" in (out / "figures" / "summary.md").read_text().splitlines()[4]  # the header
    shift = pd.read_csv(out / "figures" / "shift.csv")
    assert set(shift["measure"]) == {"seen_beacon"} and set(shift["beacon_reward"]) == {0.5, 2.0}
    assert (out / "figures" / "occupancy.png").is_file()
