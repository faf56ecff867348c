"""Run-time planning kernels against values worked out by hand, and walls in a whole run.

The hand-made grid is 3 x 3 with cells numbered ``c = x * height + y`` and a wall at (1, 0) and
(1, 1), so the open cells form a U whose only path is 0 - 1 - 2 - 5 - 8 - 7 - 6:

    y=2   2   5   8
    y=1   1   #   7
    y=0   0   #   6
         x=0 x=1 x=2
"""

from __future__ import annotations

import numpy as np
import pytest

from matryoshka.agents.paths import UNREACHABLE, Paths, neighbor_table
from matryoshka.agents.planning import horizon, plan
from matryoshka.model.model import MatryoshkaModel

WALLS = np.zeros((3, 3), dtype=bool)
WALLS[1, 0] = WALLS[1, 1] = True
U_PATH = [0, 1, 2, 5, 8, 7, 6]  # the open cells in the order of the only path through the U
WALL_CELLS = [3, 4]


def test_neighbor_table_by_hand():
    nbr = neighbor_table(WALLS)
    # order +x, -x, +y, -y; -1 where the edge or a wall is
    assert nbr[0].tolist() == [-1, -1, 1, -1]
    assert nbr[2].tolist() == [5, -1, -1, 1]
    assert nbr[5].tolist() == [8, 2, -1, -1]  # (1, 2): the wall (1, 1) below is not a neighbour
    assert nbr[7].tolist() == [-1, -1, 8, 6]
    assert nbr[3].tolist() == [-1, -1, -1, -1]  # a wall has no neighbours


def test_distance_fields_by_hand():
    paths = Paths(WALLS, 2)
    for i, s in enumerate(U_PATH):
        for j, t in enumerate(U_PATH):
            assert paths.distances(s)[t] == abs(i - j), (s, t)
    assert paths.distances(0)[6] == 6  # around the wall, although (2, 0) is two cells from (0, 0)
    assert paths.distances(8)[0] == 4
    for w in WALL_CELLS:
        assert (paths.distances(w) == UNREACHABLE).all()
        assert paths.distances(0)[w] == UNREACHABLE


def test_neighbourhoods_by_hand():
    paths = Paths(WALLS, 2)
    assert paths.near(0).tolist() == [[c] for c in range(9)]
    assert paths.near(1)[0].tolist() == [0, 1, 0]  # (0, 0) and (0, 1); padded with itself
    assert paths.near(1)[8].tolist() == [5, 7, 8]
    assert paths.near(2)[8].tolist() == [2, 5, 6, 7, 8]  # the widest: 5 cells
    assert paths.near(2)[0].tolist() == [0, 1, 2, 0, 0]  # (1, 0) is a wall: (2, 0) is far
    assert paths.near(2)[3].tolist() == [3] * 5  # a wall reaches nothing
    with pytest.raises(ValueError, match="beyond the reach"):
        paths.near(3)


def test_first_steps_by_hand():
    paths = Paths(WALLS, 6)
    step = lambda s, t: int(paths.step(np.array([s]), np.array([t]))[0])  # noqa: E731
    assert step(0, 6) == 1  # up the left arm first
    assert step(6, 0) == 7
    assert step(2, 7) == 5
    assert step(8, 6) == 7
    assert step(5, 5) == 5  # already there
    assert step(0, 3) == 0  # a wall cannot be reached: stay
    for s in U_PATH:  # every step is to a neighbour one step closer
        for t in U_PATH:
            if s != t:
                assert paths.distances(step(s, t))[t] == paths.distances(s)[t] - 1


def test_first_step_ties_go_to_the_first_direction():
    # 2 x 2 open grid: from (0, 0) to (1, 1) via +x (cell 2) or +y (cell 1); +x comes first.
    paths = Paths(np.zeros((2, 2), dtype=bool), 2)
    assert paths.distances(0)[3] == 2
    assert paths.step(np.array([0, 3]), np.array([3, 0])).tolist() == [2, 1]  # -x before -y


def test_horizon_values():
    assert horizon(np.array([0.0, 1.0, 0.25, 0.75, 0.1]), 5).tolist() == [1, 5, 2, 4, 1]
    assert horizon(np.array([0.0, 1.0]), 1).tolist() == [1, 1]
    assert horizon(np.array([1.0]), 6).tolist() == [6]


# Feature values of the U's cells (walls 0); cell 6 is best overall but six steps from cell 0.
PHI = np.array([0.5, 0.0, 1.0, 0.0, 0.0, 2.0, 10.0, 0.1, 0.2])[:, None]


@pytest.mark.parametrize(
    ("start", "weight", "h", "target", "next_cell"),
    [
        (0, 1.0, 3, 5, 1),  # reachable in 3: 0, 1, 2, 5 -> 5 (2.0)
        (0, 1.0, 6, 6, 1),  # the best cell, behind the wall, reached around it
        (0, -1.0, 3, 1, 1),  # minimizes: 1 (0.0)
        (8, 1.0, 1, 5, 5),  # reachable in 1: 8, 5, 7
        (8, 1.0, 2, 6, 7),  # reachable in 2: 8, 5, 7, 2, 6
        (6, 1.0, 1, 6, 6),  # already on the best cell: stays
    ],
)
def test_plan_and_step_by_hand(start, weight, h, target, next_cell):
    paths = Paths(WALLS, 6)
    got = plan(np.array([start]), np.array([[weight]]), np.array([h], dtype=np.int16), PHI, paths)
    assert got.tolist() == [target]
    assert paths.step(np.array([start]), got).tolist() == [next_cell]


def test_plan_uses_the_dot_product_of_weights_and_features():
    paths = Paths(np.zeros((3, 1), dtype=bool), 2)  # a corridor of cells 0, 1, 2
    phi = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.6]])
    pos = np.zeros(3, dtype=np.int64)
    weights = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]])  # 0.8, 0.6, 0.84 at the cells for the last
    assert plan(pos, weights, np.full(3, 2, dtype=np.int16), phi, paths).tolist() == [0, 1, 2]


def test_walking_the_plan_goes_around_the_wall():
    paths = Paths(WALLS, 6)
    pos = np.array([0])
    visited = [0]
    for _ in range(8):
        target = plan(pos, np.array([[1.0]]), np.array([6], dtype=np.int16), PHI, paths)
        pos = paths.step(pos, target)
        visited.append(int(pos[0]))
    assert visited == U_PATH + [6, 6]


def test_noisy_plans_stay_within_the_horizon():
    rng = np.random.default_rng(3)
    walls = rng.random((8, 7)) < 0.2
    paths = Paths(walls, 4)
    open_cells = np.flatnonzero(~walls.ravel())
    pos = rng.choice(open_cells, size=200)
    horizons = rng.integers(1, 5, size=200).astype(np.int16)
    phi = rng.random((walls.size, 3))
    weights = rng.normal(size=(200, 3))
    target = plan(pos, weights, horizons, phi, paths, np.array([0.5, 0.1, 0.0]), rng)
    dist = np.array([paths.distances(c) for c in range(walls.size)])
    assert (dist[pos, target] <= horizons).all()
    moved = paths.step(pos, target)
    assert (dist[pos, moved] <= 1).all()
    assert not walls.ravel()[moved].any()


def test_no_agent_ever_stands_on_a_wall():
    model = MatryoshkaModel("maze-v2", rng=5, population=40, generations=3, episode_steps=15,
                            deploy_episodes=1, build_rate=0.3)  # fmt: skip
    walls = model.world.walls.ravel()
    assert walls.any()
    levels_seen = set()
    while model.running:
        model.step()
        slots = model.pop.slots
        assert not walls[model.pop["pos"][slots]].any(), f"on a wall at step {model.steps}"
        levels_seen.update(model.pop["level"][slots].tolist())
    assert (model.world.walls == model.train_world.walls).all()
    assert 2 in levels_seen  # tools walked too
