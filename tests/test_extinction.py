"""Extinction is a result: the run says so, its summary ends at population 0, sweeps and analysis keep it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from matryoshka.analysis.io import load
from matryoshka.runs.cli import main
from matryoshka.runs.sweep import run_sweep

# Every organism starts with 6 energy and spends metabolism 5 (+ 0.05 x power) a step: after one
# step it has about 1 left (plus a reward below 1), after two it has none, and breeding needs 12.
# So the last organism dies in step 2, before the shift at step 5, by hand.
STARVING = {"selection": "steady_state", "metabolism": 5, "total_steps": 10, "shift_at": 5, "population": 20}


def test_a_run_whose_population_dies_out_says_so(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["run", "--scenario", "evolution-v1", "--out", str(out), "--quiet"]
    assert main([*args, *(f"--set={k}={v}" for k, v in STARVING.items())]) == 0
    printed = capsys.readouterr().out
    assert ("extinct: the population died out at step 2 of 10, in training; the deployment phase never "
            "came; its population counts as 0 from then on") in printed  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["status"], manifest["extinct_at"], manifest["extinct_phase"]) == ("extinct", 2, "train")
    assert manifest["steps"] == 2
    assert manifest["summary"]["train/L1/population"] == 0
    assert manifest["summary"]["deploy/L1/population"] == 0
    assert not any(k.startswith("deploy/") and not k.endswith("/population") for k in manifest["summary"])
    agents = pd.read_parquet(out / "agents.parquet")
    assert agents["death_step"].max() == 2 and agents["death_step"].notna().all()
    data = load(out)  # the analysis keeps it, and says so
    assert data.summary.loc[0, "deploy/L1/population"] == 0
    assert any("the population died out (run at step 2)" in note for note in data.notes)


def test_a_run_that_lives_on_is_complete(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--scenario", "evolution-v1", "--out", str(out), "--quiet", "--set", "total_steps=10",
                 "--set", "shift_at=5"]) == 0  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["status"], manifest["extinct_at"], manifest["steps"]) == ("complete", None, 10)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("extinction")
    exp = root / "starve.toml"
    params = "\n".join(f"{k} = {json.dumps(v)}" for k, v in STARVING.items() if k != "metabolism")
    exp.write_text(f'scenario = "evolution-v1"\n[params]\n{params}\n[sweep]\nmetabolism = [0.05, 5]\n'
                   "[seeds]\ncount = 2\n")  # fmt: skip
    run_sweep(exp, root / "out", workers=1, progress=False)
    return root / "out"


def test_a_sweep_keeps_extinct_runs_in_its_table(sweep):
    table = pd.read_parquet(sweep / "sweep.parquet").set_index("run_id")
    assert list(table["status"]) == ["complete", "complete", "extinct", "extinct"]
    assert table["extinct_at"].isna().sum() == 2 and set(table["extinct_at"].dropna()) == {2}
    assert (table.loc[["r0002", "r0003"], "deploy/L1/population"] == 0).all()
    assert (table.loc[["r0000", "r0001"], "deploy/L1/population"] > 0).all()


def test_the_analysis_counts_extinct_runs_instead_of_dropping_them(sweep):
    data = load(sweep)
    assert len(data.runs) == 4
    starved = data.summary[data.summary["metabolism"] == 5]
    assert list(starved["deploy/L1/population"]) == [0, 0]  # a mean over seeds counts them as 0
    assert any("2 of 4 runs went extinct (r0002 at step 2, r0003 at step 2)" in note for note in data.notes)


def test_the_sweep_prints_which_runs_went_extinct(sweep, capsys):
    assert main(["sweep", str(sweep / "experiment.toml"), "--out", str(sweep), "--quiet"]) == 0
    assert "2 of 4 runs went extinct (r0002, r0003): their population counts as 0" in capsys.readouterr().out
