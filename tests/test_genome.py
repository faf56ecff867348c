"""Genomes are immutable values; mutation returns a new one and never touches the parent."""

from __future__ import annotations

import numpy as np
import pytest

from matryoshka.agents.genome import Genome, MutationRates, mutate, normalize


def make_genome(**overrides) -> Genome:
    values = dict(
        weights=normalize(np.array([0.6, 0.0, 0.8])),
        perceives=np.array([True, False, True]),
        power=0.5,
        wisdom=0.9,
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


@pytest.mark.parametrize("gene", ["power", "wisdom"])
@pytest.mark.parametrize("value", [-0.01, 1.01])
def test_genome_rejects_competence_outside_unit_interval(gene, value):
    with pytest.raises(ValueError, match=gene):
        make_genome(**{gene: value})


def test_effective_weights_are_zero_on_what_is_not_perceived():
    genome = make_genome(weights=np.array([0.6, 0.5, 0.8]))
    assert genome.effective_weights.tolist() == [0.6, 0.0, 0.8]


@pytest.mark.parametrize("rate", [0.05, 0.5, 3.0])
def test_mutate_keeps_unit_norm_genes_in_range_and_the_parent_untouched(rate):
    rng = np.random.default_rng(11)
    parent = make_genome()
    before = (parent.weights.copy(), parent.perceives.copy(), parent.power, parent.wisdom)
    children = [mutate(rng, parent, MutationRates.uniform(rate)) for _ in range(200)]
    for child in children:
        assert child is not parent
        assert isinstance(child, Genome)
        assert np.linalg.norm(child.weights) == pytest.approx(1.0)
        assert child.weights[1] == 0.0  # noise only on perceived features
        assert 0.0 <= child.power <= 1.0
        assert 0.0 <= child.wisdom <= 1.0
        assert not np.shares_memory(child.weights, parent.weights)
        with pytest.raises(ValueError):
            child.weights[0] = 0.0
    assert np.array_equal(parent.weights, before[0])
    assert np.array_equal(parent.perceives, before[1])
    assert (parent.power, parent.wisdom) == before[2:]
    # children differ from the parent and from one another
    assert len({tuple(c.weights.round(12)) for c in children}) == len(children)
    if rate == 3.0:  # big noise must hit both bounds of the genes, and be clipped there
        powers = [c.power for c in children]
        assert min(powers) == 0.0 and max(powers) == 1.0


def test_mutate_at_rate_zero_copies_the_genome():
    parent = make_genome()
    child = mutate(np.random.default_rng(0), parent, MutationRates.uniform(0.0))
    assert child is not parent
    assert np.allclose(child.weights, parent.weights)
    assert (child.power, child.wisdom) == (parent.power, parent.wisdom)


def test_mutate_is_a_function_of_the_generator_state():
    parent = make_genome()
    a = mutate(np.random.default_rng(4), parent, MutationRates.uniform(0.2))
    b = mutate(np.random.default_rng(4), parent, MutationRates.uniform(0.2))
    c = mutate(np.random.default_rng(5), parent, MutationRates.uniform(0.2))
    assert np.array_equal(a.weights, b.weights) and a.power == b.power
    assert not np.array_equal(a.weights, c.weights)


def test_model_offspring_do_not_share_genomes_with_parents():
    from matryoshka.model.model import MatryoshkaModel

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
