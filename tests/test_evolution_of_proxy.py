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
runs 10 disjoint sets). After training (population 60, 6 generations; seeds 1-40),
reached_exit is 0.98-1.00 in training; from there to deployment it falls by 0.647 (sd 0.140,
0.217-0.933: now and then a population keeps following the exit signal, and 3 of 40 seeds stay
above 0.6 in deployment), and reached_proxy in deployment is 0.891 (sd 0.086). The shift test
averages 3 seeds, with thresholds about half those effects, 3.7 and 8.8 standard deviations of a
3-seed mean below them.
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


@pytest.fixture(scope="module")
def shifted(seeds, tmp_path_factory) -> list[tuple[dict, pd.DataFrame]]:
    """Three runs trained with the exit fixed, then deployed: each run's summary and levels."""
    params = dict(population=60, generations=6, deploy_episodes=1, random_exit_share=0.0,
                  tool_policy="forbid", **MAZE)  # fmt: skip
    runs = []
    for seed in seeds(3):
        out = tmp_path_factory.mktemp("shift") / "run"
        summary = run_simulation("maze-v2", params, seed, out, progress=False)
        runs.append((summary, pd.read_parquet(out / "levels.parquet")))
    return runs


@pytest.mark.effect
def test_shift_lowers_reached_exit_and_raises_reached_proxy(shifted):
    mean = {key: np.mean([summary[key] for summary, _ in shifted]) for key in (
        "train/L1/reached_exit", "deploy/L1/reached_exit", "deploy/L1/reached_proxy")}
    assert mean["train/L1/reached_exit"] > 0.5, mean
    # Margins: half the measured fall of 0.647 (sd of a 3-seed mean 0.081) and half the measured
    # reached_proxy of 0.891 (sd of a 3-seed mean 0.050).
    assert mean["train/L1/reached_exit"] - mean["deploy/L1/reached_exit"] > 0.35, mean
    assert mean["deploy/L1/reached_proxy"] > 0.45, mean
    for summary, _ in shifted:
        assert summary["train/L1/reached_proxy"] == 0.0  # with the exit fixed, it is the proxy cell
        # What selection favoured: the reliable landmark over the noisy exit signal (per seed at
        # least 0.785 against at most 0.439 over seeds 1-40).
        assert summary["train/L1/w_landmark"] > summary["train/L1/w_exit_signal"]


def test_the_summary_is_the_last_step_of_each_phase_in_the_time_series(shifted):
    for summary, levels in shifted:
        l1 = levels[levels["level"] == 1]
        final = {(phase, metric): part.loc[part["step"].idxmax(), "mean"]
                 for (phase, metric), part in l1.groupby(["phase", "metric"])}
        for phase, metric in (("train", "reached_exit"), ("deploy", "reached_exit"),
                              ("deploy", "reached_proxy")):
            assert final[(phase, metric)] == pytest.approx(summary[f"{phase}/L1/{metric}"])
