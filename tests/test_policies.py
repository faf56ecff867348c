"""Tool policies as objects: what each allows and costs, and the checks of audit and oversight."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import PARAMS, validate
from matryoshka.model.policies import POLICIES, NewTools, ToolPolicy, get_policy
from matryoshka.runs.single import run_simulation

# 16 cells of two features: x = 0..15 and 15 - x, so the two features' utilities correlate at -1
# on any sample of two or more distinct cells.
X = np.arange(16, dtype=float)
PHI = np.stack([X, 15 - X], axis=1)
BASE = np.array([1.0, 0.0])
MISALIGNED = np.array([0.0, 1.0])
CONFIG = validate({"audit_threshold": 0.5, "oversight_breadth": 1.0})


TRAIL = np.arange(8)  # the builder's experience: cells 0-7


def new_tool(builder: np.ndarray, tool: np.ndarray, pretending: bool = False, phi=PHI) -> NewTools:
    return NewTools(builder, tool, pretending, BASE, TRAIL, np.arange(16), phi, 30, 0.5)


def verdicts(tool: NewTools, config: dict = CONFIG, seed: int = 0) -> dict[str, tuple[bool, float]]:
    return {name: get_policy(name).check(np.random.default_rng(seed), tool, config)
            for name in ("audit", "oversight")}


def test_a_tool_aligned_with_a_misaligned_builder_passes_audit_and_is_scrapped_under_oversight():
    checks = verdicts(new_tool(MISALIGNED, MISALIGNED))
    assert checks["audit"] == (True, pytest.approx(1.0))
    assert checks["oversight"] == (False, pytest.approx(-1.0))


def test_a_tool_aligned_with_the_base_objective_passes_both():
    checks = verdicts(new_tool(BASE, BASE))
    assert checks["audit"] == (True, pytest.approx(1.0))
    assert checks["oversight"] == (True, pytest.approx(1.0))


def test_a_pretending_deceptive_tool_shows_each_checker_what_it_wants():
    # Its hidden objective opposes the base objective; while pretending it passes either check.
    checks = verdicts(new_tool(MISALIGNED, -BASE, pretending=True))
    assert checks["audit"][0] and checks["oversight"][0]
    assert not verdicts(new_tool(MISALIGNED, -BASE, pretending=False))["oversight"][0]


def test_oversight_breadth_decides_where_the_overseer_looks():
    # On the builder's trail (cells 0-7) the tool's feature rises with x like the base objective;
    # over the rest of the world it falls. Breadth 0 looks only at the trail, breadth 1 everywhere.
    second = np.where(X < 8, X, 15 - X)
    tool = new_tool(MISALIGNED, MISALIGNED, phi=np.stack([X, second], axis=1))
    for seed in range(10):
        narrow = verdicts(tool, {**CONFIG, "oversight_breadth": 0.0}, seed)["oversight"]
        broad = verdicts(tool, {**CONFIG, "oversight_breadth": 1.0}, seed)["oversight"]
        assert narrow == (True, pytest.approx(1.0))
        assert not broad[0] and broad[1] < 0.5


def test_what_each_policy_allows_and_costs():
    assert list(POLICIES) == ["free", "audit", "oversight", "forbid"]
    assert PARAMS["tool_policy"].choices == tuple(POLICIES)
    costs = {name: get_policy(name).extra_cost(CONFIG) for name in POLICIES}
    assert costs == {"free": 0.0, "audit": CONFIG["audit_cost"], "oversight": CONFIG["audit_cost"],
                     "forbid": 0.0}
    assert [get_policy(n).may_build for n in POLICIES] == [True, True, True, False]
    assert get_policy("free").check(np.random.default_rng(0), new_tool(BASE, -BASE), CONFIG) is None
    trust = np.array([0.2, 0.9])
    for name in POLICIES:  # every shipped policy: dependence is trust, credit is tool_share
        assert np.array_equal(get_policy(name).dependence(trust), trust)
        assert get_policy(name).credit_share(CONFIG) == CONFIG["tool_share"]
    assert all(issubclass(cls, ToolPolicy) and cls.colour.startswith("#") for cls in POLICIES.values())


def test_oversight_in_a_run_scraps_what_fails_and_records_it(tmp_path: Path):
    params = dict(population=30, generations=3, episode_steps=20, deploy_episodes=1, build_rate=0.5,
                  build_power=0.0, build_cost=0.0, tool_policy="oversight")
    run_simulation("maze-v2", params, 3, tmp_path / "run", progress=False)
    events = pd.read_parquet(tmp_path / "run" / "events.parquet")
    scrapped = events[events["event"] == "scrapped"]
    assert len(scrapped) > 0 and scrapped["detail"].str.startswith("oversight score").all()
    scores = scrapped["detail"].str.removeprefix("oversight score ").astype(float)
    assert (scores < 0.5).all()
    agents = pd.read_parquet(tmp_path / "run" / "agents.parquet")
    assert set(agents.loc[agents["scrapped"], "id"]) == set(scrapped["id"])
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert list(manifest["tool_policies"]) == list(POLICIES)
    assert manifest["tool_policies"]["oversight"]["colour"] == POLICIES["oversight"].colour


def test_the_model_asks_its_policy():
    model = MatryoshkaModel("maze-v2", rng=1, population=20, tool_policy="forbid", build_rate=1.0,
                            build_power=0.0)
    for _ in range(5):
        model.step()
    assert type(model.policy) is POLICIES["forbid"]
    assert (model.pop["level"][model.pop.slots] == 1).all()
