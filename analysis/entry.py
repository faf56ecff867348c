"""Running analyses from the command line: error handling, progress lines and the folder.

Every analysis module ends with `raise SystemExit(standalone(analyse, NAME, __doc__))` so that
`python -m matryoshka.analysis.<name> DIR` runs it alone. `matryoshka analyze` writes its folder
whole or not at all (`whole_folder`), and may run the analyses on several processes
(`command.worker_pool`): those that read every run's per-step series (`levels.parquet`) run in
the process that loaded them, the others in worker processes sent the dataset without its tables.

Core objects: Analysis, Skipped, run_analyses, standalone, whole_folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from pathlib import Path

from matryoshka.analysis.command import Workers, parse_args
from matryoshka.analysis.dataset import Dataset
from matryoshka.analysis.io import InputError, load
from matryoshka.analysis.section import NotApplicable, Section

#: An analysis reads a dataset and writes its figure and table into a directory.
Analysis = Callable[[Dataset, Path], Section]


@dataclass(frozen=True)
class Skipped:
    """An analysis that did not apply, and why."""

    name: str
    reason: str


@contextlib.contextmanager
def whole_folder(out: Path) -> Iterator[Path]:
    """Yield an empty folder beside `out` that takes `out`'s place only when the block succeeds.

    An earlier `out` (a previous report) is moved aside, the new folder renamed in, then the old
    one removed; a failure leaves `out` as it was.

    Raises:
        InputError: No folder can be created beside `out` (read-only, below a file, no permission).
    """
    place = next((p for p in [out.parent, *out.parent.parents] if p.exists()), Path("."))
    if not place.is_dir():
        raise InputError(f"{out}: cannot be written: {place} is a file; choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise InputError(f"{out}: cannot be written: creating a folder in {place} fails "
                         f"({exc.strerror or exc}); choose another --out") from None
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; a report folder should not be
    try:
        yield tmp
        old = out.with_name(f".{out.name}.{tmp.name.split('.')[-2]}.old")
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def run_analyses(data: Dataset, out: Path, analyses: Sequence[tuple[str, Analysis]],
                 shown: Path | None = None, workers: Workers | None = None,
                 here: Collection[str] = ()) -> tuple[list[Section], list[Skipped]]:
    """Run each analysis, printing one line per analysis: what it wrote or why it was skipped.

    With workers, the analyses not named in `here` go to them, one at a time to each as it
    becomes free, with the dataset without the runs' tables (`Dataset.without_tables`); this
    process runs the others and then, last first, those no worker has been given yet. Either way
    the lines come in the order of `analyses`, and a failure is the one the first failing analysis
    in that order meets, as when they run one after another.

    Args:
        data: The dataset.
        out: Where the analyses write.
        analyses: Each analysis with its name (with workers, a module-level function).
        shown: Where the files will be once `out` is renamed (the paths printed).
        workers: Worker processes (`command.worker_pool`), or None to run every analysis here.
        here: The analyses that stay in this process: those that read every run's tables, which
            this process has read already.

    Raises:
        InputError: An analysis met a file or column that does not match the contract.
    """
    outcomes: dict[int, Future] = {}
    queued = [] if workers is None else [i for i, (name, _) in enumerate(analyses) if name not in here]
    given: list[Future] = []  # what the workers were given
    lock = threading.Lock()  # `queued` and `given` are shared with the pool's thread
    sent = data.without_tables() if queued else data
    sections: list[Section] = []
    skipped: list[Skipped] = []
    until = len(analyses)  # the analyses from the first one that failed here on need not run

    def give(_: Future | None = None) -> None:
        """Give a worker the first analysis still queued (each one's end gives it the next)."""
        with lock:
            if not queued:
                return
            i = queued.pop(0)
            outcomes[i] = workers.pool.submit(analyses[i][1], sent, out)
            given.append(outcomes[i])
        outcomes[i].add_done_callback(give)

    def next_here() -> int | None:
        """This process's next analysis: its own in order, then the last one still queued."""
        with lock:
            own = next((i for i in range(until) if i not in outcomes and i not in queued), None)
            return own if own is not None or not queued else queued.pop()

    def report(block: bool) -> None:
        """Print the next outcomes in order, as far as they are known (all of them when `block`)."""
        while (i := len(sections) + len(skipped)) in outcomes and (block or outcomes[i].done()):
            name = analyses[i][0]
            try:
                section = outcomes[i].result()
            except NotApplicable as why:
                skipped.append(Skipped(name, str(why)))
                print(f"skipped {name}: {why}")
                continue
            sections.append(section)
            written = [*section.figures, *([section.csv] if section.csv else []), *section.extra]
            where = [(shown / p.relative_to(out)) if shown else p for p in written]
            print(f"{name}: wrote {', '.join(str(p) for p in where)}")

    try:
        for _ in range(workers.count if workers else 0):
            give()
        while (i := next_here()) is not None:
            outcomes[i] = _run_here(analyses[i][1], data, out)
            report(block=False)
            error = outcomes[i].exception()
            if error is not None and not isinstance(error, NotApplicable):
                until = i  # this failure, or one that comes before it, is what is reported
                with lock:
                    queued[:] = [j for j in queued if j < i]
        report(block=True)
    finally:
        with lock:
            queued.clear()  # no worker is given more
        wait(given)  # nothing may still be writing into `out` once this returns or raises
    return sections, skipped


def _run_here(analyse: Analysis, data: Dataset, out: Path) -> Future:
    """Run an analysis in this process; its section, or what it raised, as a finished future."""
    outcome: Future = Future()
    try:
        outcome.set_result(analyse(data, out))
    except Exception as exc:  # reported in the order of the analyses, by run_analyses
        outcome.set_exception(exc)
    return outcome


def standalone(analyse: Analysis, name: str, doc: str | None,
               argv: Sequence[str] | None = None) -> int:
    """Run one analysis on the command line.

    Returns:
        The exit code: 0 on success (also when the analysis does not apply), 2 on bad input.
    """
    args = parse_args(argv, f"python -m matryoshka.analysis.{name}", (doc or name).splitlines()[0])
    try:
        data = load(args.dir)
        for note in data.notes:
            print(note)
        run_analyses(data, args.out or args.dir / "figures", [(name, analyse)])
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
