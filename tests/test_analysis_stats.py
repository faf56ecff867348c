"""Statistics of the analysis on small hand-made inputs with known means and intervals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_analysis_fixtures import (
    GENERATIONS,
    HALF_WIDTH_3,
    STEPS_PER_GENERATION,
    write_run,
    write_sweep,
)

from matryoshka.analysis import competence, drift, interventions, tables
from matryoshka.analysis.io import load
from matryoshka.analysis.series import across_runs, endpoints, per_generation, time_axis
from matryoshka.analysis.stats import (
    format_ci,
    mean_ci,
    share_interval,
    summarise,
    t_quantile,
)
from matryoshka.analysis.style import OKABE_ITO, condition_styles

T_975_2 = 4.302652729911275  # Student t, 97.5% quantile, 2 degrees of freedom (from tables)
T_975_4 = 2.7764451051977987


def test_t_quantile_matches_tables() -> None:
    assert t_quantile(2) == pytest.approx(T_975_2, rel=1e-9)
    assert t_quantile(4) == pytest.approx(T_975_4, rel=1e-9)
    assert math.isnan(float(t_quantile(0)))


def test_mean_ci_of_one_two_three() -> None:
    mean, half, n = mean_ci([1.0, 2.0, 3.0])
    # sd = 1, so the half-width is t(0.975, 2) * 1 / sqrt(3) = 2.484
    assert (mean, n) == (2.0, 3)
    assert half == pytest.approx(T_975_2 / math.sqrt(3))
    assert half == pytest.approx(2.484, abs=1e-3)


def test_mean_ci_drops_nan_and_has_no_interval_for_one_value() -> None:
    mean, half, n = mean_ci([4.0, float("nan")])
    assert (mean, n) == (4.0, 1)
    assert math.isnan(half)
    assert mean_ci([])[2] == 0


def test_summarise_groups_with_hand_computed_intervals() -> None:
    frame = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 5 + ["c"],
                          "value": [1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 8.0, 10.0, 7.0]})
    out = summarise(frame, ["g"]).set_index("g")
    assert out.loc["a", "mean"] == pytest.approx(2.0)
    assert out.loc["a", "ci_high"] - 2.0 == pytest.approx(T_975_2 / math.sqrt(3))
    # b: mean 6, sd = sqrt(10), half = t(0.975, 4) * sqrt(10) / sqrt(5)
    assert out.loc["b", "mean"] == pytest.approx(6.0)
    assert out.loc["b", "ci_low"] == pytest.approx(6.0 - T_975_4 * math.sqrt(2))
    assert out.loc["c", "n"] == 1
    assert math.isnan(out.loc["c", "ci_low"])


def test_share_interval_by_hand() -> None:
    # Seeds 0.0, 0.1, 0.2: p = 0.1, sd = 0.1, v = sd**2 / 3 = 0.01 / 3, t = t(0.975, 2).
    # a = t**2 * v / (p * (1 - p)) = 18.5128 * 0.0033333 / 0.09 = 0.685660 (n_eff = 27 trials);
    # centre = (0.1 + a / 2) / (1 + a) = 0.262705; half = sqrt(t**2 v + a**2 / 4) / (1 + a)
    # = sqrt(0.0617094 + 0.117533) / 1.685660 = 0.251160.
    low, high = share_interval(0.1, 0.1, 3)
    assert (low, high) == pytest.approx((0.262705 - 0.251160, 0.262705 + 0.251160), abs=2e-6)
    # The t-interval, 0.1 -+ 0.248, would reach below 0.
    assert 0.1 - T_975_2 * 0.1 / math.sqrt(3) < 0 < low
    # Seeds 0.4, 0.5, 0.6: symmetric about 0.5, a = t**2 * v / 0.25 = 0.246838, half
    # = sqrt(0.0617094 + 0.0152323) / 1.246838 = 0.222470.
    low, high = share_interval(0.5, 0.1, 3)
    assert (low, high) == pytest.approx((0.5 - 0.222470, 0.5 + 0.222470), abs=2e-6)


def test_share_interval_edges() -> None:
    # Every seed the same: zero width, as the t-interval; one seed: no interval.
    assert share_interval(0.0, 0.0, 10) == (0.0, 0.0)
    assert share_interval(0.3, 0.0, 4) == (0.3, 0.3)
    assert all(math.isnan(v) for v in share_interval(0.5, 0.2, 1))
    # Many seeds far from the bounds: the t-interval.
    low, high = share_interval(0.5, 0.1, 1000)
    half = float(t_quantile(999)) * 0.1 / math.sqrt(1000)
    assert (low, high) == pytest.approx((0.5 - half, 0.5 + half), rel=1e-3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=12))
def test_share_interval_stays_in_the_unit_interval_and_holds_the_mean(values: list[float]) -> None:
    x = np.array(values)
    low, high = share_interval(x.mean(), x.std(ddof=1), len(x))
    assert 0.0 <= low <= x.mean() + 1e-12 and x.mean() - 1e-12 <= high <= 1.0


def test_summarise_uses_the_share_interval_only_for_shares(sweep: Path) -> None:
    frame = pd.DataFrame({"metric": ["reached_exit"] * 3 + ["base_return"] * 3,
                          "value": [0.0, 0.1, 0.2] * 2})
    out = summarise(frame, ["metric"], shares=load(sweep).share_rows).set_index("metric")
    assert out.loc["reached_exit", "ci_low"] == pytest.approx(0.011545, abs=2e-6)
    assert out.loc["base_return", "ci_low"] == pytest.approx(0.1 - T_975_2 * 0.1 / math.sqrt(3))


def test_format_ci() -> None:
    assert format_ci(0.1, 0.011545, 0.513865) == "0.1 [0.012, 0.51]"
    assert format_ci(0.5, 0.4, 0.6) == "0.5 ± 0.1"
    assert format_ci(0.5, float("nan"), float("nan")) == "0.5"
    assert format_ci(float("nan"), 0.0, 1.0) == ""


def _levels(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["step", "generation", "phase", "level", "metric",
                                       "mean", "std", "count"])


def test_per_generation_and_run_summary_on_hand_made_parquet(tmp_path: Path) -> None:
    _levels([
        (0, 0, "train", 1, "align_base_train", 0.9, 0.1, 10),
        (1, 0, "train", 1, "align_base_train", 0.7, 0.1, 10),
        (2, 1, "train", 1, "align_base_train", 0.5, 0.1, 10),
        (3, 1, "train", 1, "align_base_train", 0.3, 0.1, 10),
        (4, 1, "deploy", 1, "reached_exit", 0.25, 0.0, 10),
        (5, 1, "deploy", 1, "reached_exit", 0.75, 0.0, 10),
        (4, 1, "deploy", 1, "base_return", 0.2, 0.0, 10),
        (5, 1, "deploy", 1, "base_return", 0.6, 0.0, 10),
    ]).to_parquet(tmp_path / "levels.parquet")
    metrics = {"align_base_train": {}, "base_return": {},
               "reached_exit": {"summary": "phase_end", "share": True}}
    manifest = {"scenario": "maze-v2", "config": {"episode_steps": 2, "selection": "neutral"},
                "metrics": {name: {"doc": name, **fields} for name, fields in metrics.items()}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    data = load(tmp_path)
    series = per_generation(data.runs[0].levels, "train").set_index("generation")["value"]
    assert series.to_dict() == pytest.approx({0: 0.8, 1: 0.4})
    row = data.summary.iloc[0]
    # the last episode_steps = 2 steps of each phase; reached_exit accumulates over an episode,
    # so its value at the phase's last step is taken
    assert row["train/L1/align_base_train"] == pytest.approx(0.4)
    assert row["deploy/L1/base_return"] == pytest.approx(0.4)
    assert row["deploy/L1/reached_exit"] == pytest.approx(0.75)
    assert row["selection"] == "neutral" and data.axes == ()


def test_steady_state_runs_drift_over_steps(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", selection="steady_state")
    levels = pd.read_parquet(run / "levels.parquet")
    levels.assign(generation=0).to_parquet(run / "levels.parquet")  # generations do not advance
    data = load(run)
    assert time_axis(data) == "step"
    series = across_runs(data, "train", ["align_base_train"], "step")
    assert series["step"].nunique() == GENERATIONS * STEPS_PER_GENERATION
    assert time_axis(load(write_run(tmp_path / "generational"))) == "generation"


def test_endpoints_reports_first_last_and_change() -> None:
    table = pd.DataFrame({"metric": ["m"] * 3, "generation": [2, 0, 1],
                          "mean": [0.5, 0.9, 0.7], "ci_low": [0.4] * 3, "ci_high": [0.6] * 3})
    row = endpoints(table, ["metric"]).iloc[0]
    assert (row["first generation"], row["last generation"]) == (0, 2)
    assert row["change"] == "-0.4"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("sweep"),
                       {"tool_policy": ["free", "forbid"], "selection": ["generational",
                                                                         "neutral"]})


def test_drift_intervals_are_over_seeds(sweep: Path, tmp_path: Path) -> None:
    drift.analyse(load(sweep), tmp_path)
    table = pd.read_csv(tmp_path / "drift.csv")
    row = table[(table["selection"] == "neutral") & (table["tool_policy"] == "free")
                & (table["level"] == 2) & (table["metric"] == "align_base_train")
                & (table["generation"] == 3)].iloc[0]
    # 0.9 - 0.03 * 3 * 2 (neutral drifts twice as fast) - 0.15 for level 2, replicate offsets
    # -0.01, 0, +0.01 around it
    assert row["n"] == 3
    assert row["mean"] == pytest.approx(0.57)
    assert row["ci_high"] - row["mean"] == pytest.approx(HALF_WIDTH_3, rel=1e-6)
    assert set(table[table["tool_policy"] == "forbid"]["level"]) == {1}


def test_interventions_use_the_sweep_summary_columns(sweep: Path, tmp_path: Path) -> None:
    interventions.analyse(load(sweep), tmp_path)
    table = pd.read_csv(tmp_path / "interventions.csv")
    rows = table[(table["panel"] == "base_return_deploy") & (table["level"] == 1)]
    means = rows.set_index(["selection", "tool_policy"])["mean"]
    assert means[("generational", "free")] == pytest.approx(0.9)
    assert means[("neutral", "forbid")] == pytest.approx(0.7)
    assert (rows["ci_high"] - rows["mean"]).to_numpy() == pytest.approx(HALF_WIDTH_3, rel=1e-6)


def test_summary_table_matches_the_levels(sweep: Path, tmp_path: Path) -> None:
    tables.analyse(load(sweep), tmp_path)
    table = pd.read_csv(tmp_path / "summary.csv")
    row = table[(table["selection"] == "generational") & (table["tool_policy"] == "free")
                & (table["phase"] == "train") & (table["level"] == 3)
                & (table["metric"] == "align_base_deploy")].iloc[0]
    # last training generation 3: 0.9 - 0.09 - 0.3 - 0.4 = 0.11
    assert row["mean"] == pytest.approx(0.11)
    assert row["n"] == 3
    markdown = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "| generational | free | 3 | train | 3 |" in markdown
    assert "0.11 ± 0.025" in markdown


def test_tool_counts_on_hand_made_agents() -> None:
    agents = pd.DataFrame({"kind": ["organism"] * 4 + ["tool"] * 5,
                           "level": [1] * 4 + [2, 2, 2, 2, 3],
                           "align_parent_train": [np.nan] * 4 + [0.9, 0.2, 0.8, 0.7, 0.0],
                           "align_parent_deploy": [np.nan] * 4 + [0.1, 0.49, 0.5, np.nan, 0.0],
                           "align_base_train": [0.9] * 4 + [0.6, 0.4, 0.3, np.nan, 0.0],
                           "align_base_deploy": [0.2] * 4 + [0.5, 0.5, 0.5, 0.5, 0.0]})
    counts = competence.tool_counts(agents)
    # 4 level-2 tools for 4 organisms; of the 3 with a defined deployment alignment, 2 are below
    # 0.5; on training cells all 4 are defined and 1 is below 0.5 (the level-3 tool is left out);
    # against the base objective 2 of 3 on training cells, none of 4 on deployment cells
    assert counts["tools_per_organism"] == pytest.approx(1.0)
    assert counts["share_misaligned"] == pytest.approx(2 / 3)
    assert counts["share_misaligned_train"] == pytest.approx(1 / 4)
    assert counts["share_misaligned_base_train"] == pytest.approx(2 / 3)
    assert counts["share_misaligned_base"] == 0.0


def test_competence_cells_average_their_runs(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "grid", {"power": [0.3, 0.9], "wisdom": [0.2, 0.8]},
                        replicates=2, failed=0)
    competence.analyse(load(sweep), tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "competence.csv")
    data = load(sweep)
    expected = []
    for run in data.runs:
        config = run.manifest["config"]
        if config["power"] == 0.9 and config["wisdom"] == 0.2:
            expected.append(competence.tool_counts(run.agents(["kind", "level",
                                                              *competence.SHARES.values()])))
    row = table[(table["measure"] == "share_misaligned") & (table["power"] == 0.9)
                & (table["wisdom"] == 0.2)].iloc[0]
    assert row["n"] == 2
    assert row["mean"] == pytest.approx(np.mean([e["share_misaligned"] for e in expected]))
    # low wisdom builds more misaligned tools than high wisdom in the fixture
    low = table[(table["measure"] == "share_misaligned") & (table["wisdom"] == 0.2)]["mean"]
    high = table[(table["measure"] == "share_misaligned") & (table["wisdom"] == 0.8)]["mean"]
    assert low.min() > high.max()


def test_condition_styles_keep_colours_and_dot_the_neutral_baseline() -> None:
    declared = {"forbid": "#123456"}  # the colour a run's manifest declares for its policy
    styles = condition_styles([{"selection": "generational", "tool_policy": "forbid"},
                               {"selection": "neutral", "tool_policy": "forbid"},
                               {"selection": "neutral"}], colours=declared)
    assert styles[0]["color"] == styles[1]["color"] == "#123456"
    assert [s["linestyle"] for s in styles] == ["-", ":", ":"]
    assert styles[2]["color"] == OKABE_ITO["black"]
    assert styles[1]["label"] == "selection=neutral, tool_policy=forbid"
