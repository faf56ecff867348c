"""Missing or malformed input: one clear message naming the file and column, exit code 2."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_analysis_fixtures import write_run, write_sweep

from matryoshka.analysis.cli import main
from matryoshka.analysis.io import InputError, load


def failed(directory: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Run the command line, expect exit code 2, and return the error message."""
    assert main([str(directory)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    return lines[0]


def test_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = failed(tmp_path / "nope", capsys)
    assert "not a directory" in message and "manifest.json" in message


def test_directory_that_is_neither_run_nor_sweep(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    message = failed(tmp_path, capsys)
    assert "neither manifest.json nor sweep.parquet" in message


def test_levels_missing_a_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run")
    levels = pd.read_parquet(run / "levels.parquet").drop(columns=["generation"])
    levels.to_parquet(run / "levels.parquet")
    message = failed(run, capsys)
    assert "levels.parquet" in message and "missing column(s) generation" in message
    assert not (run / "figures").exists()


def test_agents_missing_a_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run")
    agents = pd.read_parquet(run / "agents.parquet").drop(columns=["align_parent_deploy"])
    agents.to_parquet(run / "agents.parquet")
    message = failed(run, capsys)
    assert "agents.parquet" in message and "align_parent_deploy" in message


def test_levels_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run")
    (run / "levels.parquet").unlink()
    message = failed(run, capsys)
    assert "levels.parquet: missing" in message


def test_parquet_that_is_not_parquet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run")
    (run / "occupancy.parquet").write_text("x,y\n1,2\n", encoding="utf-8")
    message = failed(run, capsys)
    assert "occupancy.parquet: not a readable Parquet file" in message


@pytest.mark.parametrize("manifest, expected", [
    ("{not json", "not valid JSON"),
    (json.dumps({"config": {}}), "key 'scenario' is missing"),
    (json.dumps({"scenario": "maze-v2", "config": [1]}), "key 'config' is missing or not a dict"),
])
def test_malformed_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str], manifest: str,
                            expected: str) -> None:
    run = write_run(tmp_path / "run")
    (run / "manifest.json").write_text(manifest, encoding="utf-8")
    message = failed(run, capsys)
    assert "manifest.json" in message and expected in message


def test_malformed_lineage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run")
    (run / "lineage.graphml").write_text("<graphml><oops", encoding="utf-8")
    message = failed(run, capsys)
    assert "lineage.graphml: not readable GraphML" in message


@pytest.mark.parametrize("damage, expected", [
    (lambda text: text[: text.index("<node") + 3], "not readable GraphML (unclosed token"),  # cut in a tag
    (lambda text: "", "not readable GraphML (no element found"),
    (lambda text: "<html><body/></html>", "its root element is 'html', not 'graphml'"),
])
def test_a_damaged_lineage_is_found_before_any_analysis_runs(tmp_path: Path, damage, expected: str) -> None:
    run = write_run(tmp_path / "run")
    file = run / "lineage.graphml"
    file.write_text(damage(file.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError, match="lineage.graphml: ") as caught:
        load(run)  # what `analyze` does before any analysis
    assert expected in str(caught.value)


def test_sweep_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = write_sweep(tmp_path / "sweep", {"tool_policy": ["free", "forbid"]}, replicates=1)
    table = pd.read_parquet(sweep / "sweep.parquet")
    table.drop(columns=["status"]).to_parquet(sweep / "sweep.parquet")
    assert "sweep.parquet: missing column(s) status" in failed(sweep, capsys)

    table.assign(status="failed").to_parquet(sweep / "sweep.parquet")
    assert "no run has status 'complete' or 'extinct' (statuses: failed)" in failed(sweep, capsys)

    table.to_parquet(sweep / "sweep.parquet")
    (sweep / "runs" / "run-001" / "manifest.json").unlink()
    message = failed(sweep, capsys)
    assert "run-001" in message and "manifest.json: missing" in message

    for item in (sweep / "runs" / "run-001").iterdir():
        item.unlink()
    (sweep / "runs" / "run-001").rmdir()
    message = failed(sweep, capsys)
    assert "sweep.parquet lists run 'run-001' as complete" in message


def test_module_entry_point_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["analysis", str(tmp_path / "nope")])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module("matryoshka.analysis", run_name="__main__", alter_sys=True)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def corrupt_data_pages(file: Path) -> None:
    """Flip bytes between the header and the footer: the schema still reads, the data does not."""
    data = bytearray(file.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")
    for i in range(8, len(data) - footer - 8, 7):
        data[i] ^= 0xFF
    file.write_bytes(bytes(data))


def set_world(key: str, value: object):
    def change(run: Path) -> None:
        manifest = json.loads((run / "manifest.json").read_text())
        manifest["world"][key] = value
        (run / "manifest.json").write_text(json.dumps(manifest))
    return change


def levels_with(change):
    def write(run: Path) -> None:
        change(pd.read_parquet(run / "levels.parquet")).to_parquet(run / "levels.parquet")
    return write


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda run: corrupt_data_pages(run / "levels.parquet"), "levels.parquet: not a readable Parquet file"),
    (lambda run: corrupt_data_pages(run / "occupancy.parquet"),
     "occupancy.parquet: not a readable Parquet file"),
    (lambda run: corrupt_data_pages(run / "agents.parquet"), "agents.parquet: not a readable Parquet file"),
    (levels_with(lambda frame: frame.head(0)), "levels.parquet: no rows"),
    (levels_with(lambda frame: frame.assign(mean="high")), "levels.parquet: column 'mean' holds"),
    (levels_with(lambda frame: frame.assign(step=frame["step"].astype(float))), "column 'step' holds double"),
    (set_world("walls", [["a", None], 5]), "manifest.json: world walls hold ['a', None]; expected [x, y]"),
    (set_world("walls", [[99, 0]]), "manifest.json: world walls hold [99, 0]"),
    (set_world("exit_train", "north"), "manifest.json: world exit_train is 'north'"),
    (set_world("width", 0), "manifest.json: world needs positive integer width"),
])  # fmt: skip
def test_damaged_files_stop_before_anything_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      damage, expected) -> None:  # fmt: skip
    run = write_run(tmp_path / "run")
    damage(run)
    message = failed(run, capsys)
    assert expected in message, message
    assert [p.name for p in run.iterdir() if "figures" in p.name] == []  # no half report, no leftover


def test_occupancy_outside_the_world(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run")
    visits = pd.read_parquet(run / "occupancy.parquet")
    visits.loc[0, "x"] = 500
    visits.to_parquet(run / "occupancy.parquet")
    assert "occupancy.parquet: a visit to cell (500," in failed(run, capsys)


@pytest.mark.parametrize("out", ["file/figures", "/sys/matryoshka-figures", "/proc/matryoshka/figures"])
def test_an_out_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str) -> None:
    run = write_run(tmp_path / "run")
    (tmp_path / "file").write_text("x")
    target = tmp_path / out
    assert main([str(run), "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {target}: cannot be written"), err


def test_a_failing_analysis_leaves_the_earlier_report_in_place(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from matryoshka.analysis import drift

    run = write_run(tmp_path / "run")
    assert main([str(run)]) == 0
    before = sorted(p.name for p in (run / "figures").iterdir())

    def broken(data, out):
        (out / "half.png").write_bytes(b"")
        raise RuntimeError("disk full")

    monkeypatch.setattr(drift, "analyse", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        main([str(run)])
    assert sorted(p.name for p in (run / "figures").iterdir()) == before
    assert [p.name for p in run.iterdir() if p.name.startswith(".")] == []
    monkeypatch.undo()
    capsys.readouterr()
    assert main([str(run)]) == 0  # a new report replaces the old one
    assert f"report: {run / 'figures' / 'report.html'}" in capsys.readouterr().out


def test_a_procedurally_generated_maze_is_analysed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # its world holds more than marked cells (each episode's layout), which the checks leave alone
    from matryoshka.runs.single import run_simulation

    params = {"population": 8, "generations": 2, "episode_steps": 4, "deploy_episodes": 1}
    run_simulation("maze-procgen-v1", params, 0, tmp_path / "run", progress=False)
    assert main([str(tmp_path / "run")]) == 0, capsys.readouterr().err


def test_every_text_in_the_report_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # a lone run's directory name is shown on the page: as text, never as markup
    hostile = '<img src=x onerror=alert(1)>'
    run = write_run(tmp_path / hostile)
    assert main([str(run), "--out", str(tmp_path / "figures")]) == 0, capsys.readouterr().err
    page = (tmp_path / "figures" / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
