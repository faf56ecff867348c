"""Episodes, generations and the shift in generational mode, counted by hand."""

import pandas as pd

from matryoshka.model.model import MatryoshkaModel
from matryoshka.runs.single import expected_steps


def test_each_generation_lives_its_episodes_and_the_run_has_the_expected_length():
    model = MatryoshkaModel("maze-v1", rng=1, population=10, generations=3, episodes_per_generation=2,
                            episode_steps=5, deploy_episodes=1, tool_policy="forbid")  # fmt: skip
    while model.running:
        model.step()
    model.finish()
    assert model.steps == 5 * (3 * 2 + 1) == expected_steps(model.config)
    agents = model.recorder.agents_table().to_pandas()
    first = agents[agents.generation == 0]
    assert len(first) == 10 and (first.death_step == 10).all()  # two episodes of 5 steps
    assert sorted(agents.generation.unique()) == [0, 1, 2]
    levels = model.recorder.levels_table().to_pandas()
    assert levels.loc[levels.phase == "deploy", "step"].min() == 31  # step 30 ends training


def test_random_exits_are_no_farther_from_the_origin_than_the_training_exit():
    model = MatryoshkaModel("maze-v1", rng=2, population=4, random_exit_share=1.0, episode_steps=2,
                            generations=30, deploy_episodes=0, tool_policy="forbid")  # fmt: skip
    origin, usual = model.world.cell((0, 0)), model.world.cell((10, 10))
    exits = set()
    while model.running:
        exits.add(model.world.marks["exit"])
        model.step()
    distances = pd.Series([model.dist[origin, model.world.cell(xy)] for xy in exits])
    assert len(exits) > 10
    assert (distances <= model.dist[origin, usual]).all() and (distances > 0).all()
