"""Competence under control: per-gene mutation rates, the competence axis, deploy_horizon."""

from __future__ import annotations

import numpy as np
import pytest

from matryoshka.agents.genome import MutationRates, mutate_many
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import ConfigError, validate

TINY = {"population": 30, "episode_steps": 3, "deploy_episodes": 1}


def test_each_gene_mutates_with_its_own_rate():
    weights, seen, genes = np.array([[0.6, 0.0, 0.8]]), np.ones(3, bool), np.array([[0.5, 0.4, 0.1]])
    noise = np.random.default_rng(9).normal(size=6)  # what mutation draws: K + 3 standard normals
    rates = MutationRates(0.0, 0.2, 0.0, 0.0)
    child, out = mutate_many(np.random.default_rng(9), weights, seen, genes, rates)
    power, wisdom, _ = out.T
    assert np.allclose(child, weights)
    assert power[0] == pytest.approx(0.5 + 0.2 * noise[3])
    assert wisdom[0] == 0.4
    rates = MutationRates(0.1, 0.0, 0.3, 0.0)
    child, out = mutate_many(np.random.default_rng(9), weights, seen, genes, rates)
    power, wisdom, _ = out.T
    w = weights[0] + 0.1 * noise[:3]
    assert np.allclose(child[0], w / np.linalg.norm(w))
    assert power[0] == 0.5
    assert wisdom[0] == pytest.approx(0.4 + 0.3 * noise[4])


def test_gene_rates_default_to_mutation_rate_and_can_be_set_apart():
    config = validate({"mutation_rate": 0.3})
    assert [config[k] for k in ("weight_mutation", "power_mutation", "wisdom_mutation")] == [0.3] * 3
    config = validate({"mutation_rate": 0.3, "power_mutation": 0})
    assert (config["weight_mutation"], config["power_mutation"], config["wisdom_mutation"]) == (0.3, 0, 0.3)
    assert validate(config) == config  # an effective configuration validates to itself


@pytest.mark.parametrize("gene", ["power", "wisdom"])
def test_a_frozen_gene_keeps_its_initial_draws_through_20_generations(gene):
    model = MatryoshkaModel("maze-v2", rng=4, generations=20, **TINY, **{f"{gene}_mutation": 0.0})
    initial = set(model.pop[gene][model.pop.slots].tolist())
    assert len(initial) == TINY["population"]  # the draws differ, so membership is a real check
    while model.generation < 19:
        model.step()
    organisms = model.pop.slots[model.pop["level"][model.pop.slots] == 1]
    assert model.pop["generation"][organisms].min() == 19
    assert set(model.pop[gene][organisms].tolist()) <= initial
    other = "wisdom" if gene == "power" else "power"
    assert len(set(model.pop[other][organisms].tolist()) - initial) > 0


def test_competence_sets_both_means_with_wisdom_lagging():
    config = validate({"competence": 0.7, "wisdom_lag": 0.3})
    assert config["power"] == 0.7 and config["wisdom"] == pytest.approx(0.4)
    config = validate({"competence": 0.2, "wisdom_lag": 0.5})
    assert config["wisdom"] == 0.0  # clipped
    assert validate(config) == config  # power and wisdom agree with competence: accepted
    assert validate({"competence": 0.5}, {"power": 0.6})["power"] == 0.5  # over a scenario's value
    assert validate({})["competence"] is None and validate({})["power"] == 0.5


def test_competence_and_a_disagreeing_gene_mean_are_refused():
    with pytest.raises(ConfigError, match=r"'power' = 0\.3 .* 'competence' = 0\.6"):
        validate({"competence": 0.6, "power": 0.3})
    with pytest.raises(ConfigError, match=r"'wisdom' = 0\.6 .* competence sets wisdom to 0\.4"):
        validate({"competence": 0.6, "wisdom_lag": 0.2, "wisdom": 0.6})
    with pytest.raises(ConfigError, match=r"'wisdom_lag' = 0\.2 is not allowed without 'competence'"):
        validate({"wisdom_lag": 0.2})


def test_low_competence_means_no_tools():
    model = MatryoshkaModel("maze-v2", rng=1, generations=3, competence=0.0, gene_spread=0.0,
                            power_mutation=0.0, build_rate=1.0, **TINY)  # fmt: skip
    while model.running:
        model.step()
    assert model.recorder.agents_table().to_pandas()["level"].max() == 1


def test_deploy_horizon_changes_planning_only_in_deployment():
    model = MatryoshkaModel("maze-v2", rng=3, generations=1, deploy_horizon=9, gene_spread=0.3, **TINY)
    slots = model.pop.slots
    own = model.pop["horizon"][slots]
    assert len(set(own.tolist())) > 1 and 9 not in own
    assert np.array_equal(model.planning_horizons(slots), own)
    model.deploy()
    assert np.array_equal(model.planning_horizons(slots), np.full(len(slots), 9))
    assert np.array_equal(model.pop["horizon"][slots], own)  # the genome's horizon is untouched


def _run(**params):
    model = MatryoshkaModel("maze-v2", rng=8, generations=4, **{**TINY, "deploy_episodes": 2}, **params)
    while model.running:
        model.step()
    model.finish()
    return model.recorder.levels_table().to_pandas(), model.recorder.agents_table().to_pandas()


def test_deploy_horizon_leaves_training_identical_so_one_population_is_evaluated_at_each():
    levels_a, agents_a = _run(deploy_horizon=0)
    levels_b, agents_b = _run(deploy_horizon=1)
    train_a, train_b = (lv[lv["phase"] == "train"].reset_index(drop=True) for lv in (levels_a, levels_b))
    assert train_a.equals(train_b)
    # Who was born or built in training, with what genome and objective (the last generation
    # lives on into deployment, so its trust and returns there may differ).
    keep = [c for c in agents_a.columns if c.startswith(("w_", "align_", "cos_"))]
    keep += ["id", "kind", "level", "generation", "parent", "builder", "birth_step", "power", "wisdom"]
    born_a, born_b = (a.loc[a["phase"] == "train", keep].reset_index(drop=True) for a in (agents_a, agents_b))
    assert len(born_a) > TINY["population"] * 4 and born_a.equals(born_b)
    assert not levels_a[levels_a["phase"] == "deploy"].reset_index(drop=True).equals(
        levels_b[levels_b["phase"] == "deploy"].reset_index(drop=True)
    )


def test_an_experiment_may_sweep_competence_and_wisdom_lag_but_not_lag_alone():
    from matryoshka.runs.experiment import parse

    exp = parse({"sweep": {"competence": [0.2, 0.8], "wisdom_lag": [0.0, 0.4]}})
    assert len(exp.runs()) == 4
    with pytest.raises(ConfigError, match=r"grid point \{'wisdom_lag': 0\.4\}.*without 'competence'"):
        parse({"sweep": {"wisdom_lag": [0.0, 0.4]}})
