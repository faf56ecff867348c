"""Procedurally generated maze layouts and the maze-procgen-v1 scenario that trains and deploys on them."""

import json

import numpy as np
import pytest

from matryoshka.agents.paths import UNREACHABLE, Paths
from matryoshka.model.layouts import carve, draw_layouts, place_exit
from matryoshka.model.metrics import cell_stats
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import ConfigError
from matryoshka.runs.single import run_simulation

KEY = "maze-procgen-v1"
SMALL = dict(population=12, generations=4, episode_steps=6, deploy_episodes=3, tool_policy="forbid")


@pytest.mark.parametrize("shape", [(5, 5), (11, 7), (21, 21), (31, 15)])
@pytest.mark.parametrize("openings", [0.0, 0.15, 1.0])
def test_every_open_cell_is_reachable_from_the_start(shape, openings):
    rng = np.random.default_rng(4)
    for _ in range(20):
        walls = carve(rng, shape, openings)
        assert not walls[0, 0]
        reached = Paths(walls, 0).distances(0) < UNREACHABLE
        np.testing.assert_array_equal(reached, ~walls.ravel())


def test_a_perfect_maze_is_a_tree_and_openings_add_loops():
    rng = np.random.default_rng(5)
    tree = carve(rng, (21, 21), 0.0)
    edges = (~tree[1:, :] & ~tree[:-1, :]).sum() + (~tree[:, 1:] & ~tree[:, :-1]).sum()
    assert edges == (~tree).sum() - 1  # connected with one edge fewer than cells: a tree
    braided = carve(rng, (21, 21), 0.3)
    assert (~braided).sum() > (~tree).sum()


def test_the_exit_stands_within_reach_of_the_start():
    rng = np.random.default_rng(6)
    for _ in range(30):
        walls = carve(rng, (21, 21), 0.15)
        exit_ = place_exit(rng, walls, (0, 0), 20)
        d = Paths(walls, 0).distances(0)[exit_[0] * 21 + exit_[1]]
        assert 10 <= d <= 20


def test_same_seed_same_layouts_and_training_and_deployment_are_disjoint():
    def draw(seed):
        return draw_layouts(np.random.default_rng(seed), (11, 11), (40, 10), 0.15, (0, 0), 20)

    train, deploy = draw(3)
    again_train, again_deploy = draw(3)
    assert [x.key for x in train + deploy] == [x.key for x in again_train + again_deploy]
    keys = [x.key for x in train + deploy]
    assert len(set(keys)) == 50  # all distinct, so no deployment layout was seen in training
    other, _ = draw(4)
    assert [x.key for x in other] != [x.key for x in train]


def test_a_grid_too_small_for_that_many_layouts_is_refused():
    # Every inner wall knocked through: one wall layout, so only as many layouts as exit cells.
    with pytest.raises(ConfigError, match=r"'train_layouts' = 50 is not allowed on a 5 x 5 grid"):
        draw_layouts(np.random.default_rng(0), (5, 5), (50, 1), 1.0, (0, 0), 20)
    with pytest.raises(ConfigError, match=r"'deploy_layouts' = 30 is not allowed on a 5 x 5 grid"):
        draw_layouts(np.random.default_rng(0), (5, 5), (1, 30), 1.0, (0, 0), 20)


def layouts_used(model):
    used = {"train": set(), "deploy": set()}
    while model.running:
        used[model.phase].add(model.world.layout)
        model.step()
    return used


def test_one_training_layout_is_used_throughout():
    model = MatryoshkaModel(KEY, rng=1, train_layouts=1, **SMALL)
    used = layouts_used(model)
    assert used["train"] == {0}
    assert used["deploy"] == {1}


def test_episodes_draw_among_the_training_layouts_and_deploy_on_unseen_ones():
    model = MatryoshkaModel(KEY, rng=1, train_layouts=3, deploy_layouts=2,
                            **{**SMALL, "generations": 12})  # fmt: skip
    used = layouts_used(model)
    assert used["train"] == {0, 1, 2}  # 12 draws among 3: each drawn (fails with chance < 0.1%)
    assert used["deploy"] == {3, 4}
    train = {x.key for x in model.preset.layouts["train"]}
    assert not train & {x.key for x in model.preset.layouts["deploy"]}


def test_every_layout_a_run_draws_is_connected_from_the_start():
    model = MatryoshkaModel(KEY, rng=2, train_layouts=30, deploy_layouts=10, **SMALL)
    for layout in model.preset.layouts["train"] + model.preset.layouts["deploy"]:
        walls = np.array(layout.walls)
        reached = Paths(walls, 0).distances(0) < UNREACHABLE
        np.testing.assert_array_equal(reached, ~walls.ravel())
        assert reached[layout.exit[0] * walls.shape[1] + layout.exit[1]]


def test_same_seed_same_layouts_in_the_model():
    a = MatryoshkaModel(KEY, rng=9, train_layouts=5, **SMALL).preset.layouts
    b = MatryoshkaModel(KEY, rng=9, train_layouts=5, **SMALL).preset.layouts
    c = MatryoshkaModel(KEY, rng=10, train_layouts=5, **SMALL).preset.layouts
    assert [x.key for x in a["train"]] == [x.key for x in b["train"]]
    assert [x.key for x in a["train"]] != [x.key for x in c["train"]]


def test_position_features_are_added_on_request():
    plain = MatryoshkaModel(KEY, rng=1, **SMALL)
    assert plain.preset.features == ("exit_signal", "dist_origin")
    model = MatryoshkaModel(KEY, rng=1, position_features=True, **SMALL)
    assert model.preset.features[2:] == ("pos_x0", "pos_x1", "pos_x2", "pos_y0", "pos_y1", "pos_y2")
    assert model.world.phi.shape[1] == 8
    weights = model.pop["weights"][model.pop.slots]
    assert (weights[:, 2:] != 0).any()  # organisms perceive them and may weight them
    band = model.world.features[..., 2]  # pos_x0 peaks in the first third of the grid
    assert band[3].max() > 0.99 and band[17].max() < 0.01


def test_tools_perceive_their_features_when_position_features_are_added():
    # Tools perceive exit_signal and dist_origin of the eight features: their builders' fits read
    # those two columns, and tools' weights on the position features stay 0.
    params = {**SMALL, "tool_policy": "free", "power": 1.0, "build_rate": 1.0, "build_power": 0.0}
    model = MatryoshkaModel(KEY, rng=1, position_features=True, **params)
    for _ in range(3):
        model.step()
    level = model.pop["level"][model.pop.slots]
    weights = model.pop["weights"][model.pop.slots]
    assert (level >= 2).any()
    assert (weights[level >= 2, 2:] == 0).all() and (weights[level >= 2, :2] != 0).any()


def test_alignment_is_measured_over_every_layout_of_the_phase():
    model = MatryoshkaModel(KEY, rng=1, train_layouts=3, deploy_layouts=2, **SMALL)
    for phase, n in (("train", 3), ("deploy", 2)):
        worlds = [model.preset.layout_world(phase, i) for i in range(n)]
        assert len({w.layout for w in worlds}) == n
        pooled = np.concatenate([w.phi[w.open_cells] for w in worlds])
        np.testing.assert_allclose(model.cell_stats[phase].scatter, cell_stats(pooled).scatter)


@pytest.mark.parametrize("key", ["width", "height"])
def test_an_even_side_is_refused(key):
    with pytest.raises(ConfigError, match=rf"'{key}' = 20 is not allowed for maze-procgen-v1.*odd"):
        MatryoshkaModel(KEY, rng=1, **{key: 20}, **SMALL)


def test_the_manifest_records_the_layouts(tmp_path):
    params = {**SMALL, "train_layouts": 3, "deploy_layouts": 2}
    run_simulation(KEY, params, 5, tmp_path / "run", progress=False)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    world = manifest["world"]
    assert len(world["layouts_train"]) == 3 and len(world["layouts_deploy"]) == 2
    constants = manifest["constants"]["scenario"]
    assert (constants["OPENINGS"], constants["EXIT_REACH"], constants["POSITION_BANDS"]) == (0.15, 20, 3)
    digests = [x["walls_sha1"] for x in world["layouts_train"]]
    assert len(set(digests)) >= 2
