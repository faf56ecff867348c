"""Same seed, same outputs; another seed, other outputs (for every registered scenario)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.scenarios import REGISTRY
from matryoshka.runs.single import run_simulation

TINY = dict(population=24, generations=3, episode_steps=8, deploy_episodes=1, build_rate=0.2)


def rollout(key: str, seed, **params) -> tuple[pd.DataFrame, pd.DataFrame]:
    model = MatryoshkaModel(key, rng=seed, **{**TINY, **params})
    while model.running:
        model.step()
    model.finish()
    return model.recorder.levels_table().to_pandas(), model.recorder.agents_table().to_pandas()


@pytest.mark.parametrize("selection", ["generational", "steady_state"])
@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_same_seed_same_rollout(key, selection):
    extra = dict(selection=selection, shift_at=10, total_steps=20)
    levels_a, agents_a = rollout(key, 7, **extra)
    levels_b, agents_b = rollout(key, 7, **extra)
    pd.testing.assert_frame_equal(levels_a, levels_b)
    pd.testing.assert_frame_equal(agents_a, agents_b)
    levels_c, _ = rollout(key, 8, **extra)
    assert not levels_a.equals(levels_c)


def test_seed_sequence_seeds_are_reproducible():
    root = np.random.SeedSequence(2024)
    child_a, child_b = root.spawn(2)
    a, _ = rollout("maze-v2", child_a)
    b, _ = rollout("maze-v2", np.random.SeedSequence(2024).spawn(2)[0])
    c, _ = rollout("maze-v2", child_b)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def read_run(path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    manifest = json.loads((path / "manifest.json").read_text())
    return pd.read_parquet(path / "levels.parquet"), pd.read_parquet(path / "agents.parquet"), manifest


def test_same_seed_same_run_directory(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        run_simulation("maze-v2", dict(TINY), seed, tmp_path / name, progress=False)
    levels_a, agents_a, manifest_a = read_run(tmp_path / "a")
    levels_b, agents_b, manifest_b = read_run(tmp_path / "b")
    levels_c, agents_c, manifest_c = read_run(tmp_path / "c")
    pd.testing.assert_frame_equal(levels_a, levels_b)
    pd.testing.assert_frame_equal(agents_a, agents_b)
    assert manifest_a["summary"] == manifest_b["summary"]
    assert (tmp_path / "a" / "phylogeny.csv").read_text() == (tmp_path / "b" / "phylogeny.csv").read_text()
    assert manifest_a["seed"] == 3 and manifest_c["seed"] == 4
    assert not levels_a.equals(levels_c)
    assert not agents_a[["w_exit_signal", "power"]].equals(agents_c[["w_exit_signal", "power"]])
