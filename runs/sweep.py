"""``matryoshka sweep``: run an experiment file's grid x seeds, resumably, on any backend.

The sweep expands and validates the experiment, opens the sweep directory (refusing another
experiment's), runs only the runs without a complete directory, writes each one as it finishes,
and rebuilds ``sweep.parquet`` at the end. Rerunning the same command after an interruption
finishes the rest; the same experiment gives the same per-run outputs on any backend.

Core Objects: run_sweep, SweepResult, cmd_sweep.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from matryoshka.model.params import ConfigError
from matryoshka.model.scenarios import get
from matryoshka.runs import backends, experiment
from matryoshka.runs.backends import RunTask
from matryoshka.runs.report import format_sweep_summary
from matryoshka.runs.store import SweepDir

EXIT_FAILED_RUNS = 1
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class SweepResult:
    """How a sweep ended.

    Attributes:
        scenario: The experiment's scenario key.
        total: Runs in the experiment.
        skipped: Runs already complete before this sweep started (resumed).
        complete: Runs complete now.
        failed: Runs that raised (their errors are in ``sweep.parquet``).
        table: The sweep table's path.
        damaged: Runs whose directories were found damaged, and so ran again.
    """

    scenario: str
    total: int
    skipped: int
    complete: int
    failed: int
    table: Path
    damaged: int = 0


class SweepInterrupted(Exception):
    """The sweep stopped before every run finished; rerunning it resumes.

    Attributes:
        complete: Runs complete so far.
        total: Runs in the experiment.
    """

    def __init__(self, message: str, complete: int, total: int):
        super().__init__(message)
        self.complete = complete
        self.total = total


def run_sweep(
    path: str | Path,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    max_runs: int = experiment.MAX_RUNS,
) -> SweepResult:
    """Run (or resume) an experiment into a sweep directory.

    Args:
        path: The experiment TOML file.
        out: The sweep directory.
        workers: Local processes (default: all cores; 1 runs in this process).
        scheduler: A Dask scheduler address; the runs go to that cluster instead.
        progress: Show a progress bar and a line per failed run.
        max_runs: The most runs the experiment may have.

    Returns:
        The counts of runs and the path of ``sweep.parquet``.

    Raises:
        ConfigError: Bad experiment, options, or sweep directory.
        SweepInterrupted: Interrupted (Ctrl-C) or lost its local workers part-way.
    """
    if max_runs < 1:
        raise ConfigError(f"--max-runs {max_runs} is not allowed: expected an integer >= 1")
    exp = experiment.load(path, max_runs)
    specs = exp.runs()
    backend = backends.choose(workers, scheduler)
    with backend:
        store = SweepDir(out, exp, source=str(path), max_runs=max_runs)
        try:
            todo = [spec for spec in specs if not store.is_complete(spec.run_id)]
            skipped = len(specs) - len(todo)
            for run_id, problem in store.damaged.items():  # said even when quiet: outputs were lost
                print(f"{run_id}: its run directory was damaged ({problem}); running it again",
                      file=sys.stderr)  # fmt: skip
            scratch = str(store.scratch) if backend.local else None
            tasks = (RunTask(s.run_id, exp.scenario, s.params, s.seed, scratch) for s in todo)
            if progress:
                resumed = f", {skipped} already complete" if skipped else ""
                print(f"sweep '{exp.name}': {len(specs)} runs{resumed}; running {len(todo)} on "
                      f"{backend.describe()} -> {out}", file=sys.stderr)  # fmt: skip
            failed = _execute(backend, tasks, store, len(specs), skipped, progress)
            table = store.write_table(specs)
        finally:
            store.close()
    return SweepResult(exp.scenario, len(specs), skipped, len(specs) - failed, failed, table,
                       len(store.damaged))  # fmt: skip


def _execute(
    backend: backends.Backend,
    tasks: Iterable[RunTask],
    store: SweepDir,
    total: int,
    skipped: int,
    progress: bool,
) -> int:
    """Run the tasks, store each result as it arrives; return how many failed."""
    failed = done = 0
    bar = tqdm(total=total, initial=skipped, unit="run", desc="runs", disable=not progress,
               smoothing=0, dynamic_ncols=True)  # fmt: skip
    bar.set_postfix(failed=0)
    try:
        for result in backend.results(tasks):
            store.store(result)
            done += 1
            if result.error is not None:
                failed += 1
                bar.set_postfix(failed=failed, refresh=False)
                if progress:
                    bar.write(f"{result.run_id} failed: {result.error}", file=sys.stderr)
            bar.update(1)
    except (KeyboardInterrupt, BrokenProcessPool) as err:
        why = "interrupted" if isinstance(err, KeyboardInterrupt) else "a worker process died"
        complete = skipped + done - failed
        raise SweepInterrupted(why, complete, total) from None
    finally:
        bar.close()
    return failed


def cmd_sweep(args: argparse.Namespace) -> int:
    """The ``sweep`` subcommand: 0 if every run completed, 1 if any failed, 130 if interrupted."""
    try:
        result = run_sweep(args.experiment, args.out, workers=args.workers, scheduler=args.scheduler,
                           progress=not getattr(args, "quiet", False), max_runs=args.max_runs)  # fmt: skip
    except SweepInterrupted as stop:
        print(f"{stop}: {stop.complete} of {stop.total} runs complete in {args.out}; "
              "rerun the same command to finish the rest", file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
    table = pd.read_parquet(result.table)
    extinct = table.loc[table["status"] == "extinct", "run_id"].tolist()
    if result.complete:
        print("summary (mean over seeds of the last episode of each phase):")
        metrics = get(result.scenario).metric_registry()
        print(format_sweep_summary(table, metrics) + "\n")
    if extinct:
        print(f"{len(extinct)} of {result.total} runs went extinct ({', '.join(extinct[:8])}"
              f"{', ...' if len(extinct) > 8 else ''}): their population counts as 0 from then on; "
              "'extinct_at' in the sweep table says when")  # fmt: skip
    print(f"{result.complete} of {result.total} runs complete"
          + (f" ({result.skipped} from an earlier sweep)" if result.skipped else "")
          + (f"; {result.damaged} damaged ones ran again" if result.damaged else "")
          + f"; sweep table: {result.table}")  # fmt: skip
    if result.failed:
        print(f"{result.failed} of {result.total} runs failed: their errors are in the 'error' column of "
              f"{result.table}; rerunning the same command retries them", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED_RUNS
    return 0
