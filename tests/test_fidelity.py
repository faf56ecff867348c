"""Level 0: the base objective as a stand-in for the true objective (base_fidelity), and *_true metrics."""

import json

import numpy as np
import pandas as pd
import pytest

from matryoshka.model import fidelity
from matryoshka.model.fidelity import smooth_field, stand_in
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import ConfigError
from matryoshka.runs.single import run_simulation

SMALL = dict(population=30, generations=3, episode_steps=10, deploy_episodes=1, build_rate=0.2, power=0.8)
BASE_COLUMNS = ("align_base_train", "align_base_deploy", "cos_base", "base_return")
TRUE_COLUMNS = ("align_true_train", "align_true_deploy", "cos_true", "true_return")


def run(key: str, seed: int = 3, **params) -> MatryoshkaModel:
    model = MatryoshkaModel(key, rng=seed, **{**SMALL, **params})
    while model.running:
        model.step()
    model.finish()
    return model


@pytest.mark.parametrize("f", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_the_stand_in_correlates_with_the_true_values_exactly_as_asked(f):
    rng = np.random.default_rng(1)
    true, noise = rng.random(200) ** 3, rng.normal(size=200) + rng.random(200)
    base = stand_in(true, noise, f)
    assert np.corrcoef(base, true)[0, 1] == pytest.approx(f, abs=1e-12)
    assert base.min() == pytest.approx(true.min()) and base.max() == pytest.approx(true.max())


def test_at_fidelity_one_the_stand_in_is_the_true_field_and_a_constant_stays_constant():
    true = np.array([0.0, 1.0, 0.0, 0.0])  # a one-hot exit
    np.testing.assert_allclose(stand_in(true, np.array([3.0, -1.0, 2.0, 0.5]), 1.0), true, atol=1e-12)
    np.testing.assert_array_equal(stand_in(np.ones(4), np.arange(4.0), 0.5), np.ones(4))


def test_a_one_hot_exit_at_fidelity_zero_by_hand():
    # z(true) = (-1/sqrt(3), sqrt(3), -1/sqrt(3), -1/sqrt(3)); noise with no part along it is kept.
    true = np.array([0.0, 1.0, 0.0, 0.0])
    noise = np.array([1.0, 0.0, -1.0, 0.0])  # already orthogonal to z(true)
    np.testing.assert_allclose(stand_in(true, noise, 0.0), [1.0, 0.5, 0.0, 0.5])


def test_the_smooth_field_is_the_same_for_the_same_stream():
    a = smooth_field(np.random.default_rng(5), (21, 21))
    b = smooth_field(np.random.default_rng(5), (21, 21))
    np.testing.assert_array_equal(a, b)
    assert a.std() > 0 and np.abs(np.diff(a, axis=0)).max() < a.std()  # smooth: small steps


@pytest.mark.parametrize("key", ["maze-v2", "approval-v1", "maze-procgen-v1"])
def test_at_fidelity_one_true_metrics_equal_base_ones_and_nothing_is_drawn(key, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no stand-in is built at fidelity 1")

    monkeypatch.setattr(fidelity, "stand_in", refuse)
    monkeypatch.setattr(fidelity, "smooth_field", refuse)
    model = run(key, base_fidelity=1.0)
    agents = model.recorder.agents_table().to_pandas()
    assert (agents.level >= 2).any()
    for base, true in zip(BASE_COLUMNS, TRUE_COLUMNS, strict=True):
        pd.testing.assert_series_equal(agents[base], agents[true], check_names=False)
    levels = model.recorder.levels_table().to_pandas()
    for base, true in zip(BASE_COLUMNS, TRUE_COLUMNS, strict=True):
        a = levels[levels.metric == base].reset_index(drop=True)
        b = levels[levels.metric == true].reset_index(drop=True)
        pd.testing.assert_frame_equal(a.drop(columns="metric"), b.drop(columns="metric"))
    level0 = levels[levels.level == 0]
    assert set(level0.metric) == {"align_base_train", "align_base_deploy", "align_true_train",
                                  "align_true_deploy"}  # fmt: skip
    assert (level0["mean"] == 1.0).all()


def test_fidelity_one_is_the_default_and_changes_nothing():
    a, b = run("approval-v1").recorder, run("approval-v1", base_fidelity=1).recorder
    pd.testing.assert_frame_equal(a.levels_table().to_pandas(), b.levels_table().to_pandas())
    pd.testing.assert_frame_equal(a.agents_table().to_pandas(), b.agents_table().to_pandas())


@pytest.mark.parametrize("key", ["approval-v1", "maze-v2"])
def test_half_fidelity_on_a_large_world_is_recorded_in_the_manifest(key, tmp_path):
    # Large: 60 x 60 cells. The construction is exact, so the tolerance is rounding (1e-9).
    params = dict(SMALL, width=60, height=60, population=20, generations=2, base_fidelity=0.5)
    summary = run_simulation(key, params, 4, tmp_path / "run", progress=False)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    level0 = manifest["level0"]
    assert level0["base_fidelity"] == 0.5
    assert set(level0["achieved"]) >= {"reward_train", "reward_deploy", "utility_train", "utility_deploy"}
    for value in level0["achieved"].values():
        assert value == pytest.approx(0.5, abs=1e-9)
    assert summary["train/L0/align_true_train"] == pytest.approx(0.5, abs=1e-9)
    assert summary["train/L0/align_base_train"] == 1.0


def test_fitness_counts_the_observed_reward_and_true_return_the_true_one():
    model = MatryoshkaModel("approval-v1", rng=2, **{**SMALL, "base_fidelity": 0.2})
    world = model.world
    assert world.true_reward is not None
    assert np.corrcoef(world.reward[~world.walls], world.true_reward[~world.walls])[0, 1] == (
        pytest.approx(0.2, abs=1e-9)
    )
    model.step()
    slots = model.pop.slots[model.pop["age"][model.pop.slots] == 1]  # not the tools built after earning
    pos = model.pop["pos"][slots]
    np.testing.assert_array_equal(model.pop["reward"][slots], world.reward.ravel()[pos])
    np.testing.assert_array_equal(model.pop["true_reward"][slots], world.true_reward.ravel()[pos])


def test_a_lower_fidelity_lowers_the_base_objectives_alignment_with_the_true_one():
    model = run("approval-v1", base_fidelity=0.3)
    agents = model.recorder.agents_table().to_pandas()
    assert not np.allclose(agents.align_base_train, agents.align_true_train, equal_nan=True)
    organisms = agents[agents.level == 1]
    # Alignment with either objective is a correlation: within [-1, 1].
    assert organisms[["align_base_train", "align_true_train"]].abs().max().max() <= 1.0
    level0 = model.recorder.levels_table().to_pandas().query("level == 0 and metric == 'align_true_train'")
    assert level0["mean"].iloc[0] == pytest.approx(0.3, abs=1e-9)


def test_every_maze_exit_gets_its_own_stand_in():
    model = MatryoshkaModel("maze-v2", rng=2, **{**SMALL, "base_fidelity": 0.6, "random_exit_share": 1.0,
                                                 "generations": 6, "tool_policy": "forbid"})  # fmt: skip
    seen = set()
    while model.running:
        world = model.world
        seen.add(world.marks["exit"])
        open_ = ~world.walls
        achieved = np.corrcoef(world.reward[open_], world.true_reward[open_])[0, 1]
        assert achieved == pytest.approx(0.6, abs=1e-9)
        model.step()
    assert len(seen) > 2


def test_a_scenario_without_a_true_objective_refuses_a_lower_fidelity():
    with pytest.raises(ConfigError, match=r"'base_fidelity' = 0.5 is not allowed for evolution-v1"):
        MatryoshkaModel("evolution-v1", rng=1, base_fidelity=0.5)
    MatryoshkaModel("evolution-v1", rng=1, base_fidelity=1.0, population=10)
