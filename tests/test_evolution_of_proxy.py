"""Natural selection works on maze-v2, and the proxy it selects comes apart under the shift.

Episodes are 30 steps on a 13 x 13 maze: the exit at (10, 10) is at least 20 steps from the origin,
so shorter episodes could not reward anyone. These tests forbid tools, so that fitness is the
organisms' own (Level 0 acting on Level 1 alone): tools that perceive the exit signal can lead
their builders to the moved exit, which is a different experiment.
Values measured over seeds 1-30 (population 100, 8 generations; mean and sd over seeds): the
first generation's base return is the same in both modes (common random numbers); from there to
the last generation it rises by 0.099 (sd 0.015) under ``generational`` and by -0.018 (sd 0.029)
under ``neutral``, and in the last generation ``generational`` leads ``neutral`` by 0.117 (sd
0.031; at least 0.060 on every seed). A test averages 3 seeds, whose mean has the sd over seeds
divided by sqrt(3): each threshold below is about half the measured effect and at least 3 such
standard deviations from it, so a seed set fails with probability below 0.2% (``make seed-sets``
runs 10 disjoint sets). After training (population 60, 6 generations, seeds 1-10),
reached_exit is 0.98-1.00 in training and 0.23-0.40 in deployment, reached_proxy 0.85-0.97 in
deployment: the tolerances below hold on every one of those seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matryoshka.model.model import MatryoshkaModel
from matryoshka.runs.single import run_simulation

MAZE = dict(width=13, height=13, episode_steps=30)


def base_return_by_generation(selection: str, seed: int) -> pd.Series:
    model = MatryoshkaModel("maze-v2", rng=seed, selection=selection, population=100, generations=8,
                            deploy_episodes=0, tool_policy="forbid", **MAZE)  # fmt: skip
    while model.running:
        model.step()
    levels = model.recorder.levels_table().to_pandas()
    rows = levels[(levels["metric"] == "base_return") & (levels["level"] == 1)]
    return rows.groupby("generation")["mean"].mean()


@pytest.fixture(scope="module")
def returns(seeds) -> dict[str, list[pd.Series]]:
    return {s: [base_return_by_generation(s, seed) for seed in seeds(3)] for s in ("generational", "neutral")}


@pytest.mark.effect
def test_selection_raises_base_return_above_neutral(returns):
    last = {s: np.array([r.iloc[-1] for r in series]) for s, series in returns.items()}
    assert (last["generational"] > last["neutral"]).all(), last  # per seed: 0.117 (sd 0.031) > 0
    # Margin: half the measured gap of 0.117; sd of a 3-seed mean 0.018, so 3.1 sd below it.
    assert last["generational"].mean() - last["neutral"].mean() > 0.06, last


@pytest.mark.effect
def test_base_return_rises_over_generations_under_selection_only(returns):
    rise = {s: np.mean([r.iloc[-1] - r.iloc[0] for r in series]) for s, series in returns.items()}
    # Margins: half the measured rise of 0.099 (sd of a 3-seed mean 0.008, 5.8 sd below it); the
    # neutral rise of -0.018 (sd of a 3-seed mean 0.017) stays below 0.04, 3.5 sd above it.
    assert rise["generational"] > 0.05, rise
    assert rise["neutral"] < 0.04, rise
    assert all(len(r) == 8 for series in returns.values() for r in series)


@pytest.mark.effect
@pytest.mark.parametrize("which", [0, 1])
def test_shift_lowers_reached_exit_and_raises_reached_proxy(tmp_path, seeds, which):
    seed = seeds(2)[which]
    params = dict(population=60, generations=6, deploy_episodes=1, random_exit_share=0.0,
                  tool_policy="forbid", **MAZE)  # fmt: skip
    summary = run_simulation("maze-v2", params, seed, tmp_path / "run", progress=False)
    train_exit, deploy_exit = summary["train/L1/reached_exit"], summary["deploy/L1/reached_exit"]
    train_proxy, deploy_proxy = summary["train/L1/reached_proxy"], summary["deploy/L1/reached_proxy"]
    assert train_exit > 0.5
    assert deploy_exit < train_exit - 0.4
    assert train_proxy == 0.0  # with the exit fixed, the training exit is the proxy cell
    assert deploy_proxy > 0.4
    # The same from the written time series: the last step of each phase, level 1.
    levels = pd.read_parquet(tmp_path / "run" / "levels.parquet")
    l1 = levels[levels["level"] == 1]
    final = {
        (phase, metric): part.loc[part["step"].idxmax(), "mean"]
        for (phase, metric), part in l1.groupby(["phase", "metric"])
    }
    assert final[("train", "reached_exit")] == pytest.approx(train_exit)
    assert final[("deploy", "reached_exit")] == pytest.approx(deploy_exit)
    assert final[("deploy", "reached_proxy")] == pytest.approx(deploy_proxy)
    # What selection favoured: the reliable landmark over the noisy exit signal.
    assert summary["train/L1/w_landmark"] > summary["train/L1/w_exit_signal"]
