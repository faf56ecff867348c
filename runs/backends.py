"""Where a sweep's runs execute: this process, local worker processes, or a Dask cluster.

Workers never write into the sweep directory. Each run writes its outputs to a scratch directory
and sends them back as bytes; only the sweep process, which holds the directory's lock, writes
them into place. So a worker that outlives a killed sweep, or a Dask worker on another machine
without the shared filesystem, cannot leave anything half-written in the sweep directory.

Core Objects: RunTask, RunResult, execute, Backend, Serial, LocalProcesses, blas_threads, choose
(and, in ``runs.cluster``, DaskCluster).
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from matryoshka.model.params import ConfigError

CLUSTER_HINT = "pip install 'matryoshka[cluster]'"


@dataclass(frozen=True)
class RunTask:
    """What a worker needs to run one simulation.

    Attributes:
        run_id: The run's name in the sweep.
        scenario: A registered scenario key.
        params: The run's parameters.
        seed: The run's seed.
        scratch: A directory for the worker's scratch files (None: the system's temporary one).
    """

    run_id: str
    scenario: str
    params: dict[str, Any]
    seed: np.random.SeedSequence
    scratch: str | None = None


@dataclass(frozen=True)
class RunResult:
    """What comes back from a worker.

    Attributes:
        run_id: The run's name in the sweep.
        error: ``"<ExceptionType>: <message>"`` if the run raised, else None.
        files: The run directory's files by name (empty if the run failed).
        trace: The traceback of a failed run.
    """

    run_id: str
    error: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    trace: str = ""


def execute(task: RunTask) -> RunResult:
    """Run one simulation into a scratch directory and return its files (or its error)."""
    from matryoshka.runs.single import run_simulation  # imported in the worker, where the model runs

    if task.scratch:
        Path(task.scratch).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{task.run_id}.", dir=task.scratch))
    try:
        run_simulation(task.scenario, task.params, task.seed, tmp / task.run_id, progress=False)
        files = {p.name: p.read_bytes() for p in sorted((tmp / task.run_id).iterdir())}
        return RunResult(task.run_id, files=files)
    except Exception as err:  # a failing run is recorded and the sweep goes on
        return RunResult(task.run_id, error=error_line(err), trace=traceback.format_exc())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def notice(text: str) -> None:
    """Say something on stderr, above the progress bar."""
    tqdm.write(text, file=sys.stderr)


def error_line(err: BaseException) -> str:
    """An exception as one line: its type and message."""
    message = " ".join(str(err).split())
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


class Backend:
    """Runs tasks and yields their results as they finish (in any order)."""

    #: Where workers should put scratch files: True for workers on this machine.
    local = True

    def describe(self) -> str:
        """Where the runs execute, for people."""
        raise NotImplementedError

    def results(self, tasks: Iterable[RunTask]) -> Iterator[RunResult]:
        """Run ``tasks``; yield each result once, as soon as it is ready."""
        raise NotImplementedError

    def close(self, abort: bool = False) -> None:
        """Release workers and connections; ``abort``: do not wait for runs in progress."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        self.close(abort=exc_type is not None)


class Serial(Backend):
    """Every run in this process, one after another (``--workers 1``)."""

    def describe(self) -> str:  # noqa: D102
        return "1 local process"

    def results(self, tasks: Iterable[RunTask]) -> Iterator[RunResult]:  # noqa: D102
        for task in tasks:
            yield execute(task)


def windowed(
    tasks: Iterable[RunTask],
    submit: Callable[[RunTask], Any],
    next_done: Callable[[set], Iterable[Any]],
    window: Callable[[], int],
) -> Iterator[RunResult]:
    """Keep at most ``window()`` tasks in flight; yield results as futures complete.

    ``next_done(pending)`` blocks until some of the pending futures are done and returns them.

    Only a bounded number of futures exist at once, so the sweep process holds a few results at a
    time however many runs the sweep has. A result is taken as the run it was asked for: one that
    names another run (a buggy or hostile worker) is recorded as that run's failure.
    """
    tasks = iter(tasks)
    pending: dict[Any, str] = {}
    while True:
        for task in itertools.islice(tasks, max(0, window() - len(pending))):
            pending[submit(task)] = task.run_id
        if not pending:
            return
        for future in next_done(set(pending)):
            run_id = pending.pop(future)
            try:
                result = future.result()
            except Exception as err:  # the worker died or was lost, not the run's own error
                yield RunResult(run_id, error=error_line(err), trace=traceback.format_exc())
                continue
            if not isinstance(result, RunResult) or result.run_id != run_id:  # only what was asked
                got = result.run_id if isinstance(result, RunResult) else type(result).__name__
                result = RunResult(run_id, error=f"the worker sent back {got!r} for run {run_id!r}")
            yield result


class LocalProcesses(Backend):
    """Runs on ``workers`` local processes (forkserver where available, else spawn)."""

    def __init__(self, workers: int):
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        self.workers = workers
        self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                                           initargs=(os.getpid(), blas_threads(workers)))  # fmt: skip

    def describe(self) -> str:  # noqa: D102
        return f"{self.workers} local processes"

    def results(self, tasks: Iterable[RunTask]) -> Iterator[RunResult]:  # noqa: D102
        def next_done(futures: set) -> set:
            return cf.wait(futures, return_when=cf.FIRST_COMPLETED).done

        yield from windowed(tasks, lambda t: self.pool.submit(execute, t), next_done,
                            lambda: 2 * self.workers)  # fmt: skip

    def close(self, abort: bool = False) -> None:
        """Stop the workers; on ``abort``, cancel queued runs and stop the running ones too."""
        if not abort:
            self.pool.shutdown(wait=True)
            return
        terminate = getattr(self.pool, "terminate_workers", None)  # Python >= 3.14
        if terminate is not None:
            terminate()
            return
        # Before 3.14 there is no public way to stop running workers, whose results are unwanted.
        for process in list((getattr(self.pool, "_processes", None) or {}).values()):
            process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)  # returns once the pool sees them gone


def cores() -> int:
    """The cores this process may run on."""
    return getattr(os, "process_cpu_count", os.cpu_count)() or 1


def blas_threads(workers: int) -> int:
    """BLAS threads for each of ``workers`` processes: its share of the cores, at least one.

    A model's matrix products are small (a few features by a few hundred cells). Left alone,
    OpenBLAS gives each process a thread per core, so the workers' threads outnumber the cores,
    and they keep spinning after each product, taking time from the other workers' runs.
    """
    return max(1, cores() // workers)


def init_worker(sweep_pid: int, blas: int | None = None, interval: float = 1.0) -> None:
    """Worker initializer: its BLAS threads, Ctrl-C left to the sweep, an end soon after the sweep's.

    A pool's workers hold both ends of their task queue, so a worker whose sweep was killed with
    SIGKILL would otherwise wait for work forever.

    Args:
        sweep_pid: The sweep process, whose end ends the worker.
        blas: At most this many BLAS threads (``blas_threads``); None leaves BLAS as it is.
        interval: Seconds between two looks at the sweep process.
    """
    if blas is not None:
        threadpool_limits(blas, user_api="blas")  # numpy, and its BLAS, are loaded with this module
    # Ctrl-C is the sweep process's to handle: it stops the workers and says how to resume.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # tqdm would make a multiprocessing lock here, which a stopped worker leaves behind (and
    # Python warns about); workers draw no progress bars, so a thread lock does.
    tqdm.set_lock(threading.RLock())
    if os.name != "posix":  # os.kill(pid, 0) tests for a process only on POSIX
        return

    def watch() -> None:
        while True:
            time.sleep(interval)
            try:
                os.kill(sweep_pid, 0)
            except ProcessLookupError:
                os._exit(1)

    threading.Thread(target=watch, name="matryoshka-sweep-watch", daemon=True).start()


def choose(workers: int | None, scheduler: str | None) -> Backend:
    """The backend for ``--workers`` and ``--scheduler``.

    Raises:
        ConfigError: ``--workers`` below 1, both options given, Dask missing or unreachable.
    """
    if scheduler is not None:
        if workers is not None:
            raise ConfigError(f"--workers {workers} with --scheduler is not allowed: the Dask cluster's "
                              "workers run the sweep (start more with 'dask worker')")  # fmt: skip
        from matryoshka.runs.cluster import DaskCluster  # Dask is optional: imported only for a cluster

        return DaskCluster(scheduler)
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers {workers} is not allowed: expected an integer >= 1")
    workers = workers or cores()
    return Serial() if workers == 1 else LocalProcesses(workers)
