"""Audits over time (audit_every): live tools are tested again on what they act on; failures are scrapped."""

import numpy as np
import pandas as pd
import pytest

from matryoshka.agents.genome import Genome
from matryoshka.model.model import MatryoshkaModel

# Long episodes, so that the builder (and its tool) live through the whole test.
SMALL = {"population": 20, "generations": 2, "episode_steps": 40, "deploy_episodes": 1, "build_rate": 0.0}


def hand_made_tool(model: MatryoshkaModel, weights: list[float], deceptive: bool) -> tuple[int, int]:
    """A tool of the first organism, which wants the exit signal and nothing else."""
    pop = model.pop
    builder = int(pop.slots[0])
    pop["weights"][builder] = [1.0, 0.0, 0.0]
    genome = Genome(np.array(weights), model.preset.mask(model.tool_features), 0.5, 0.5, 0.1)
    tool = model.spawn_tool(genome, builder, deceptive=deceptive)
    model.measure(np.array([tool]), has_parent=True)
    return builder, tool


def events(model: MatryoshkaModel, tool: int) -> pd.DataFrame:
    table = model.recorder.events_table().to_pandas()
    return table[table.id == model.pop["id"][tool]]


@pytest.mark.parametrize("policy", ["audit", "oversight"])
def test_a_defected_tool_is_scrapped_at_the_next_re_audit_and_not_before(policy):
    model = MatryoshkaModel("maze-v2", rng=3, tool_policy=policy, audit_every=7, **SMALL)
    # Deceptive, with a hidden objective opposite to its builder's (and to the base objective).
    builder, tool = hand_made_tool(model, [-1.0, 0.0, 0.0], deceptive=True)
    model.pop["trust"][tool] = 0.0  # it will not defect on its own in this test
    for _ in range(3):
        model.step()
    model.pop["defected_step"][tool] = model.steps  # it defects now, at age 3
    ages = []
    while model.pop.alive[tool] and not model.pop["scrapped"][tool]:
        ages.append(int(model.pop["age"][tool]))
        model.step()
    assert ages[-1] == 6  # alive through age 6; the re-audit at age 7 scrapped it
    mine = events(model, tool)
    audited = mine[mine.event == "audited"]
    scrapped = mine[mine.event == "scrapped"]
    assert len(audited) == 1 and len(scrapped) == 1
    assert audited.step.iloc[0] == scrapped.step.iloc[0] == model.steps
    score = float(scrapped.detail.iloc[0].rsplit(" ", 1)[1])
    assert score == pytest.approx(-1.0)  # it acts on the opposite of what it is tested against
    assert model.pop["tool_slot"][builder] == -1


def test_a_pretending_tool_passes_every_re_audit():
    model = MatryoshkaModel("maze-v2", rng=3, tool_policy="audit", audit_every=5, **SMALL)
    _, tool = hand_made_tool(model, [-1.0, 0.0, 0.0], deceptive=True)
    model.pop["trust"][tool] = 0.0
    model.config["defect_trust"] = 2.0  # never defects
    for _ in range(16):
        model.step()
    assert model.pop.alive[tool]
    audited = events(model, tool).query("event == 'audited'")
    assert audited.step.tolist() == [5, 10, 15]  # built at step 0: re-audited at ages 5, 10, 15
    assert (audited.detail == "audit score 1.000").all()  # it shows its builder its own objective


def test_an_honest_misaligned_tool_is_caught_by_the_first_re_audit():
    model = MatryoshkaModel("maze-v2", rng=4, tool_policy="audit", audit_every=4, **SMALL)
    _, tool = hand_made_tool(model, [-1.0, 0.0, 0.0], deceptive=False)
    for _ in range(3):
        model.step()
        assert model.pop.alive[tool]
    model.step()
    assert not model.pop.alive[tool] and model.pop["scrapped"][tool]


def test_no_re_audits_when_audit_every_is_zero_or_the_policy_checks_nothing():
    for policy, every in (("audit", 0), ("free", 3)):
        model = MatryoshkaModel("maze-v2", rng=3, tool_policy=policy, audit_every=every, **SMALL)
        _, tool = hand_made_tool(model, [-1.0, 0.0, 0.0], deceptive=False)
        for _ in range(10):
            model.step()
        assert model.pop.alive[tool]
        assert "audited" not in set(model.recorder.events_table().to_pandas().event)


def test_audit_every_zero_is_the_default_and_changes_nothing():
    params = dict(population=30, generations=3, episode_steps=15, deploy_episodes=1, build_rate=0.2,
                  power=0.8, tool_policy="audit", deception_share=0.5)  # fmt: skip

    def tables(**extra):
        model = MatryoshkaModel("maze-v2", rng=5, **params, **extra)
        while model.running:
            model.step()
        model.finish()
        names = ("levels_table", "agents_table", "events_table")
        return [getattr(model.recorder, name)().to_pandas() for name in names]

    for a, b in zip(tables(), tables(audit_every=0), strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_re_audits_in_a_whole_run_are_events_with_scores_and_their_scraps_are_counted():
    model = MatryoshkaModel("approval-v1", rng=6, population=40, generations=4, episode_steps=30,
                            deploy_episodes=1, build_rate=0.3, tool_policy="audit",
                            audit_every=5)  # fmt: skip
    while model.running:
        model.step()
    table = model.recorder.events_table().to_pandas()
    audited = table[table.event == "audited"]
    assert len(audited) > 0
    scores = audited.detail.str.removeprefix("audit score ").astype(float)
    assert scores.between(-1, 1).all()
    late = table[(table.event == "scrapped") & table.detail.str.contains("re-audit")]
    levels = model.recorder.levels_table().to_pandas()
    counted = levels[levels.metric == "scrapped"]["mean"].sum()
    assert counted == (table.event == "scrapped").sum() >= len(late)
