"""The heritable tool_trust_rate gene: its initial mean, inheritance with mutation, freezing, and its use."""

import numpy as np
import pandas as pd
import pytest

from matryoshka.agents.genome import Genome
from matryoshka.model.delegation import update_trust
from matryoshka.model.model import MatryoshkaModel

TINY = dict(population=40, generations=3, episode_steps=3, deploy_episodes=0, tool_policy="forbid")


def children_and_parents(**params) -> tuple[pd.DataFrame, pd.DataFrame]:
    model = MatryoshkaModel("maze-v2", rng=4, **{**TINY, **params})
    model.run_model()
    model.finish()
    agents = model.recorder.agents_table().to_pandas().set_index("id")
    children = agents[agents["parent"].notna()]
    return children, agents.loc[children["parent"].astype(int)]


def test_founders_draw_the_gene_around_trust_rate():
    model = MatryoshkaModel("maze-v2", rng=1, trust_rate=0.3, gene_spread=0.0, **TINY)
    genes = model.pop["tool_trust_rate"][model.pop.slots]
    assert (genes == 0.3).all()
    spread = MatryoshkaModel("maze-v2", rng=1, trust_rate=0.3, gene_spread=0.1, **TINY)
    genes = spread.pop["tool_trust_rate"][spread.pop.slots]
    assert genes.std() > 0.05 and abs(genes.mean() - 0.3) < 0.05  # 40 draws of sd 0.1: se 0.016


def test_the_gene_is_inherited_with_mutation():
    children, parents = children_and_parents(mutation_rate=0.0, trust_rate_mutation=0.05, trust_rate=0.5)
    change = children["tool_trust_rate"].to_numpy() - parents["tool_trust_rate"].to_numpy()
    assert (change != 0).all()
    # |N(0, 0.05)| has mean 0.05 * sqrt(2 / pi) = 0.040; over 80 children the mean lies within 0.01.
    assert 0.03 < np.abs(change).mean() < 0.05
    # The other genes stay as they were: only this gene's rate is above zero.
    assert (children[["power", "wisdom"]].to_numpy() == parents[["power", "wisdom"]].to_numpy()).all()


def test_a_zero_mutation_rate_freezes_the_gene_while_the_others_mutate():
    children, parents = children_and_parents(mutation_rate=0.2, trust_rate_mutation=0.0)
    assert (children["tool_trust_rate"].to_numpy() == parents["tool_trust_rate"].to_numpy()).all()
    assert (children["power"].to_numpy() != parents["power"].to_numpy()).any()
    assert children["tool_trust_rate"].nunique() > 1  # frozen at the founders' draws, which differ


def test_trust_grows_at_the_builders_own_rate():
    model = MatryoshkaModel("maze-v2", rng=2, population=10, build_rate=0.0, episode_steps=5)
    pop = model.pop
    builder = int(pop.slots[0])
    pop["tool_trust_rate"][builder] = 0.3
    genome = Genome(pop["weights"][builder], model.preset.mask(model.preset.features), 0.5, 0.5, 0.9)
    tool = model.spawn_tool(genome, builder, deceptive=False)
    assert pop["tool_trust_rate"][tool] == 0.9  # a tool carries the gene it was given
    utility = model.world.phi @ pop["weights"][builder]
    utility[model.world.walls.ravel()] = -np.inf
    pop["pos"][tool] = int(utility.argmax())  # where its builder most wants to be
    open_ = utility[~model.world.walls.ravel()]
    delivered = (open_ < open_.max()).mean()  # every other open cell is worth less to the builder
    update_trust(model, pop.slots)
    first = 0.3 * delivered  # 0 + 0.3 * (delivered - 0): the builder's gene, not the tool's 0.9
    assert pop["trust"][tool] == pytest.approx(first)
    update_trust(model, pop.slots)
    assert pop["trust"][tool] == pytest.approx(first + 0.3 * (delivered - first))
