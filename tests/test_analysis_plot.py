"""`matryoshka plot`: any summary metric against any sweep axis, and its errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_analysis_fixtures import HALF_WIDTH_3, write_sweep

from matryoshka.runs.cli import main


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("grid"), {
        "wisdom": [0.2, 0.8], "tool_policy": ["free", "forbid"], "power": [0.2, 0.5, 0.8]})


def test_metric_by_an_axis_with_lines_per_hue_and_panels_per_other_axis(
        grid: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fig.png"
    assert main(["plot", str(grid), "--metric", "deploy/L2/align_parent_deploy", "--by", "wisdom",
                 "--hue", "tool_policy", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(out.with_suffix(".csv"))
    # Level 2 exists only with tools; one row per power x wisdom with tool_policy=free, 3 seeds.
    assert len(table) == 6 and set(table["tool_policy"]) == {"free"} and (table["n"] == 3).all()
    row = table[(table["power"] == 0.5) & (table["wisdom"] == 0.2)].iloc[0]
    # The fixture: 0.9 - 0.2 * (level - 1) - 0.3 * (1 - wisdom) = 0.46, seeds at -0.01, 0, +0.01.
    assert row["mean"] == pytest.approx(0.46)
    assert row["ci_high"] - row["mean"] == pytest.approx(HALF_WIDTH_3, rel=1e-6)
    assert f"wrote {out}" in capsys.readouterr().out


def test_a_share_gets_an_interval_inside_zero_one(grid: Path, tmp_path: Path) -> None:
    out = tmp_path / "exit.svg"
    assert main(["plot", str(grid), "--metric", "train/L1/reached_exit", "--by", "power",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out.with_suffix(".csv"))
    # Seeds 0.94, 0.95, 0.96: a = t**2 (0.01**2 / 3) / (0.95 * 0.05) = 0.0129915, centre
    # (0.95 + a / 2) / (1 + a) = 0.944229, half sqrt(t**2 v + a**2 / 4) / (1 + a) = 0.025347;
    # the t-interval would be 0.95 -+ 0.0248, symmetric.
    assert table["mean"].to_numpy() == pytest.approx(0.95)
    assert table["ci_low"].to_numpy() == pytest.approx(0.944229 - 0.025347, abs=2e-6)
    assert table["ci_high"].to_numpy() == pytest.approx(0.944229 + 0.025347, abs=2e-6)
    assert ((table["ci_low"] >= 0) & (table["ci_high"] <= 1)).all()
    assert len(table) == 12  # power x wisdom x tool_policy: nothing pooled
    first = out.read_bytes()
    assert b"<svg" in first[:2000]
    assert main(["plot", str(grid), "--metric", "train/L1/reached_exit", "--by", "power",
                 "--out", str(out)]) == 0
    assert out.read_bytes() == first  # no date, no random element ids: the same figure, the same bytes


def test_panels_that_do_not_fit_go_to_further_figures(grid: Path, tmp_path: Path) -> None:
    # By power alone: wisdom x tool_policy = 4 panels fit; by tool_policy, 6 fit too. Force a
    # split with a sweep of 8 panels.
    sweep = write_sweep(tmp_path / "many", {"wisdom": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
                                            "power": [0.2, 0.8]}, replicates=2, failed=0)
    out = tmp_path / "split.png"
    assert main(["plot", str(sweep), "--metric", "train/L1/base_return", "--by", "power",
                 "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.glob("split*")) == [
        "split-1.png", "split-2.png", "split.csv"]


@pytest.mark.parametrize(("args", "message"), [
    (["--metric", "deploy/L2/align_parent_deplo", "--by", "wisdom"],
     "error: --metric 'deploy/L2/align_parent_deplo' is not a summary metric of {grid} (expected "
     "<phase>/L<level>/<metric>); closest: deploy/L2/align_parent_deploy"),
    (["--metric", "deploy/L1/reached_exit", "--by", "wisdm"],
     "error: --by 'wisdm' is not an axis of {grid}; the axes are the parameters that vary across "
     "its runs; closest: wisdom"),
    (["--metric", "deploy/L1/reached_exit", "--by", "wisdom", "--hue", "selection"],
     "error: --hue 'selection' is not an axis of {grid}: it is 'generational' in every run; the "
     "axes are the parameters that vary across its runs; axes: tool_policy, power, wisdom"),
    (["--metric", "deploy/L1/reached_exit", "--by", "wisdom", "--hue", "wisdom"],
     "error: --hue 'wisdom' is the --by axis: choose another axis for the lines"),
    (["--metric", "deploy/L1/reached_exit", "--by", "wisdom", "--out", "{tmp}/f.pdf"],
     "error: --out '{tmp}/f.pdf' is not allowed: expected a .png or .svg file"),
])
def test_bad_input_is_one_error_line_exit_2_and_nothing_written(
        grid: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
        message: str) -> None:
    args = [a.format(tmp=tmp_path) for a in args]
    out = ["--out", str(tmp_path / "f.png")] if "--out" not in args else []
    assert main(["plot", str(grid), *args, *out]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()]
    assert err.startswith(message.format(grid=grid, tmp=tmp_path)), err
    assert not list(tmp_path.iterdir())
