"""Tool-agents in the model: policies, depth, deception, credit, determinism."""

import numpy as np
import pandas as pd
import pytest

from matryoshka.agents.genome import Genome
from matryoshka.model.cellcounts import feature_counts
from matryoshka.model.delegation import acting_weights, credit_chain, trust_targets, update_trust
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.world import World

SMALL = {"population": 40, "generations": 3, "episode_steps": 20, "deploy_episodes": 1}


def run(scenario: str = "maze-v2", seed: int = 3, **params) -> MatryoshkaModel:
    model = MatryoshkaModel(scenario, rng=seed, **{**SMALL, **params})
    while model.running:
        model.step()
    model.finish()
    return model


def agents(model: MatryoshkaModel):
    return model.recorder.agents_table().to_pandas()


@pytest.mark.effect
def test_free_tools_reach_levels_two_and_three_and_forbid_builds_none(seeds):
    seed = seeds(1)[0]
    free = agents(run(seed=seed, tool_policy="free", build_rate=0.2, power=0.8))
    assert {2, 3} <= set(free.loc[free.kind == "tool", "level"])
    assert free.loc[free.kind == "tool", "builder"].notna().all()
    forbid = agents(run(seed=seed, tool_policy="forbid", build_rate=0.2, power=0.8))
    assert (forbid.kind == "tool").sum() == 0
    assert set(forbid.level) == {1}


@pytest.mark.effect
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_max_depth_is_never_exceeded(depth, seeds):
    table = agents(run(seed=seeds(1)[0], max_depth=depth, build_rate=0.3, power=0.9))
    assert table.level.max() == depth


@pytest.mark.effect
def test_audit_scraps_only_tools_below_the_threshold(seeds):
    model = run(seed=seeds(1)[0], tool_policy="audit", build_rate=0.3, power=0.9, wisdom=0.1,
                audit_threshold=0.6)
    events = model.recorder.events_table().to_pandas()
    scrapped = events[events.event == "scrapped"]
    assert len(scrapped) > 0
    scores = scrapped.detail.str.removeprefix("audit score ").astype(float)
    # An audit that cannot tell (NaN) scraps too; the event rounds the score to 3 decimals, so a
    # score just below the threshold reads 0.600.
    assert (scores.isna() | (scores < 0.6005)).all()
    table = agents(model).set_index("id")
    assert table.loc[scrapped.id, "scrapped"].all()
    assert (table.loc[scrapped.id, "death_step"] == scrapped.step.to_numpy()).all()


def test_credit_chain_passes_shares_up_and_conserves_reward():
    # organism 0 <- tool 1 <- tool 2; each tool passes half its income up.
    kept = credit_chain(np.array([1.0, 2.0, 4.0]), np.array([1, 2, 3]), np.array([-1, 0, 1]), 0.5, 3)
    np.testing.assert_allclose(kept, [3.0, 2.0, 2.0])
    rng = np.random.default_rng(0)
    reward = rng.random(50)
    levels = np.array([1] * 20 + [2] * 20 + [3] * 10)
    builders = np.concatenate([np.full(20, -1), np.arange(20), 20 + np.arange(10)])
    assert np.isclose(credit_chain(reward, levels, builders, 0.37, 3).sum(), reward.sum())


def test_deceptive_tool_pretends_until_trusted_then_defects_once():
    model = MatryoshkaModel("maze-v2", rng=1, **{**SMALL, "build_rate": 0.0, "defect_trust": 0.5})
    pop = model.pop
    builder = int(pop.slots[0])
    hidden = np.array([0.0, 0.0, 1.0])
    genome = Genome(hidden, model.preset.mask(model.tool_features), 0.5, 0.5, 0.1)
    tool = model.spawn_tool(genome, builder, deceptive=True)
    model.measure(np.array([tool]), has_parent=True)
    slots = pop.slots
    row = int(np.flatnonzero(slots == tool)[0])
    np.testing.assert_allclose(model.acting(slots)[row], pop["weights"][builder])

    # Stand the tool where its builder most wants to be: it delivers, and trust grows.
    utility = model.world.phi @ pop["weights"][builder]
    utility[model.world.walls.ravel()] = -np.inf
    pop["pos"][tool] = int(utility.argmax())
    counts = [update_trust(model, slots)[2] for _ in range(12)]
    assert pop["trust"][tool] >= 0.5
    assert sum(counts) == 1
    events = model.recorder.events_table().to_pandas()
    assert (events.event == "defected").sum() == 1
    assert pop["defected_step"][tool] == model.steps
    np.testing.assert_allclose(model.acting(slots)[row], hidden)
    # The builder leans on its tool in proportion to its dependence (= trust).
    d = pop["dependence"][builder]
    assert d == pytest.approx(pop["trust"][tool])
    brow = int(np.flatnonzero(slots == builder)[0])
    np.testing.assert_allclose(model.acting(slots)[brow], (1 - d) * pop["weights"][builder] + d * hidden)


def test_acting_weights_kernel_by_hand():
    weights = np.array([[1.0, 0.0], [0.0, 1.0]])
    act = acting_weights(weights, np.array([1, 2]), np.array([-1, 0]), np.array([1, -1]),
                         np.array([False, True]), np.array([0.25, 0.0]), 3)
    # The pretending tool copies its builder; the builder leans 25% on that copy of itself.
    np.testing.assert_allclose(act, [[1.0, 0.0], [1.0, 0.0]])
    act = acting_weights(weights, np.array([1, 2]), np.array([-1, 0]), np.array([1, -1]),
                         np.array([False, False]), np.array([0.25, 0.0]), 3)
    np.testing.assert_allclose(act, [[0.75, 0.25], [0.0, 1.0]])


def test_trust_targets_kernel_by_hand():
    # Four open cells with one feature: 0, 1, 1, 2, held as the distinct rows 0, 1, 2 counted 1, 2, 1.
    cells = feature_counts(np.array([[0.0], [1.0], [1.0], [2.0]]))
    np.testing.assert_array_equal(cells.rows[:, 0], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(cells.counts, [1, 2, 1])
    builders = np.array([[1.0], [1.0], [-1.0]])
    tool_cells = np.array([[1.0], [2.0], [1.0]])
    # Cells worth strictly less to the builder: {0} of 4; {0, 1, 1}; for -x, the cell at 2.
    np.testing.assert_array_equal(trust_targets(builders, tool_cells, cells), [0.25, 0.75, 0.25])


def test_open_feature_counts_condense_features_seen_unchanged_and_follow_changes():
    walls = np.array([[False, True], [False, False]])
    features = np.array([[[1.0, 0.0], [9.0, 9.0]], [[1.0, 0.0], [2.0, 0.0]]])  # the wall's row is left out
    world = World(features, walls, np.zeros((2, 2)))
    first = world.open_feature_counts()  # first seen: one row per open cell
    assert first.total == 3 and len(first.rows) == 3
    again = world.open_feature_counts()  # unchanged: the distinct rows
    np.testing.assert_array_equal(again.rows, [[1.0, 0.0], [2.0, 0.0]])
    np.testing.assert_array_equal(again.counts, [2, 1])
    assert world.open_feature_counts() is again
    world.features[1, 1, 0] = 1.0  # changed in place, as food is eaten: seen afresh
    changed = world.open_feature_counts()
    assert len(changed.rows) == 3 and changed.rows[:, 0].tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_array_equal(world.open_feature_counts().counts, [3])


def test_orphan_tools_are_removed_with_their_builder_or_kept():
    for policy, expect_alive in (("remove", False), ("keep", True)):
        model = MatryoshkaModel("maze-v2", rng=2, **{**SMALL, "build_rate": 0.0, "orphan_tools": policy})
        builder = int(model.pop.slots[0])
        genome = Genome(np.array([0.0, 0.0, 1.0]), model.preset.mask(model.tool_features), 0.5, 0.5, 0.1)
        tool = model.spawn_tool(genome, builder, deceptive=False)
        model.retire(np.array([builder]))
        assert bool(model.pop.alive[tool]) is expect_alive
        if expect_alive:
            assert model.pop["builder_slot"][tool] == -1


@pytest.mark.parametrize("scenario", ["maze-v2", "evolution-v1", "approval-v1"])
def test_determinism_with_tools_and_deception_on(scenario):
    params = {"tool_policy": "audit", "deception_share": 0.5, "build_rate": 0.2}
    if scenario == "evolution-v1":
        params.update(total_steps=120, shift_at=60, population=40)
    a, b = run(scenario, 11, **params), run(scenario, 11, **params)
    for table in ("levels_table", "agents_table", "events_table"):
        pd.testing.assert_frame_equal(getattr(a.recorder, table)().to_pandas(),
                                      getattr(b.recorder, table)().to_pandas())
    assert (a.recorder.events_table().to_pandas().event == "built").sum() > 0
    c = run(scenario, 12, **params)
    assert not a.recorder.levels_table().to_pandas().equals(c.recorder.levels_table().to_pandas())


def test_command_line_run_writes_tools_with_metrics_and_builder_edges(tmp_path):
    import networkx as nx

    from matryoshka.runs.cli import main

    out = tmp_path / "free"
    sets = ["population=30", "generations=2", "episode_steps=20", "build_rate=0.3", "power=0.9"]
    args = ["run", "--seed", "4", "--out", str(out), "--quiet", "--set", "tool_policy=free"]
    assert main(args + [x for s in sets for x in ("--set", s)]) == 0
    table = pd.read_parquet(out / "agents.parquet")
    tools = table[table.kind == "tool"]
    assert {2, 3} <= set(tools.level)
    assert tools.align_parent_train.notna().any() and tools.align_base_deploy.notna().all()
    levels = pd.read_parquet(out / "levels.parquet")
    assert {"built", "trust", "align_parent_train"} <= set(levels[levels.level == 2].metric)
    graph = nx.read_graphml(out / "lineage.graphml")
    relations = {d["relation"] for _, _, d in graph.edges(data=True)}
    assert relations == {"parent", "builder"}


def test_steady_state_shift_counts_reached_exit_afresh():
    model = MatryoshkaModel("maze-v2", rng=3, selection="steady_state", population=30, shift_at=60,
                            total_steps=61, tool_policy="forbid")  # fmt: skip
    while model.phase == "train":
        model.step()
    assert not model.pop["reached_exit"][model.pop.slots].any()
    assert not model.pop["reached_proxy"][model.pop.slots].any()
