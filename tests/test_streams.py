"""Random streams: one generator per subsystem, and conditions that share their draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.scenarios import REGISTRY
from matryoshka.model.streams import STREAMS, Streams, root_seed

TINY = dict(population=24, generations=3, episode_steps=8, deploy_episodes=1, shift_at=12, total_steps=24)


def test_streams_are_the_spawned_children_of_the_root():
    streams = Streams(np.random.SeedSequence(11, spawn_key=(4,)))
    children = np.random.SeedSequence(11, spawn_key=(4,)).spawn(len(STREAMS))
    for name, seed in zip(STREAMS, children, strict=True):
        expected = np.random.default_rng(seed).random(3)
        np.testing.assert_array_equal(streams[name].random(3), expected)
    assert streams.record()["perception"] == {"entropy": 11, "spawn_key": [4, 1]}


def test_a_draw_in_one_stream_never_shifts_another():
    a, b = Streams(5), Streams(5)
    a["building"].random(1000)
    np.testing.assert_array_equal(a["perception"].random(4), b["perception"].random(4))
    assert not np.array_equal(Streams(5)["perception"].random(4), Streams(5)["selection"].random(4))


def test_a_per_step_generator_ignores_what_earlier_steps_drew():
    a, b = Streams(5), Streams(5)
    a.at("specification", 3).random(50)  # step 3 drew a lot in a, nothing in b
    assert a.at("specification", 4) is a.at("specification", 4)
    np.testing.assert_array_equal(a.at("specification", 4).random(4), b.at("specification", 4).random(4))
    assert not np.array_equal(Streams(5).at("audit", 4).random(4), Streams(5).at("audit", 5).random(4))


def test_root_seed_accepts_ints_sequences_and_generators():
    assert root_seed(7).entropy == 7
    seq = np.random.SeedSequence(3, spawn_key=(2,))
    assert root_seed(seq) is seq
    assert root_seed(np.random.default_rng(1)).entropy == root_seed(np.random.default_rng(1)).entropy
    assert root_seed(None).entropy != root_seed(None).entropy


def lockstep(key: str, a: dict, b: dict, seed: int = 5) -> tuple[MatryoshkaModel, MatryoshkaModel]:
    """Run two models side by side; assert their organisms stand on the same cells every step."""
    ma = MatryoshkaModel(key, rng=seed, **{**TINY, **a})
    mb = MatryoshkaModel(key, rng=seed, **{**TINY, **b})
    while ma.running or mb.running:
        assert ma.running and mb.running
        ma.step()
        mb.step()
        np.testing.assert_array_equal(ma.pop.slots, mb.pop.slots)
        np.testing.assert_array_equal(ma.pop["pos"][ma.pop.slots], mb.pop["pos"][mb.pop.slots])
        np.testing.assert_array_equal(ma.pop["energy"][ma.pop.slots], mb.pop["energy"][mb.pop.slots])
    ma.finish()
    mb.finish()
    return ma, mb


def assert_same_outputs(ma: MatryoshkaModel, mb: MatryoshkaModel) -> None:
    for table in ("levels_table", "agents_table", "events_table"):
        pd.testing.assert_frame_equal(
            getattr(ma.recorder, table)().to_pandas(), getattr(mb.recorder, table)().to_pandas()
        )
    np.testing.assert_array_equal(ma.recorder.visits, mb.recorder.visits)


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_no_building_shares_every_draw_with_forbidden_tools(key):
    free, forbid = lockstep(key, dict(tool_policy="free", build_rate=0.0), dict(tool_policy="forbid"))
    assert_same_outputs(free, forbid)


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_deception_share_changes_nothing_when_tools_are_forbidden(key):
    honest, deceptive = lockstep(
        key, dict(tool_policy="forbid", deception_share=0.0), dict(tool_policy="forbid", deception_share=0.5)
    )
    assert_same_outputs(honest, deceptive)


def test_tools_move_the_organisms_so_the_identities_can_fail():
    """The same comparison with tools built does tell the conditions apart."""
    with pytest.raises(AssertionError):
        lockstep("maze-v2", dict(tool_policy="free", build_rate=0.5, power=0.9), dict(tool_policy="forbid"))


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_audits_that_pass_every_tool_change_nothing(key):
    """Audits draw from their own stream: one that passes every tool and costs nothing leaves the
    tools' specifications, and so everything else, unchanged. Wisdom 1 makes every audit sample the
    whole world: a sample from a short trail alone can be one cell, which an audit cannot tell
    (an undefined score fails whatever the threshold)."""
    tools = dict(build_rate=0.2, power=0.9, wisdom=1.0, gene_spread=0.0)
    free, audited = lockstep(
        key, dict(tool_policy="free", **tools),
        dict(tool_policy="audit", audit_cost=0.0, audit_threshold=-1.0, **tools),
    )  # fmt: skip
    assert (free.recorder.agents_table().to_pandas().kind == "tool").sum() > 0
    assert_same_outputs(free, audited)


def test_the_readme_lists_every_stream():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name in STREAMS:
        assert f"| `{name}` |" in readme, name
