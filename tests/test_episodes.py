"""Episodes, generations and the shift in generational mode, counted by hand."""

import pandas as pd

from matryoshka.model.contract import CORE_METRICS, metric_registry, summarize, summary_windows
from matryoshka.model.model import MatryoshkaModel
from matryoshka.runs.single import expected_steps


def test_each_generation_lives_its_episodes_and_the_run_has_the_expected_length():
    model = MatryoshkaModel("maze-v2", rng=1, population=10, generations=3, episodes_per_generation=2,
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
    model = MatryoshkaModel("maze-v2", rng=2, population=4, random_exit_share=1.0, episode_steps=2,
                            generations=30, deploy_episodes=0, tool_policy="forbid")  # fmt: skip
    origin, usual = model.world.cell((0, 0)), model.world.cell((10, 10))
    exits = set()
    while model.running:
        exits.add(model.world.marks["exit"])
        model.step()
    from_origin = model.paths.distances(origin)
    distances = pd.Series([from_origin[model.world.cell(xy)] for xy in exits])
    assert len(exits) > 10
    assert (distances <= from_origin[usual]).all() and (distances > 0).all()


def test_deploy_episode_steps_sets_the_length_of_each_deployment_episode():
    model = MatryoshkaModel("maze-v2", rng=3, population=6, generations=2, episode_steps=5,
                            deploy_episodes=3, deploy_episode_steps=7, tool_policy="forbid")  # fmt: skip
    starts = []  # the step at which each deployment episode began: organisms back at the origin
    while model.running:
        if model.phase == "deploy" and model.episode_step == 0:
            starts.append(model.steps)
        model.step()
    assert starts == [10, 17, 24]  # training: 2 x 5 steps; then three episodes of exactly 7
    assert model.steps == 10 + 3 * 7 == expected_steps(model.config)
    levels = model.recorder.levels_table().to_pandas()
    assert levels.loc[levels.phase == "deploy", "step"].nunique() == 21


def test_deploy_episode_steps_zero_keeps_the_training_length():
    model = MatryoshkaModel("maze-v2", rng=3, population=6, generations=2, episode_steps=5,
                            deploy_episodes=2, deploy_episode_steps=0, tool_policy="forbid")  # fmt: skip
    while model.running:
        model.step()
    assert model.steps == 10 + 2 * 5 == expected_steps(model.config)


def test_each_phase_is_summarised_over_its_own_last_episode():
    steps = list(range(1, 11)) + list(range(11, 18))  # 10 training steps, 7 deployment steps
    levels = pd.DataFrame({"step": steps, "phase": ["train"] * 10 + ["deploy"] * 7, "level": 1,
                           "metric": "base_return", "mean": [float(s) for s in steps]})  # fmt: skip
    windows = summary_windows({"episode_steps": 5, "deploy_episode_steps": 4})
    assert windows == {"train": 5, "deploy": 4}
    summary = summarize(levels, windows, metric_registry(CORE_METRICS))
    assert summary["train/L1/base_return"] == (6 + 7 + 8 + 9 + 10) / 5
    assert summary["deploy/L1/base_return"] == (14 + 15 + 16 + 17) / 4
    assert summary_windows({"episode_steps": 5, "deploy_episode_steps": 0})["deploy"] == 5
