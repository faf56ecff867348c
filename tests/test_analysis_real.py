"""Figures from a tiny real run and a tiny real sweep of the simulator (maze-v2)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from matryoshka.analysis import competence, drift, interventions, tables
from matryoshka.analysis.cli import main
from matryoshka.analysis.entry import run_analyses
from matryoshka.analysis.io import load
from matryoshka.analysis.report import write_report

pytest.importorskip("matryoshka.runs.cli", reason="the simulator's command line is not installed")

ROOT = Path(__file__).resolve().parents[1]
TINY = ("--set", "generations=2", "--set", "population=20", "--set", "episode_steps=10")
EXPERIMENT = """
name = "tiny"
scenario = "maze-v2"
[params]
generations = 2
population = 20
episode_steps = 10
[sweep]
tool_policy = ["free", "forbid"]
selection = ["generational", "neutral"]
[seeds]
count = 2
"""


def matryoshka(*args: str) -> None:
    """Run the simulator's command line; fail the test with its output if it fails."""
    result = subprocess.run([sys.executable, "-m", "matryoshka.runs", *args], cwd=ROOT, capture_output=True,
                            text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def check_report(out: Path, expected: tuple[str, ...]) -> None:
    """Every expected figure exists and is non-empty; the report links only existing files."""
    for name in expected:
        for suffix in (".png", ".svg", ".csv"):
            assert (out / f"{name}{suffix}").stat().st_size > 0, name + suffix
    report = out / "report.html"
    links = re.findall(r'(?:src|href)="([^"#][^"]*)"', report.read_text(encoding="utf-8"))
    assert {f"{name}.png" for name in expected} <= set(links)
    assert all((out / link).is_file() for link in links)


def test_figures_from_a_tiny_real_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    matryoshka("run", "--scenario", "maze-v2", "--seed", "1", "--out", str(run), "--quiet", *TINY)
    capsys.readouterr()
    assert main([str(run)]) == 0
    printed = capsys.readouterr().out
    check_report(run / "figures", ("drift", "wants", "lineage", "occupancy"))
    assert f"report: {run / 'figures' / 'report.html'}" in printed
    summary = pd.read_csv(run / "figures" / "summary.csv")
    assert {"train", "deploy"} <= set(summary["phase"])
    assert summary.loc[(summary["metric"] == "population") & (summary["level"] == 1)
                       & (summary["phase"] == "train"), "mean"].item() == pytest.approx(20)


@pytest.mark.slow
def test_figures_from_a_tiny_real_sweep(tmp_path: Path) -> None:
    experiment = tmp_path / "tiny.toml"
    experiment.write_text(EXPERIMENT, encoding="utf-8")
    sweep = tmp_path / "sweep"
    matryoshka("sweep", str(experiment), "--out", str(sweep), "--workers", "2", "--quiet")
    # The figures of a lone run are checked above: here, the ones that compare conditions.
    data = load(sweep)
    assert data.axes == ("tool_policy", "selection") and len(data.runs) == 8
    out = sweep / "figures"
    sections, skipped = run_analyses(data, out, [(m.NAME, m.analyse) for m in (
        drift, interventions, competence, tables)])
    write_report(data, out, sections, skipped)
    check_report(out, ("drift", "interventions"))
    assert [s.name for s in skipped] == ["competence"]
    drift_table = pd.read_csv(out / "drift.csv")
    assert set(drift_table["selection"]) == {"generational", "neutral"}
    assert drift_table.loc[drift_table["level"] == 1, "n"].max() == 2  # two seeds each
