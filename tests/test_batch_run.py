"""Mesa compatibility: ``mesa.batch_run`` runs the model over a small grid."""

from __future__ import annotations

import mesa
import pandas as pd

from matryoshka.model.model import MatryoshkaModel


def test_mesa_batch_run_runs_a_small_grid():
    results = mesa.batch_run(
        MatryoshkaModel,
        parameters={"scenario": "maze-v2", "population": 20, "generations": 2, "episode_steps": 10,
                    "deploy_episodes": 1, "tool_policy": ["free", "forbid"]},  # fmt: skip
        rng=[1, 2],
        max_steps=100,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    table = pd.DataFrame(results)
    assert len(table) == 4  # 2 policies x 2 seeds, one row each (data at the end of the run)
    assert sorted(zip(table["tool_policy"], table["rng"], strict=True)) == [
        ("forbid", 1), ("forbid", 2), ("free", 1), ("free", 2)]  # fmt: skip
    assert set(table["Step"]) == {30}  # (2 generations + 1 deployment episode) x 10 steps
    assert (table["population_L1"] == 20).all()
    assert set(table["phase"]) == {"deploy"}
    # the same seed and parameters give the same result
    again = pd.DataFrame(mesa.batch_run(
        MatryoshkaModel, parameters={"scenario": "maze-v2", "population": 20, "generations": 2,
                                     "episode_steps": 10, "deploy_episodes": 1, "tool_policy": "free"},
        rng=[1], max_steps=100, number_processes=1, display_progress=False))  # fmt: skip
    first = table[(table["tool_policy"] == "free") & (table["rng"] == 1)].iloc[0]
    assert again.loc[0, "align_base_train_L1"] == first["align_base_train_L1"]
