"""The analysis command line's first steps, light to import: its arguments and its worker processes.

`matryoshka analyze` starts its workers before it imports the analyses (matplotlib and more,
about half a second), so that it and they import at the same time.

Core objects: MAX_JOBS, Workers, parse_args, jobs_allowed, worker_pool.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from matryoshka.analysis.checks import InputError

#: The most processes `matryoshka analyze` uses unless told: the analyses are few, and each process
#: beyond the first pays for its own imports (about 0.8 s of CPU) and memory.
MAX_JOBS = 4


@dataclass(frozen=True)
class Workers:
    """Worker processes that run analyses beside this one (`worker_pool`).

    Attributes:
        pool: The processes.
        count: How many there are.
    """

    pool: ProcessPoolExecutor
    count: int


def parse_args(argv: Sequence[str] | None, prog: str, description: str,
               jobs: bool = False) -> argparse.Namespace:
    """Parse `DIR [--out FIGDIR]`, and `[--jobs N]` when `jobs` (checked by `jobs_allowed`)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("dir", type=Path, help="a run directory or a sweep directory")
    parser.add_argument("--out", type=Path, default=None,
                        help="where figures and tables go (default: DIR/figures)")
    if jobs:
        parser.add_argument("--jobs", metavar="N", default=None,
                            help=f"processes to run the analyses on (default: the usable cores, at most "
                                 f"{MAX_JOBS}; 1: all in this process)")
    return parser.parse_args(argv)


def jobs_allowed(jobs: str | None) -> int:
    """The number of processes `--jobs` asks for; by default the usable cores, at most `MAX_JOBS`.

    Raises:
        InputError: `jobs` is not a whole number of at least 1.
    """
    if jobs is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return max(1, min(cores or 1, MAX_JOBS))
    try:
        count = int(jobs)
    except ValueError:
        count = 0
    if count < 1:
        raise InputError(f"--jobs {jobs} is not allowed: expected a whole number of processes >= 1 "
                         "(1 runs every analysis in this process)")
    return count


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[Workers | None]:
    """Worker processes to run analyses beside this one (None when `workers` is 0).

    They start at once and import the analyses while this process reads the runs. Each is a fresh
    interpreter ("spawn"), never a fork: this process already runs threads (BLAS's, pyarrow's),
    and a forked copy of a process with threads can deadlock.
    """
    if workers < 1:
        yield None
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker)
    try:
        for _ in range(workers):
            pool.submit(_import_analyses)
        yield Workers(pool, workers)
    finally:
        # run_analyses leaves no analysis running; a worker still importing need not be waited for.
        pool.shutdown(wait=False, cancel_futures=True)


def _start_worker() -> None:
    """A worker's start: leave Ctrl-C to the main process, and end as soon as that is gone.

    A worker holds both ends of its task queue, so one whose main process was killed would
    otherwise wait for work forever.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent,), name="matryoshka-analysis-watch",
                         daemon=True).start()


def _end_with(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # returns when the main process is gone
    os._exit(1)


def _import_analyses() -> None:
    """Import every analysis (a worker's first task, so that it is ready when the dataset is)."""
    importlib.import_module("matryoshka.analysis.suite")
