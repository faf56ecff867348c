"""A sweep directory: its layout, its lock, what is done in it, and the sweep table.

Layout::

    DIR/experiment.toml      the effective experiment (a valid experiment file itself)
    DIR/runs/<run_id>/       one complete run directory per finished run (written atomically)
    DIR/failed/<run_id>.json the error of a run that raised (removed once it completes)
    DIR/sweep.parquet        one row per run, rebuilt from the above at the end of each sweep
    DIR/.lock, DIR/.scratch/ the lock held while a sweep runs; local workers' scratch files

A run is complete exactly when ``DIR/runs/<run_id>/manifest.json`` lists each of the run's files
with its size and checksum and they match (``model.integrity``): run directories appear whole or
not at all, so the run directories themselves are the record of what is done, and a resumed sweep
needs nothing else. A damaged run directory (a truncated or deleted file) is removed and its run
runs again; so are the leftovers of a killed sweep (``.tmp`` directories), when the directory is
opened again. What a worker sends back is checked the same way before it is written.

Core Objects: SweepDir.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from matryoshka.model.contract import META_COLUMNS
from matryoshka.model.integrity import MANIFEST, damage, file_record, listed_files, run_damage
from matryoshka.model.outputs import atomic_directory, check_writable, lock_file
from matryoshka.model.params import ConfigError
from matryoshka.runs.backends import RunResult
from matryoshka.runs.config import load_toml
from matryoshka.runs.experiment import MAX_RUNS, Experiment, RunSpec, parse


class SweepDir:
    """The directory a sweep writes, opened for one experiment.

    Args:
        root: The directory (created if missing).
        experiment: The experiment to run in it.
        source: The experiment file's path (written into ``experiment.toml``).
        max_runs: The most runs an experiment may have (for reading the one already there).

    Raises:
        ConfigError: ``root`` holds something else, another experiment, or a sweep in progress.
    """

    def __init__(self, root: str | Path, experiment: Experiment, source: str = "", max_runs: int = MAX_RUNS):
        self.root = Path(root)
        self.runs = self.root / "runs"
        self.failed = self.root / "failed"
        self.scratch = self.root / ".scratch"
        self.experiment = experiment
        self.max_runs = max_runs
        self._complete: dict[str, bool] = {}
        self.damaged: dict[str, str] = {}  # run directories found damaged, and how
        self._check_contents()
        check_writable(self.root, "--out", inside=True)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = self._acquire_lock()
        try:
            self._check_contents()  # again, now that no other sweep can change it
            self._clean()
            _write_text(self.root / "experiment.toml", experiment.to_toml(source, str(self.root)))
        except BaseException:
            self._lock.close()
            raise

    # -- opening ------------------------------------------------------------------------------

    def _check_contents(self) -> None:
        root = self.root
        if root.exists() and not root.is_dir():
            raise ConfigError(f"--out '{root}' is a file: expected a new or a sweep directory")
        if not root.exists() or not any(p.name != ".lock" for p in root.iterdir()):
            return
        file = root / "experiment.toml"
        if not file.exists():
            raise ConfigError(f"--out '{root}' exists and is not a sweep directory (no experiment.toml): "
                              "choose a new directory")  # fmt: skip
        try:
            earlier = parse(load_toml(file), source=str(file), max_runs=self.max_runs)
        except ConfigError as err:
            raise ConfigError(f"--out '{root}' holds an experiment that cannot be read ({err}): "
                              "choose a new directory") from None  # fmt: skip
        ours, theirs = self.experiment.defining(), earlier.defining()
        differ = [key for key in ours if ours[key] != theirs[key]]
        if differ:
            raise ConfigError(
                f"--out '{root}' holds a different experiment ({', '.join(differ)} differ from {file}): "
                "a sweep directory holds one experiment; choose a new directory, or resume that one "
                f"with 'matryoshka sweep {file} --out {root}'"
            )

    def _acquire_lock(self) -> Any:
        return lock_file(self.root / ".lock", f"--out '{self.root}' is in use by another sweep: wait for it "
                         "to end, or choose another directory")  # fmt: skip

    def _clean(self) -> None:
        """Remove what an interrupted sweep left: temporary files, unfinished runs, stale errors."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        ids = {spec.run_id for spec in self.experiment.runs()}
        for folder in (self.root, self.runs, self.failed):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                leftover = path.name.startswith(".") and path.name.endswith((".tmp", ".old"))
                unfinished = folder == self.runs and path.name in ids and not self.is_complete(path.name)
                # an error record outlives its run's success only if a sweep died in between
                stale = folder == self.failed and self.is_complete(path.stem)
                if (leftover or unfinished) and path.is_dir():
                    shutil.rmtree(path)
                elif leftover or unfinished or stale:
                    path.unlink()

    def close(self) -> None:
        """Remove the scratch directory and release the lock."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        self._lock.close()

    # -- runs ---------------------------------------------------------------------------------

    def is_complete(self, run_id: str) -> bool:
        """Whether the run's directory is whole (checked once; damage is noted in ``damaged``)."""
        if run_id not in self._complete:
            path = self.runs / run_id
            problem = run_damage(path) if path.is_dir() else "missing"
            if path.is_dir() and problem is not None:
                self.damaged[run_id] = problem
            self._complete[run_id] = problem is None
        return self._complete[run_id]

    def store(self, result: RunResult) -> None:
        """Write a finished run: its directory (atomically), or its error record.

        A run whose files do not match its own manifest's list is recorded as failed instead.
        """
        record = self.failed / f"{result.run_id}.json"
        if result.error is None:
            problem = _result_damage(result.files)
            if problem is not None:
                result = RunResult(result.run_id, error=f"the worker's files are damaged: {problem}")
        if result.error is None:
            with atomic_directory(self.runs / result.run_id, exclusive=False) as tmp:
                for name, data in result.files.items():
                    (tmp / name).write_bytes(data)
            self._complete[result.run_id] = True
            record.unlink(missing_ok=True)
        else:
            self.failed.mkdir(exist_ok=True)
            text = json.dumps({"run_id": result.run_id, "error": result.error, "trace": result.trace})
            _write_text(record, text + "\n")

    def error(self, run_id: str) -> str | None:
        """The recorded error of a failed run, or None."""
        record = self.failed / f"{run_id}.json"
        return json.loads(record.read_text())["error"] if record.is_file() else None

    # -- the sweep table ----------------------------------------------------------------------

    def row(self, spec: RunSpec) -> dict[str, Any] | None:
        """The sweep table's row of a run, or None if it has not finished.

        The row holds the ``META_COLUMNS``, the parameters, and (finished runs) the run's summary.
        A finished run's status is its manifest's: ``complete``, or ``extinct`` with the step its
        population died out at (``extinct_at``).
        """
        params = {name: spec.params[name] for name in self.experiment.columns()}

        def meta(status: str, error: str | None, extinct_at: int | None = None) -> dict[str, Any]:
            values = (spec.run_id, spec.replicate, spec.seed_label, status, error, extinct_at)
            return dict(zip(META_COLUMNS, values, strict=True))

        if self.is_complete(spec.run_id):
            manifest = json.loads((self.runs / spec.run_id / "manifest.json").read_text())
            summary = {key: float(value) for key, value in manifest.get("summary", {}).items()}
            status = meta(manifest.get("status", "complete"), None, manifest.get("extinct_at"))
            return {**status, **params, **summary}
        error = self.error(spec.run_id)
        return None if error is None else {**meta("failed", error), **params}

    def write_table(self, specs: list[RunSpec]) -> Path:
        """Write ``sweep.parquet`` (atomically) with one row per run in ``specs``.

        Raises:
            ValueError: A run has neither finished nor failed.
        """
        rows = [self.row(spec) for spec in specs]
        missing = [spec.run_id for spec, row in zip(specs, rows, strict=True) if row is None]
        if missing:
            raise ValueError(f"runs not finished: {', '.join(missing[:5])}")
        table = pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False)
        for name, kind in (("seed", pa.string()), ("error", pa.string()), ("extinct_at", pa.int64())):
            # all-null columns would otherwise have no type
            table = table.set_column(table.schema.get_field_index(name), name, table[name].cast(kind))
        out = self.root / "sweep.parquet"
        tmp = _tmp_beside(out)
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        return out


def _result_damage(files: dict[str, bytes]) -> str | None:
    """What is wrong with the files a worker sent back, or None if they are a whole run."""
    try:
        manifest = json.loads(files.get(MANIFEST, b"").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return f"no readable {MANIFEST}"
    listed = listed_files(manifest) or {}
    unlisted = sorted(set(files) - set(listed) - {MANIFEST})
    if unlisted:
        return f"{unlisted[0]!r} is not among the files its manifest lists"
    return damage(manifest, {name: file_record(files[name]) for name in listed if name in files})


def _tmp_beside(path: Path) -> Path:
    """A temporary file name beside ``path`` (``.name.PID.tmp``: removed if a sweep dies first)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _write_text(path: Path, text: str) -> None:
    """Write a text file atomically: a temporary file beside it, then a rename."""
    tmp = _tmp_beside(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
