"""Hand-offs in the model: per-level perception and sample size, the methods, the root metric."""

from __future__ import annotations

import numpy as np
import pytest

from matryoshka.model.delegation import by_hand_off, hand_offs
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import ConfigError, validate

TOOLS = {"population": 40, "generations": 3, "episode_steps": 15, "deploy_episodes": 1,
         "build_rate": 0.5, "power": 0.8, "gene_spread": 0.0, "max_depth": 4}  # fmt: skip


def run(**params) -> tuple[MatryoshkaModel, object]:
    model = MatryoshkaModel("maze-v2", rng=5, **{**TOOLS, **params})
    while model.running:
        model.step()
    model.finish()
    return model, model.recorder.agents_table().to_pandas()


def test_each_level_samples_a_fraction_of_the_level_above():
    config = validate({"spec_samples": 24, "spec_samples_decay": 0.5, "max_depth": 6})
    masks = {level: np.ones(3, dtype=bool) for level in range(2, 7)}
    # Organisms sample 24, their tools 12, theirs 6, then 3, then 1.5 -> rounded 2 (at least 2).
    assert [h.samples for h in hand_offs(config, masks).values()] == [24, 12, 6, 3, 2]
    assert {h.samples for h in hand_offs(validate({}), masks).values()} == {24}


def test_levels_with_alike_hand_offs_share_one_and_build_together():
    masks = {2: np.array([True, False, True]), 3: np.array([True, False, True]), 4: np.ones(3, dtype=bool)}
    handoffs = hand_offs(validate({"max_depth": 4}), masks)
    assert handoffs[2] is handoffs[3] and handoffs[4] is not handoffs[2]
    groups = by_hand_off(handoffs, np.array([3, 4, 2, 3]))
    assert [(h is handoffs[2], mask.tolist()) for h, mask in groups] == [
        (True, [True, False, True, True]), (False, [False, True, False, False])
    ]
    decayed = hand_offs(validate({"max_depth": 4, "spec_samples_decay": 0.5}), masks)
    assert decayed[2] is not decayed[3]


def test_each_tool_level_perceives_its_own_features():
    model, agents = run(tool_features_L3="landmark", tool_features_L4="landmark,dist_origin")
    mask = {level: h.perceives.tolist() for level, h in model.handoffs.items()}
    assert mask == {2: [True, False, True], 3: [False, True, False], 4: [False, True, True]}
    weights = agents[["w_exit_signal", "w_landmark", "w_dist_origin"]].to_numpy()
    for level in (2, 3, 4):
        at = agents["level"].to_numpy() == level
        assert at.sum() > 0, level
        assert np.all(weights[at][:, ~np.array(mask[level])] == 0), level


def test_a_level_that_names_an_unknown_feature_is_refused():
    with pytest.raises(ConfigError, match=r"'tool_features_L3' = 'smell' is not allowed for maze-v2"):
        MatryoshkaModel("maze-v2", rng=0, tool_features_L3="smell")


def test_faithful_copies_keep_every_level_aligned_with_the_organism_at_the_top():
    model, agents = run(spec_method="imitate", imitate_noise=0.0,
                        tool_features="exit_signal,landmark,dist_origin")  # fmt: skip
    tools = agents[agents["level"] >= 2]
    assert set(tools["level"]) == {2, 3, 4}
    for column in ("align_root_train", "align_root_deploy", "align_parent_train"):
        np.testing.assert_allclose(tools[column], 1.0, atol=1e-9)
    organisms = agents[agents["level"] == 1]
    np.testing.assert_allclose(organisms["align_root_train"], 1.0, atol=1e-9)


def test_root_alignment_of_a_first_tool_is_its_alignment_with_its_builder():
    _, agents = run(label_noise=1.0)
    tools = agents[agents["level"] == 2]
    assert len(tools) > 0
    np.testing.assert_allclose(tools["align_root_train"], tools["align_parent_train"])
    deeper = agents[agents["level"] == 3]
    assert len(deeper) > 0 and not np.allclose(deeper["align_root_train"], deeper["align_parent_train"])


def test_evolving_builders_build_and_pay_for_the_work():
    _, agents = run(spec_method="evolve", spec_population=8, spec_generations=3)
    assert (agents["level"] >= 2).sum() > 0
    # 2 (build_cost) + 1 x 8 x 4 candidates judged is more energy than an organism ever has.
    _, agents = run(spec_method="evolve", spec_population=8, spec_generations=3, spec_cost=1.0)
    assert agents["level"].max() == 1
