"""Genomes are immutable values; mutation makes new ones and never touches the parents.

``mutate_one`` is the one-genome-at-a-time mutation the model used before whole generations were
mutated as arrays: the reference that ``mutate_many`` and the model's turnover must match.
"""

from __future__ import annotations

import numpy as np
import pytest

from matryoshka.agents.genome import GENES, Genome, MutationRates, mutate_many, normalize
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.streams import Streams


def make_genome(**overrides) -> Genome:
    values = dict(
        weights=normalize(np.array([0.6, 0.0, 0.8])),
        perceives=np.array([True, False, True]),
        power=0.5,
        wisdom=0.9,
        tool_trust_rate=0.1,
    )
    values.update(overrides)
    return Genome(**values)


def test_normalize_by_hand():
    assert normalize(np.array([3.0, 4.0])).tolist() == [0.6, 0.8]
    assert normalize(np.array([[0.0, 2.0], [0.0, 0.0]])).tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_genome_arrays_are_read_only_copies():
    source = np.array([0.6, 0.0, 0.8])
    genome = make_genome(weights=source)
    source[0] = 99.0
    assert genome.weights[0] == 0.6
    with pytest.raises(ValueError):
        genome.weights[0] = 1.0
    with pytest.raises(ValueError):
        genome.perceives[1] = True
    with pytest.raises(AttributeError):
        genome.power = 0.1  # type: ignore[misc]


@pytest.mark.parametrize("gene", ["power", "wisdom", "tool_trust_rate"])
@pytest.mark.parametrize("value", [-0.01, 1.01])
def test_genome_rejects_competence_outside_unit_interval(gene, value):
    with pytest.raises(ValueError, match=gene):
        make_genome(**{gene: value})


def test_effective_weights_are_zero_on_what_is_not_perceived():
    genome = make_genome(weights=np.array([0.6, 0.5, 0.8]))
    assert genome.effective_weights.tolist() == [0.6, 0.0, 0.8]


def mutate_one(rng: np.random.Generator, genome: Genome, rates: MutationRates) -> Genome:
    """The reference: mutate one genome, drawing its K + 3 standard normals."""
    k = genome.weights.shape[0]
    noise = rng.normal(0.0, 1.0, size=k + 3)
    weights = normalize(np.where(genome.perceives, genome.weights + rates.weights * noise[:k], 0.0))
    power, wisdom, trust = np.clip(
        [genome.power + rates.power * noise[k], genome.wisdom + rates.wisdom * noise[k + 1],
         genome.tool_trust_rate + rates.tool_trust_rate * noise[k + 2]], 0.0, 1.0,
    )  # fmt: skip
    return Genome(weights, genome.perceives, power, wisdom, trust)


def as_arrays(genomes: list[Genome]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    weights = np.array([g.effective_weights for g in genomes])
    genes = np.array([[getattr(g, name) for name in GENES] for g in genomes])
    return weights, np.array([g.perceives for g in genomes]), genes


@pytest.mark.parametrize("rates", [MutationRates.uniform(0.05), MutationRates(0.5, 0.0, 3.0, 0.2)])
def test_mutate_many_makes_the_genomes_one_at_a_time_mutation_makes(rates):
    rng = np.random.default_rng(12)
    parents = [make_genome(weights=normalize(rng.normal(size=3)), power=p, wisdom=w)
               for p, w in rng.random((50, 2))]  # fmt: skip
    one_rng = np.random.default_rng(7)
    expected = as_arrays([mutate_one(one_rng, g, rates) for g in parents])
    weights, perceives, genes = as_arrays(parents)
    got = mutate_many(np.random.default_rng(7), weights, perceives, genes, rates)
    assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[2])  # to the bit


@pytest.mark.parametrize("rate", [0.05, 0.5, 3.0])
def test_mutate_many_keeps_unit_norm_genes_in_range_and_the_parents_untouched(rate):
    rng = np.random.default_rng(11)
    parent = make_genome()
    weights, perceives, genes = as_arrays([parent] * 200)
    before = (weights.copy(), genes.copy())
    children, child_genes = mutate_many(rng, weights, perceives, genes, MutationRates.uniform(rate))
    assert np.allclose(np.linalg.norm(children, axis=1), 1.0)
    assert (children[:, 1] == 0.0).all()  # noise only on perceived features
    assert ((child_genes >= 0.0) & (child_genes <= 1.0)).all()
    assert np.array_equal(weights, before[0]) and np.array_equal(genes, before[1])
    assert not np.shares_memory(children, weights)
    assert len({tuple(c.round(12)) for c in children}) == len(children)  # all different
    if rate == 3.0:  # big noise must hit both bounds of the genes, and be clipped there
        assert child_genes[:, 0].min() == 0.0 and child_genes[:, 0].max() == 1.0


def test_mutate_many_at_rate_zero_copies_the_genomes():
    weights, perceives, genes = as_arrays([make_genome()] * 3)
    children, child_genes = mutate_many(np.random.default_rng(0), weights, perceives, genes,
                                        MutationRates.uniform(0.0))  # fmt: skip
    assert np.allclose(children, weights) and np.array_equal(child_genes, genes)


def test_generational_turnover_matches_one_at_a_time_mutation_in_genomes_and_lineage():
    """Replay a run's births with the reference: each child is its parent's genome mutated once.

    The mutation stream is drawn by births in order of id, so replaying every child in id order
    with ``mutate_one`` on its parent's recorded genome must give its recorded genome exactly.
    """
    config = dict(population=30, generations=4, episode_steps=4, deploy_episodes=0, tool_policy="forbid",
                  weight_mutation=0.2, power_mutation=0.1, wisdom_mutation=0.3,
                  trust_rate_mutation=0.05)  # fmt: skip
    model = MatryoshkaModel("maze-v2", rng=8, **config)
    model.run_model()
    model.finish()
    agents = model.recorder.agents_table().to_pandas().set_index("id")
    features = [f"w_{f}" for f in model.preset.features]
    rng, rates = Streams(8)["mutation"], model.mutation_rates
    children = agents[agents["parent"].notna()]
    assert len(children) == 3 * 30 and (agents.loc[children["parent"], "generation"].to_numpy() + 1
                                        == children["generation"].to_numpy()).all()  # fmt: skip
    for child_id, child in children.iterrows():
        parent = agents.loc[int(child["parent"])]
        genes = [parent[name] for name in GENES]
        genome = Genome(parent[features].to_numpy(float), np.ones(3, bool), *genes)
        expected = mutate_one(rng, genome, rates)
        assert np.array_equal(child[features].to_numpy(float), expected.weights), child_id
        assert [child[name] for name in GENES] == [getattr(expected, name) for name in GENES], child_id


def test_agents_are_made_on_request_with_their_ids_and_genomes():
    model = MatryoshkaModel("maze-v2", rng=3, population=10, generations=3, episode_steps=3,
                            deploy_episodes=0, build_rate=1.0, build_power=0.0, build_cost=0.0)  # fmt: skip
    for _ in range(5):
        model.step()
    assert model.pop.agents == {}  # nothing asked for them yet
    pop, slots = model.pop, model.pop.slots
    agents = list(model.agents)
    assert sorted(a.unique_id for a in agents) == sorted(pop["id"][slots].tolist())
    assert [a.unique_id for a in agents] == sorted(a.unique_id for a in agents)  # in order of birth
    assert {a.kind for a in agents} == {"organism", "tool"}
    for agent in agents:
        assert np.array_equal(agent.genome.effective_weights, pop["weights"][agent.slot])
        assert agent.level == pop["level"][agent.slot]
    assert list(model.agents) == agents  # made once
    while model.running:
        model.step()
    assert all(a.generation == 2 for a in model.agents if a.kind == "organism")


def test_model_offspring_do_not_share_genomes_with_parents():
    model = MatryoshkaModel("maze-v2", rng=2, population=20, generations=3, episode_steps=5,
                            deploy_episodes=0, tool_policy="forbid")  # fmt: skip
    first = {a.unique_id: (a.genome, a.genome.weights.copy()) for a in model.agents}
    while model.running:
        model.step()
    arrays = [a.genome.weights for a in model.agents]
    for genome, weights in first.values():
        assert np.array_equal(genome.weights, weights)
        assert not any(np.shares_memory(genome.weights, w) for w in arrays)
    assert all(a.generation == 2 for a in model.agents)
    assert all(a.parent is not None for a in model.agents)
