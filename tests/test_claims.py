"""Claims as experiments: declarations, the verdict by hand, claims.md, and (slow) every claim."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from test_analysis_fixtures import HALF_WIDTH_3, write_sweep

from matryoshka.analysis import competence
from matryoshka.analysis.claim import Claim, Gap, Measure, judge
from matryoshka.analysis.io import load
from matryoshka.model.params import ConfigError
from matryoshka.runs.claims import (
    DEFAULT_SEEDS,
    claims,
    plan,
    run_claims,
    source_text,
    write_claims,
)
from matryoshka.runs.cli import main

FREE, FORBID = {"tool_policy": "free"}, {"tool_policy": "forbid"}


def test_every_claim_reads_conditions_of_its_experiment_and_only_those_run() -> None:
    experiments = plan(claims(), DEFAULT_SEEDS)
    assert {c.name for c in claims()} and len({c.name for c in claims()}) == len(claims())
    for exp in experiments.values():
        assert exp.replicates == tuple(range(DEFAULT_SEEDS))
    # The default experiment's 3 x 2 grid shrinks to the two conditions the claims compare.
    assert experiments["default"].sweep == {"tool_policy": ["free"],
                                            "selection": ["generational", "neutral"]}


@pytest.mark.parametrize(("where", "message"), [
    ({"tool_policy": "free"}, "must name a value for each axis of experiment 'default' and "
                              "nothing else (axes: selection, tool_policy)"),
    ({"tool_policy": "free", "selection": "neutral", "wisdom": 0.2}, "must name a value for each"),
    ({"tool_policy": "free", "selection": "steady_state"}, "is not a condition of experiment"),
])
def test_a_measure_must_name_one_condition_of_its_experiment(where: dict, message: str) -> None:
    claim = Claim("bad", "", "default", Measure("train/L1/base_return", where), 0.0)
    with pytest.raises(ConfigError, match=re.escape(message)):
        plan([claim], 10)


@pytest.mark.parametrize(("args", "message"), [
    (["--seeds", "1"], "error: --seeds 1 is not allowed: expected an integer >= 2 (an interval over "
                       "seeds needs two; claims.md wants 10)"),
    (["--workers", "0"], "error: --workers 0 is not allowed: expected an integer >= 1"),
    (["--runs", "{tmp}/used"], "error: --runs '{tmp}/used' exists and is not an empty directory"),
])
def test_bad_input_is_one_error_line_and_nothing_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "old-run").mkdir()
    args = [a.format(tmp=tmp_path) for a in args]
    assert main(["claims", *args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(tmp=tmp_path)) and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["used"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("claims"), {"tool_policy": ["free", "forbid"]},
                       failed=0)


def test_verdicts_by_hand(sweep: Path) -> None:
    data = load(sweep)
    # The fixture's base return is 1.0 - 0.1 * level with tools, 0.8 - 0.1 * level without, plus
    # 0.01 * (replicate - 1) in both: the paired difference is 0.2 in every seed.
    free, forbid = (Measure("train/L1/base_return", w) for w in (FREE, FORBID))
    verdict = judge(Claim("tools", "", "x", free, forbid), data)
    assert verdict.difference.mean == pytest.approx(0.2) and verdict.difference.n == 3
    assert verdict.difference.high - verdict.difference.low == pytest.approx(0.0, abs=1e-12)
    assert verdict.holds
    assert not judge(Claim("reverse", "", "x", forbid, free), data).holds
    # Against a constant: seeds 0.89, 0.90, 0.91 minus 0.85, the t-interval of 3 seeds.
    verdict = judge(Claim("constant", "", "x", free, 0.85), data)
    assert verdict.difference.mean == pytest.approx(0.05)
    assert verdict.difference.high - 0.05 == pytest.approx(HALF_WIDTH_3, rel=1e-6)
    assert verdict.holds and verdict.sides[1] is None
    assert not judge(Claim("too high", "", "x", free, 0.89), data).holds  # 0.01 -+ 0.025
    # A share's own interval is the score interval (seeds 0.94, 0.95, 0.96; see the plot test).
    exit_ = judge(Claim("exit", "", "x", Measure("train/L1/reached_exit", FREE), 0.5), data)
    assert (exit_.sides[0].low, exit_.sides[0].high) == pytest.approx(
        (0.944229 - 0.025347, 0.944229 + 0.025347), abs=2e-6)


def test_gaps_first_episodes_and_measures_of_agents(sweep: Path) -> None:
    data = load(sweep)
    # w_landmark is 0.3 + 0.05 * generation: 0.45 in the last training episode, 0.3 in the first.
    rise = Gap(Measure("train/L1/w_landmark", FREE), Measure("train/L1/w_landmark", FREE, first=True))
    verdict = judge(Claim("rise", "", "x", rise, 0.0), data)
    assert verdict.difference.mean == pytest.approx(0.15) and verdict.holds
    shares = judge(Claim("agents", "", "x", Measure("share_misaligned", FREE), 0.0), data)
    expected = [competence.run_measures(run)["share_misaligned"] for run in data.runs
                if run.manifest["config"]["tool_policy"] == "free"]
    assert shares.larger.to_numpy() == pytest.approx(expected)


def test_claims_markdown_lists_every_verdict_with_its_figure(sweep: Path, tmp_path: Path) -> None:
    data = load(sweep)
    free, forbid = (Measure("train/L1/base_return", w) for w in (FREE, FORBID))
    verdicts = [judge(Claim("tools-pay", "Tools pay.", "default", free, forbid), data),
                judge(Claim("tools-cost", "Tools cost.", "default", forbid, free), data)]
    markdown = write_claims(verdicts, tmp_path, "matryoshka claims --seeds 3", source_text())
    text = markdown.read_text(encoding="utf-8")
    assert "1 of 2 claims hold." in text
    assert ("| [tools-pay](#tools-pay) | 0.90 [0.88, 0.92] | 0.70 [0.68, 0.72] | 0.20 [0.20, 0.20] "
            "| 3 | yes | [figure](claims/tools-pay.png) |") in text
    assert "| 3 | **no** | [figure](claims/tools-cost.png) |" in text
    assert "## tools-cost" in text and "does not hold" in text
    assert (tmp_path / "claims" / "tools-pay.png").read_bytes()[:4] == b"\x89PNG"
    assert "commit `" in text or "not a git checkout" in text


@pytest.mark.slow
def test_claims_md_is_what_this_code_finds(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The claims tier: the same experiments as `make claims` reproduce claims.md's every verdict.

    Each claim's verdict line (both sides and the difference, with their intervals, and whether it
    holds) must be the one claims.md shows: a change to the code that changes a result fails here
    until claims.md (and the README, which copies it) is written again. Whether a claim holds is
    what the experiment found; this test asserts only that claims.md is that finding.
    """
    verdicts = run_claims(claims(), DEFAULT_SEEDS, tmp_path_factory.mktemp("claims") / "runs",
                          progress=False)
    out = tmp_path_factory.mktemp("written")
    written = write_claims(verdicts, out, "matryoshka claims", "").read_text(encoding="utf-8")
    committed = (Path(__file__).parents[1] / "analysis" / "claims.md").read_text(encoding="utf-8")

    def verdict_lines(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("Larger ")]

    assert verdict_lines(written) == verdict_lines(committed)
    assert all(v.difference.n == DEFAULT_SEEDS for v in verdicts)
    assert all(np.isfinite(v.difference.low) for v in verdicts)
