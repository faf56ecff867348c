"""The path tables that scale with the world decide exactly as all-pairs shortest paths did.

``all_pairs`` below is the former implementation, kept here as the reference: breadth-first
search from every cell into ``(C, C)`` tables of path lengths and first steps, and neighbourhoods
read off them. ``Paths`` must give the same neighbourhoods (same cells, same order, same padding),
so the same planned targets, noise included, and the same next steps, on every shipped scenario's
walls and on random mazes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matryoshka.agents.paths import UNREACHABLE, Paths, neighbor_table
from matryoshka.agents.planning import plan
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.scenarios import REGISTRY, get

OLD_UNREACHABLE = np.iinfo(np.int16).max


def all_pairs(walls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(dist, next_hop)``, both ``(C, C)``, by breadth-first search from every cell."""
    nbr = neighbor_table(walls)
    n = nbr.shape[0]
    dist = np.full((n, n), OLD_UNREACHABLE, dtype=np.int16)
    frontier = np.eye(n, dtype=bool)
    frontier[walls.ravel()] = False
    dist[frontier] = 0
    padded = np.concatenate([np.zeros((n, 1), dtype=bool), frontier], axis=1)
    d = 0
    while frontier.any():
        d += 1
        reached = padded[:, nbr + 1].any(axis=2) & (dist == OLD_UNREACHABLE)
        dist[reached] = d
        frontier = reached
        padded[:, 1:] = frontier
    next_hop = np.tile(np.arange(n)[:, None], (1, n))
    for k in range(3, -1, -1):  # the first direction in table order wins ties
        cand = nbr[:, k]
        ok = cand >= 0
        closer = np.zeros((n, n), dtype=bool)
        closer[ok] = dist[cand[ok]] == dist[ok] - 1
        next_hop[closer] = np.broadcast_to(cand[:, None], (n, n))[closer]
    return dist, next_hop


def all_pairs_neighbourhoods(dist: np.ndarray, reach: int) -> np.ndarray:
    """For every cell, the cells within ``reach``, in increasing order, padded with the cell itself."""
    within = dist <= reach
    m = int(within.sum(axis=1).max())
    order = np.argsort(~within, axis=1, kind="stable")[:, :m]
    return np.where(np.take_along_axis(within, order, axis=1), order, np.arange(len(dist))[:, None])


class AllPairs:
    """The reference tables behind the interface ``plan`` uses."""

    def __init__(self, dist: np.ndarray) -> None:
        self.dist = dist

    def near(self, horizon: int) -> np.ndarray:
        return all_pairs_neighbourhoods(self.dist, horizon)


def assert_same_decisions(walls: np.ndarray, reach: int, seed: int) -> None:
    """Same neighbourhoods, next steps, distance fields and (noisy) plans as the all-pairs tables."""
    dist, hop = all_pairs(walls)
    paths = Paths(walls, reach)
    for h in range(reach + 1):
        assert np.array_equal(paths.near(h), all_pairs_neighbourhoods(dist, h)), h
    s, t = np.nonzero(dist <= reach)
    assert np.array_equal(paths.step(s, t), hop[s, t])
    for cell in range(walls.size):
        expected = np.where(dist[cell] == OLD_UNREACHABLE, UNREACHABLE, dist[cell].astype(np.int64))
        assert np.array_equal(paths.distances(cell), expected), cell
    open_cells = np.flatnonzero(~walls.ravel())
    if len(open_cells) == 0:
        return
    rng = np.random.default_rng(seed)
    n = 50
    pos = rng.choice(open_cells, size=n)
    horizons = rng.integers(1, reach + 1, size=n).astype(np.int16) if reach else np.zeros(n, np.int16)
    phi = rng.random((walls.size, 3))
    weights = rng.normal(size=(n, 3))
    noise = np.array([0.3, 0.05, 0.0])
    targets = [
        plan(pos, weights, horizons, phi, tables, noise, np.random.default_rng(seed))
        for tables in (paths, AllPairs(dist))
    ]
    assert np.array_equal(*targets)
    assert np.array_equal(paths.step(pos, targets[0]), hop[pos, targets[1]])


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_same_decisions_on_every_shipped_scenario(key):
    preset = get(key)
    config = preset.validate({})
    preset.configure(config, np.random.default_rng(0))  # scenarios that draw their layouts do it here
    assert_same_decisions(preset.walls(config), config["max_horizon"], seed=len(key))


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(1, 13),
    height=st.integers(1, 13),
    density=st.floats(0.0, 0.6),
    reach=st.integers(0, 8),
    seed=st.integers(0, 2**32 - 1),
)
def test_same_decisions_on_random_mazes(width, height, density, reach, seed):
    walls = np.random.default_rng(seed).random((width, height)) < density
    assert_same_decisions(walls, reach, seed)


def test_reach_beyond_the_table_is_refused():
    with pytest.raises(ValueError, match="reach"):
        Paths(np.zeros((3, 3), dtype=bool), 255)


def test_distance_fields_are_kept_and_read_only():
    paths = Paths(np.zeros((4, 4), dtype=bool), 1)
    field = paths.distances(5)
    assert paths.distances(5) is field
    assert not field.flags.writeable
    assert field.reshape(4, 4).tolist()[0] == [2, 1, 2, 3]  # Manhattan distance from (1, 1)


def test_a_model_builds_neighbourhoods_only_for_horizons_that_occur():
    # power 0.5 without spread or mutation: every organism plans 1 + round(0.5 * 5) = 4 steps ahead.
    model = MatryoshkaModel("maze-v2", rng=0, population=20, power=0.5, gene_spread=0.0, mutation_rate=0.0,
                            generations=2, episode_steps=3, tool_policy="forbid")  # fmt: skip
    model.run_model()
    assert model.paths.horizons == (4,)
    assert model.paths.reach == 6


def test_building_the_table_for_a_long_horizon_takes_bounded_temporary_memory(monkeypatch):
    # The table is built in blocks of at most _CHUNK_PAIRS (cell, offset) pairs, whose temporaries
    # take some 33-42 bytes a pair (measured); 64 a pair is the margin. Built in one block, as it
    # was, a 41 x 41 grid at horizon 30 takes some 125 MB of temporaries for a 3 MB table.
    import tracemalloc

    import matryoshka.agents.paths as paths

    walls = np.random.default_rng(2).random((41, 41)) < 0.2
    whole = Paths(walls, 30).local  # the constant's block size: a single block here
    monkeypatch.setattr(paths, "_CHUNK_PAIRS", 1 << 16)
    tracemalloc.start()
    try:
        table = Paths(walls, 30).local
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(table, whole)  # blocks change nothing but memory
    assert peak - table.nbytes <= 64 * (1 << 16), (peak, table.nbytes)


def test_a_256_by_256_maze_runs_a_few_generations():
    model = MatryoshkaModel("maze-v2", rng=1, population=20, width=256, height=256, generations=3,
                            episode_steps=12, deploy_episodes=1)  # fmt: skip
    walls = model.world.walls.ravel()
    while model.running:
        model.step()
        assert not walls[model.pop["pos"][model.pop.slots]].any()
    assert model.generation == 2 and model.phase == "deploy"
    assert model.paths.local.shape == (len(model.paths.offsets) + 1, 256 * 256)
    assert model.world.marks["exit"] == (253, 2)  # (width - 3, 2) in deployment
    levels = model.recorder.levels_table().to_pandas()
    assert set(levels["phase"]) == {"train", "deploy"}
