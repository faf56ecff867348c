"""Resume: a sweep killed with SIGKILL part-way and run again ends with every run complete once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

EXPERIMENT = """
name = "killed"
[params]
population = 20
generations = 2
episode_steps = 10
deploy_episodes = 1
[sweep]
tool_policy = ["free", "forbid"]
[seeds]
count = 4
"""
RUN_IDS = [f"r{i:04d}" for i in range(8)]


def complete(out: Path) -> set[str]:
    """Complete run directories (pathlib's glob also matches the hidden .tmp ones: skip those)."""
    runs = (out / "runs").glob("*/manifest.json") if out.exists() else []
    return {p.parent.name for p in runs if not p.parent.name.startswith(".")}


def sweep_command(exp: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "runs", "sweep", str(exp), "--out", str(out), "--workers", "2", "--quiet"]


def test_a_killed_sweep_resumes_without_duplicates(tmp_path):
    exp = tmp_path / "killed.toml"
    exp.write_text(EXPERIMENT)
    out = tmp_path / "out"
    # its own session, so that SIGKILL reaches the sweep, the forkserver and the workers at once
    sweep = subprocess.Popen(sweep_command(exp, out), start_new_session=True, cwd=Path(__file__).parents[1],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while not complete(out) and sweep.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(sweep.pid, signal.SIGKILL)
    sweep.wait(timeout=10)
    before = complete(out)
    assert sweep.returncode == -signal.SIGKILL, sweep.stderr.read().decode()
    assert 0 < len(before) < len(RUN_IDS), "the sweep should have been killed part-way"
    assert not (out / "sweep.parquet").exists()
    mtimes = {r: (out / "runs" / r / "agents.parquet").stat().st_mtime_ns for r in before}

    again = subprocess.run(sweep_command(exp, out), cwd=Path(__file__).parents[1], capture_output=True,
                           text=True, timeout=120)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert f"8 of 8 runs complete ({len(before)} from an earlier sweep)" in again.stdout

    assert sorted(p.name for p in (out / "runs").iterdir()) == RUN_IDS  # no leftovers, no extras
    assert not [p for p in out.rglob("*") if p.name.endswith((".tmp", ".old"))]
    for run_id, mtime in mtimes.items():  # the runs done before the kill were not run again
        assert (out / "runs" / run_id / "agents.parquet").stat().st_mtime_ns == mtime
    table = pd.read_parquet(out / "sweep.parquet")
    assert list(table["run_id"]) == RUN_IDS
    assert set(table["status"]) == {"complete"}
    for run_id in RUN_IDS:
        for name in ("levels", "agents", "occupancy"):
            assert len(pd.read_parquet(out / "runs" / run_id / f"{name}.parquet")) > 0
