"""Sweeps: identical runs on every backend, failed runs, resume, and refusing a wrong directory."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from matryoshka.model.params import ConfigError
from matryoshka.model.scenarios.maze import Maze
from matryoshka.runs.backends import LocalProcesses, cores
from matryoshka.runs.cli import main
from matryoshka.runs.store import SweepDir
from matryoshka.runs.sweep import run_sweep

TINY = """
name = "tiny"
scenario = "maze-v2"
[params]
population = 20
generations = 2
episode_steps = 10
deploy_episodes = 1
[sweep]
{axis}
[seeds]
count = {count}
root = 11
"""
TABLES = ("levels", "agents", "occupancy")


def write_experiment(tmp_path: Path, axis: str = 'tool_policy = ["free", "forbid"]', count: int = 2) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(axis=axis, count=count))
    return path


def run_outputs(run: Path) -> dict:
    manifest = json.loads((run / "manifest.json").read_text())
    del manifest["started"], manifest["finished"]
    return {"manifest": manifest, **{t: pd.read_parquet(run / f"{t}.parquet") for t in TABLES}}


def assert_same_runs(a: Path, b: Path) -> None:
    names = sorted(p.name for p in (a / "runs").iterdir())
    assert names == sorted(p.name for p in (b / "runs").iterdir())
    for name in names:
        left, right = run_outputs(a / "runs" / name), run_outputs(b / "runs" / name)
        assert left["manifest"] == right["manifest"], name
        for table in TABLES:
            pd.testing.assert_frame_equal(left[table], right[table], obj=f"{name}/{table}")
    pd.testing.assert_frame_equal(pd.read_parquet(a / "sweep.parquet"), pd.read_parquet(b / "sweep.parquet"))


def test_local_workers_share_the_cores_for_blas():
    """Each of two local workers runs BLAS on its share of the cores (OpenBLAS would take them all)."""
    with LocalProcesses(2) as backend:
        pools = backend.pool.submit(threadpool_info).result()
    blas = [pool["num_threads"] for pool in pools if pool["user_api"] == "blas"]
    assert blas and all(n == max(1, cores() // 2) for n in blas), pools


def test_one_worker_two_workers_and_dask_give_identical_runs(tmp_path):
    distributed = pytest.importorskip("distributed")
    exp = write_experiment(tmp_path)
    serial = run_sweep(exp, tmp_path / "serial", workers=1, progress=False)
    run_sweep(exp, tmp_path / "pool", workers=2, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1",
                                  dashboard_address=None) as cluster:  # fmt: skip
        run_sweep(exp, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    assert (serial.total, serial.complete, serial.failed) == (4, 4, 0)
    assert_same_runs(tmp_path / "serial", tmp_path / "pool")
    assert_same_runs(tmp_path / "serial", tmp_path / "dask")
    # the replicates really differ, and the manifest records each run's spawned seed
    runs = tmp_path / "serial" / "runs"
    assert not run_outputs(runs / "r0000")["agents"].equals(run_outputs(runs / "r0001")["agents"])
    assert run_outputs(runs / "r0001")["manifest"]["seed"] == {"entropy": 11, "spawn_key": [1]}


def test_sweep_table_has_one_row_per_run(tmp_path):
    run_sweep(write_experiment(tmp_path), tmp_path / "out", workers=1, progress=False)
    table = pd.read_parquet(tmp_path / "out" / "sweep.parquet")
    assert list(table.columns[:10]) == ["run_id", "replicate", "seed", "status", "error", "extinct_at",
                                        "population", "generations", "episode_steps", "deploy_episodes"]
    assert list(table["run_id"]) == ["r0000", "r0001", "r0002", "r0003"]
    assert list(table["tool_policy"]) == ["free", "free", "forbid", "forbid"]
    assert list(table["seed"]) == ["11/0", "11/1"] * 2
    assert set(table["status"]) == {"complete"} and table["error"].isna().all()
    manifest = json.loads((tmp_path / "out" / "runs" / "r0002" / "manifest.json").read_text())
    assert table.loc[2, "deploy/L1/reached_exit"] == manifest["summary"]["deploy/L1/reached_exit"]
    effective = (tmp_path / "out" / "experiment.toml").read_text()
    assert "root = 11" in effective and "count = 2" in effective


def test_a_failing_run_is_recorded_and_the_others_complete(tmp_path, capsys, monkeypatch):
    # Parsing refuses a maze narrower than 13. Let width 12 through the parse here, so that its run
    # fails where its model is built: in a worker process, which this patch does not reach.
    monkeypatch.setattr(Maze, "check_config", classmethod(lambda cls, config: None))
    exp = write_experiment(tmp_path, axis="width = [21, 12]", count=1)
    out = tmp_path / "out"
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "2", "--quiet"]) == 1
    assert "1 of 2 runs failed" in capsys.readouterr().err
    table = pd.read_parquet(out / "sweep.parquet").set_index("run_id")
    assert table.loc["r0000", "status"] == "complete" and pd.isna(table.loc["r0000", "error"])
    assert table.loc["r0001", "status"] == "failed"
    assert table.loc["r0001", "error"].startswith("ConfigError: parameter 'width' = 12 is not allowed")
    assert pd.isna(table.loc["r0001", "deploy/L1/reached_exit"])
    assert not (out / "runs" / "r0001").exists()
    assert "Traceback" in json.loads((out / "failed" / "r0001.json").read_text())["trace"]
    # rerunning retries only the failed run
    result = run_sweep(exp, out, workers=2, progress=False)
    assert (result.skipped, result.failed) == (1, 1)
    assert len(pd.read_parquet(out / "sweep.parquet")) == 2


def test_resume_runs_only_what_is_missing_and_cleans_leftovers(tmp_path):
    exp = write_experiment(tmp_path)
    out = tmp_path / "out"
    run_sweep(exp, out, workers=1, progress=False)
    runs = out / "runs"
    kept = (runs / "r0000" / "levels.parquet").stat().st_mtime_ns
    before = run_outputs(runs / "r0003")
    (runs / "r0003" / "manifest.json").unlink()  # as if killed before the rename: incomplete
    (runs / ".r0001.abc123.tmp").mkdir()  # what a run killed mid-write leaves
    (runs / ".r0001.abc123.tmp" / "levels.parquet").write_bytes(b"partial")
    (out / ".sweep.parquet.99.tmp").write_bytes(b"partial")
    (out / "failed").mkdir()
    (out / "failed" / "r0000.json").write_text('{"error": "stale"}')  # r0000 is complete
    result = run_sweep(exp, out, workers=2, progress=False)
    assert (result.total, result.skipped, result.complete, result.failed) == (4, 3, 4, 0)
    assert sorted(p.name for p in runs.iterdir()) == ["r0000", "r0001", "r0002", "r0003"]
    assert not list(out.glob(".*.tmp")) and not list((out / "failed").iterdir())
    assert (runs / "r0000" / "levels.parquet").stat().st_mtime_ns == kept
    again = run_outputs(runs / "r0003")
    pd.testing.assert_frame_equal(again["agents"], before["agents"])
    assert len(pd.read_parquet(out / "sweep.parquet")) == 4


def test_a_changed_experiment_is_refused(tmp_path, capsys):
    exp = write_experiment(tmp_path, count=1)
    out = tmp_path / "out"
    run_sweep(exp, out, workers=1, progress=False)
    changed = write_experiment(tmp_path, axis='tool_policy = ["free", "audit"]', count=1)
    assert main(["sweep", str(changed), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds a different experiment (sweep differ" in err and "experiment.toml" in err
    # the effective experiment it wrote resumes the sweep
    assert run_sweep(out / "experiment.toml", out, workers=1, progress=False).skipped == 2


def test_a_directory_that_is_not_a_sweep_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="exists and is not a sweep directory"):
        run_sweep(write_experiment(tmp_path), tmp_path / "out", workers=1, progress=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["notes.txt"]


def test_two_sweeps_cannot_share_a_directory(tmp_path):
    from matryoshka.runs.experiment import load

    exp = load(write_experiment(tmp_path))
    first = SweepDir(tmp_path / "out", exp)
    try:
        with pytest.raises(ConfigError, match="in use by another sweep"):
            SweepDir(tmp_path / "out", exp)
    finally:
        first.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--workers", "0"], "--workers 0 is not allowed: expected an integer >= 1"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "--workers 2 with --scheduler is not"),
    ],
)
def test_bad_options_exit_2(tmp_path, capsys, options, message):
    code = main(["sweep", str(write_experiment(tmp_path)), "--out", str(tmp_path / "out"), *options])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def refused(tmp_path, capsys, args, fragments):
    """A sweep refused with one line and exit code 2, before writing anything."""
    before = set(tmp_path.rglob("*"))
    assert main(["sweep", *args, "--quiet"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in captured.err, captured
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert set(tmp_path.rglob("*")) == before, "something was written"


def test_out_that_cannot_be_written_is_refused(tmp_path, capsys, monkeypatch):
    exp = str(write_experiment(tmp_path))
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    refused(tmp_path, capsys, [exp, "--out", str(tmp_path / "file" / "out")], ["is a file"])
    refused(tmp_path, capsys, [exp, "--out", str(tmp_path / "link")], ["symbolic link", "does not exist"])
    for out in ("/sys/matryoshka-sweep", "/proc/matryoshka/sweep"):
        refused(tmp_path, capsys, [exp, "--out", out], [f"--out '{out}' cannot be written"])

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("matryoshka.model.outputs.tempfile.mkdtemp", read_only)
    refused(tmp_path, capsys, [exp, "--out", str(tmp_path / "out")], ["Read-only file system"])


def test_an_experiment_larger_than_the_limit_is_refused_before_it_is_expanded(tmp_path, capsys):
    # 10**12 seeds would take terabytes to expand: the count is checked first
    exp = write_experiment(tmp_path, count=10**12)
    refused(tmp_path, capsys, [str(exp), "--out", str(tmp_path / "out")],
            ["2,000,000,000,000 runs (grid points: 2, seeds: 1,000,000,000,000)", "at most 100,000 runs",
             "--max-runs"])  # fmt: skip
    exp = write_experiment(tmp_path, count=3)
    refused(tmp_path, capsys, [str(exp), "--out", str(tmp_path / "out"), "--max-runs", "5"],
            ["6 runs", "at most 5 runs"])  # fmt: skip
    refused(tmp_path, capsys, [str(exp), "--out", str(tmp_path / "out"), "--max-runs", "0"],
            ["--max-runs 0 is not allowed"])  # fmt: skip


def test_an_experiment_file_that_is_not_a_regular_file_is_refused(tmp_path, capsys):
    refused(tmp_path, capsys, ["/dev/zero", "--out", str(tmp_path / "out")], ["not a regular file"])


def test_scheduler_without_dask_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    exp = write_experiment(tmp_path)
    assert main(["sweep", str(exp), "--out", str(tmp_path / "out"), "--scheduler", "tcp://h:8786"]) == 2
    assert "pip install 'matryoshka[cluster]'" in capsys.readouterr().err


def test_a_damaged_run_is_run_again_and_ends_identical(tmp_path, capsys):
    exp = write_experiment(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    runs = out / "runs"
    before = {run: {p.name: p.read_bytes() for p in (runs / run).iterdir() if p.name != "manifest.json"}
              for run in ("r0001", "r0002", "r0003")}  # fmt: skip
    kept = (runs / "r0000" / "levels.parquet").stat().st_mtime_ns
    levels = runs / "r0001" / "levels.parquet"
    levels.write_bytes(levels.read_bytes()[:-100])  # truncated: the footer is gone
    (runs / "r0002" / "agents.parquet").unlink()
    events = runs / "r0003" / "events.parquet"  # same size, one byte changed
    data = bytearray(events.read_bytes())
    data[len(data) // 2] ^= 1
    events.write_bytes(bytes(data))
    capsys.readouterr()

    assert main(["sweep", str(exp), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "r0001: its run directory was damaged (levels.parquet has" in captured.err
    assert "r0002: its run directory was damaged (agents.parquet is missing); running it" in captured.err
    assert "r0003: its run directory was damaged (events.parquet does not match the checksum" in captured.err
    assert "4 of 4 runs complete (1 from an earlier sweep); 3 damaged ones ran again" in captured.out
    assert (runs / "r0000" / "levels.parquet").stat().st_mtime_ns == kept  # the whole one was not rerun
    for run, files in before.items():  # byte for byte what the first sweep wrote
        assert {p.name: p.read_bytes() for p in (runs / run).iterdir() if p.name != "manifest.json"} == files


def test_a_run_without_checksums_counts_as_unfinished(tmp_path):
    from matryoshka.model.integrity import run_damage

    exp = write_experiment(tmp_path, count=1)
    out = tmp_path / "out"
    run_sweep(exp, out, workers=1, progress=False)
    manifest = out / "runs" / "r0000" / "manifest.json"
    data = json.loads(manifest.read_text())
    assert set(data["files"]) == {p.name for p in manifest.parent.iterdir()} - {"manifest.json"}
    assert run_damage(manifest.parent) is None
    del data["files"]  # as a run written before files were listed
    manifest.write_text(json.dumps(data))
    assert "lists no output files" in run_damage(manifest.parent)
    result = run_sweep(exp, out, workers=1, progress=False)
    assert (result.skipped, result.damaged, result.complete) == (1, 1, 2)


def _list_in_manifest(files: dict[str, bytes], name: str, data: bytes) -> None:
    """Add a file and list it in the manifest, as a hostile worker could."""
    from matryoshka.model.integrity import file_record

    manifest = json.loads(files["manifest.json"])
    manifest["files"][name] = file_record(data)
    files.update({name: data, "manifest.json": json.dumps(manifest).encode()})


@pytest.mark.parametrize(("change", "message"), [
    (lambda files: files.update({"../escape.txt": b"x"}), "'../escape.txt' is not among the files"),
    (lambda files: _list_in_manifest(files, "../escape.txt", b"x"), "'../escape.txt' is not among the files"),
    (lambda files: _list_in_manifest(files, "a\\b", b"x"), "'a\\\\b' is not among the files"),
    (lambda files: _list_in_manifest(files, "a\0b", b"x"), "'a\\x00b' is not among the files"),
    (lambda files: files.update({"levels.parquet": files["levels.parquet"][:-1]}), "levels.parquet has"),
    (lambda files: files.pop("agents.parquet"), "agents.parquet is missing"),
    (lambda files: files.update({"manifest.json": b"{"}), "no readable manifest.json"),
])  # fmt: skip
def test_files_a_worker_sends_are_checked_before_they_are_written(tmp_path, change, message):
    from matryoshka.runs.backends import RunTask, execute
    from matryoshka.runs.experiment import load

    exp = load(write_experiment(tmp_path, count=1))
    spec = exp.runs()[0]
    result = execute(RunTask(spec.run_id, exp.scenario, spec.params, spec.seed))
    change(result.files)
    store = SweepDir(tmp_path / "out", exp)
    try:
        store.store(result)
        assert not (tmp_path / "out" / "runs" / spec.run_id).exists()
        assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out" / "escape.txt").exists()
        assert store.error(spec.run_id).startswith("the worker's files are damaged: ")
        assert message in store.error(spec.run_id)
    finally:
        store.close()


def test_a_result_that_names_another_run_is_that_runs_failure():
    from concurrent.futures import Future

    from matryoshka.runs.backends import RunResult, RunTask, windowed

    def submit(task):
        future = Future()
        future.set_result(RunResult("../../outside", files={"manifest.json": b"{}"}))
        return future

    tasks = [RunTask(f"r000{i}", "maze-v2", {}, None) for i in range(3)]
    results = list(windowed(tasks, submit, lambda pending: pending, lambda: 2))
    assert sorted(r.run_id for r in results) == ["r0000", "r0001", "r0002"]  # in the order they finish
    assert all(r.error == f"the worker sent back '../../outside' for run {r.run_id!r}" and not r.files
               for r in results)  # fmt: skip


@pytest.fixture
def not_listening():
    """A local port that refuses connections: bound, never listening."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"tcp://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def not_dask():
    """A local server that answers in another protocol than Dask's (as a web server would)."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))

    def answer():
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                with conn:
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 64)

    threading.Thread(target=answer, daemon=True).start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.mark.parametrize(("address", "message"), [
    ("tcp://::::bad", "is not a Dask scheduler address (invalid address '::::bad'"),
    ("nonsense", "is not a Dask scheduler address (missing port number"),
    ("tcp://:8786", "is not a Dask scheduler address (no host)"),
    ("tcp://h:70000", "is not a Dask scheduler address (port 70000 is not in 1-65535)"),
    ("ucx://h:8786", "is not a Dask scheduler address (the scheme 'ucx' is not one of tcp, tls, ws, wss)"),
    ("not_listening", "no Dask scheduler answered there within 3 s"),
    ("not_dask", "does not speak Dask's protocol"),
])  # fmt: skip
def test_a_bad_scheduler_is_one_error_line(tmp_path, request, address, message):
    # through the real entry point: a failed Dask client would print its traceback as the process ends
    import subprocess

    if "://" not in address and address != "nonsense":
        address = request.getfixturevalue(address)
    done = subprocess.run(
        [sys.executable, "-m", "matryoshka.runs", "sweep", str(write_experiment(tmp_path)),
         "--out", str(tmp_path / "out"), "--scheduler", address],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr  # one line, nothing at exit
    assert done.stderr.startswith(f"error: --scheduler {address!r}") and message in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_a_sweep_says_while_its_cluster_has_no_workers(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import threading
    import time

    import matryoshka.runs.backends as backends
    import matryoshka.runs.cluster as cluster_backend

    said: list[tuple[float, str]] = []
    twice = threading.Event()

    def record(text: str) -> None:
        said.append((time.monotonic(), text))
        if len(said) >= 2:
            twice.set()

    monkeypatch.setattr(cluster_backend, "notice", record)
    monkeypatch.setattr(cluster_backend, "NOTICE_EVERY", 0.5)
    exp = write_experiment(tmp_path, count=1)
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:  # fmt: skip
        address = cluster.scheduler_address

        def join_once_said() -> None:  # a worker joins once the sweep has said twice that it waits
            twice.wait(timeout=60)  # (or after a minute, so that a silent sweep fails rather than hangs)
            cluster.scale(1)

        joiner = threading.Thread(target=join_once_said)
        joiner.start()
        result = run_sweep(exp, tmp_path / "out", scheduler=address, progress=False)
        joiner.join()
        worker = next(iter(cluster.scheduler_info["workers"]))
        with pytest.raises(ConfigError, match=f"--scheduler '{worker}': a Dask Worker answers there"):
            backends.choose(None, worker)
    assert (result.total, result.complete) == (2, 2)
    texts = {text for _, text in said}
    assert texts == {f"waiting for Dask workers to join {address} (start them with 'dask worker {address}')"}
    times = [t for t, _ in said]
    assert len(times) >= 2 and all(b - a >= 0.5 for a, b in zip(times, times[1:], strict=False))
