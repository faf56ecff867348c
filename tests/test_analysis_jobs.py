"""`matryoshka analyze --jobs N`: the same folder and lines on several processes, failures as on one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_analysis_fixtures import write_run, write_sweep

from matryoshka.analysis import wants
from matryoshka.analysis.cli import main
from matryoshka.analysis.command import MAX_JOBS, jobs_allowed, worker_pool
from matryoshka.analysis.entry import run_analyses
from matryoshka.analysis.io import InputError, load
from matryoshka.runs.cli import main as matryoshka

#: Well-formed GraphML, so that loading passes, that networkx cannot read (data under an undeclared key)
UNREADABLE = '<graphml><graph><node id="1"><data key="d9">x</data></node></graph></graphml>'


def _folder(root: Path) -> dict[str, bytes]:
    """Every file of a folder, as bytes (SVG element ids included: they are hashed without chance)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_several_processes_write_the_same_folder_and_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = write_sweep(tmp_path / "sweep", {"tool_policy": ["free", "forbid"],
                                             "selection": ["generational", "neutral"]}, replicates=1)
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        assert main([str(sweep), "--out", str(out), "--jobs", jobs]) == 0
        outputs[jobs] = (_folder(out), capsys.readouterr().out.replace(str(out), "OUT"))
    (serial, serial_lines), (parallel, parallel_lines) = outputs["1"], outputs["2"]
    assert {"drift.png", "interventions.svg", "lineage.csv", "occupancy.png", "summary.md",
            "report.html"} <= set(serial)
    assert list(parallel) == list(serial)
    assert [name for name in serial if parallel[name] != serial[name]] == []
    assert parallel_lines == serial_lines
    assert serial_lines.splitlines()[-1] == "report: OUT/report.html"


def _one_error(code: int, capsys: pytest.CaptureFixture[str]) -> str:
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_a_failure_on_a_worker_is_one_error_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run")
    (run / "lineage.graphml").write_text(UNREADABLE, encoding="utf-8")  # read on a worker
    message = _one_error(main([str(run), "--jobs", "2"]), capsys)
    assert "lineage.graphml: not readable GraphML" in message
    assert sorted(p.name for p in run.iterdir() if p.is_dir() or p.name.startswith(".")) == []


def test_the_first_failure_in_report_order_is_the_one_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # wants (third, in this process) and lineage (eighth, on a worker) both fail; wants fails late,
    # so that lineage has likely failed first: as on one process, wants' failure is reported
    run = write_run(tmp_path / "run")
    (run / "lineage.graphml").write_text(UNREADABLE, encoding="utf-8")

    def broken(data: object, out: Path) -> None:
        (out / "half.png").write_bytes(b"")
        time.sleep(1.0)
        raise InputError("levels.parquet: the wants cannot be drawn")

    monkeypatch.setattr(wants, "analyse", broken)
    for jobs in ("1", "2"):
        assert "the wants cannot be drawn" in _one_error(main([str(run), "--jobs", jobs]), capsys)
        assert not (run / "figures").exists()


def fails_on_a_worker(data: object, out: Path) -> None:
    """An analysis that fails (module-level, so that a worker process can import it)."""
    raise InputError("the first analysis fails")


def test_a_failure_on_a_worker_comes_before_a_later_one_here(tmp_path: Path) -> None:
    # the second analysis fails here at once, while the worker is still starting: the first one's
    # failure, which comes later but first in order, is the one reported
    def fails_here(data: object, out: Path) -> None:
        raise InputError("the second analysis fails")

    data = load(write_run(tmp_path / "run"))
    with worker_pool(1) as workers, pytest.raises(InputError, match="the first analysis fails"):
        run_analyses(data, tmp_path / "out", [("first", fails_on_a_worker), ("second", fails_here)],
                     workers=workers, here={"second"})


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_jobs_that_are_not_a_number_of_processes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    run = write_run(tmp_path / "run")
    expected = f"error: --jobs {value} is not allowed: expected a whole number of processes >= 1"
    for entry in (lambda: main([str(run), "--jobs", value]),
                  lambda: matryoshka(["analyze", str(run), "--jobs", value])):
        assert _one_error(entry(), capsys).startswith(expected)
    assert not (run / "figures").exists()


def test_jobs_default_to_the_usable_cores_at_most_max_jobs() -> None:
    assert jobs_allowed("3") == 3
    assert 1 <= jobs_allowed(None) <= MAX_JOBS
