"""Every registered scenario builds and runs under warnings-as-errors, in every selection mode."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import ConfigError
from matryoshka.model.scenarios import REGISTRY, get
from matryoshka.runs.experiment import parse

SELECTIONS = ("generational", "steady_state", "neutral")
TINY = dict(population=20, generations=2, episode_steps=6, deploy_episodes=1, shift_at=6,
            total_steps=12, build_rate=0.3)  # fmt: skip


def run_tiny(key: str, selection: str, seed: int = 1, **params) -> MatryoshkaModel:
    model = MatryoshkaModel(key, rng=seed, selection=selection, **{**TINY, **params})
    for _ in range(40):
        if not model.running:
            break
        model.step()
    return model


def test_registry_is_not_empty_and_keys_are_versioned():
    assert "maze-v2" in REGISTRY
    for key, cls in REGISTRY.items():
        assert re.fullmatch(r"[a-z][a-z0-9_-]*-v\d+", key), key
        assert cls.key == key
        assert cls.__doc__ and cls.__doc__.strip(), f"{key} has no docstring"
        assert len(cls.features) == len(cls.noise) == len(cls.base_weights)


def test_a_retired_scenario_is_refused_with_what_changed_and_what_replaced_it():
    retired = r"scenario 'maze-v1' is retired: .*noise 0\.35.*maze-v2 replaced it"
    with pytest.raises(ConfigError, match=retired):
        get("maze-v1")
    with pytest.raises(ConfigError, match="retired"):
        parse({"scenario": "maze-v1"}, "old.toml", "old")


def test_every_shipped_scenario_module_has_a_changelog_line_for_its_key():
    for key, cls in REGISTRY.items():
        module = sys.modules[cls.__module__]
        if module.__name__.startswith("matryoshka.model.scenarios."):
            changelog = module.__doc__.split("Changelog:")[-1]
            assert "Changelog:" in module.__doc__ and key in changelog, key
            assert all(old in changelog for old in cls.retired), key


def test_unknown_scenario_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"unknown scenario 'maze-v3'.*Did you mean 'maze-v2'"):
        get("maze-v3")


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_scenario_runs_under_warnings_as_errors(key, selection):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = run_tiny(key, selection)
        model.finish()
        levels = model.recorder.levels_table()
        agents = model.recorder.agents_table()
    assert model.steps >= 12
    assert not model.running
    assert model.phase == "deploy"  # every mode reaches the shift
    assert levels.num_rows > 0 and agents.num_rows >= TINY["population"]
    slots = model.pop.slots
    assert len(slots) > 0
    assert (model.pop["generation"][slots] >= 0).all()


def test_scenarios_import_and_run_under_python_w_error():
    """Import-time warnings count too: run the registry in a fresh ``python -W error``."""
    code = textwrap.dedent(
        f"""
        from matryoshka.model.model import MatryoshkaModel
        from matryoshka.model.scenarios import REGISTRY
        for key in REGISTRY:
            for selection in {SELECTIONS!r}:
                model = MatryoshkaModel(key, rng=2, selection=selection, **{TINY!r})
                while model.running and model.steps < 40:
                    model.step()
                model.finish()
                model.recorder.levels_table(); model.recorder.agents_table()
        print("ok", len(REGISTRY))
        """
    )
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", str(len(REGISTRY))]


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_deployment_world_differs_from_training(key):
    model = MatryoshkaModel(key, rng=0, **TINY)
    train, deploy = model.train_world, model.deploy_world
    assert train.features.shape == deploy.features.shape
    assert not (
        np.array_equal(train.features, deploy.features) and np.array_equal(train.reward, deploy.reward)
    )
    model.deploy()
    assert model.phase == "deploy" and model.world is model.deploy_world
    with pytest.raises(ConfigError):
        model.deploy()


def test_steady_state_switches_world_at_shift_at():
    model = MatryoshkaModel("maze-v2", rng=3, selection="steady_state", population=20, shift_at=5,
                            total_steps=9)  # fmt: skip
    phases = []
    while model.running:
        model.step()
        phases.append(model.phase)
    assert phases == ["train"] * 4 + ["deploy"] * 5


def test_generational_phases_follow_generations_then_deployment():
    model = MatryoshkaModel("maze-v2", rng=3, population=10, generations=3, episode_steps=4,
                            deploy_episodes=2, tool_policy="forbid")  # fmt: skip
    seen = []
    while model.running:
        seen.append((model.phase, model.generation))
        model.step()
    assert model.steps == 4 * (3 + 2)
    assert seen == [("train", 0)] * 4 + [("train", 1)] * 4 + [("train", 2)] * 4 + [("deploy", 2)] * 8


def test_maze_exit_and_landmark_by_hand():
    model = MatryoshkaModel("maze-v2", rng=0, **TINY)
    train, deploy = model.train_world, model.deploy_world
    assert train.marks["exit"] == (10, 10)
    assert deploy.marks["exit"] == (model.config["width"] - 3, 2)
    assert train.reward[10, 10] == 1.0 and train.reward.sum() == 1.0
    assert deploy.reward[10, 10] == 0.0
    k = get("maze-v2").features.index("exit_signal")
    assert train.features[10, 10, k] == train.features[..., k].max() == 1.0
    landmark = get("maze-v2").features.index("landmark")
    assert deploy.features[10, 10, landmark] == deploy.features[..., landmark].max()


def test_maze_too_small_is_refused_with_the_reason():
    with pytest.raises(ConfigError, match=r"'width' = 12.*at least 13"):
        MatryoshkaModel("maze-v2", rng=0, width=12)
