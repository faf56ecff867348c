"""Running analyses from the command line: arguments, error handling, progress lines and the folder.

Every analysis module ends with `raise SystemExit(standalone(analyse, NAME, __doc__))` so that
`python -m matryoshka.analysis.<name> DIR` runs it alone. `matryoshka analyze` writes its folder
whole or not at all (`whole_folder`).

Core objects: Analysis, Skipped, parse_args, run_analyses, standalone, whole_folder.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

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


def parse_args(argv: Sequence[str] | None, prog: str, description: str) -> argparse.Namespace:
    """Parse `DIR [--out FIGDIR]`."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("dir", type=Path, help="a run directory or a sweep directory")
    parser.add_argument("--out", type=Path, default=None,
                        help="where figures and tables go (default: DIR/figures)")
    return parser.parse_args(argv)


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
                 shown: Path | None = None) -> tuple[list[Section], list[Skipped]]:
    """Run each analysis, printing one line per analysis: what it wrote or why it was skipped.

    Args:
        data: The dataset.
        out: Where the analyses write.
        analyses: Each analysis with its name.
        shown: Where the files will be once `out` is renamed (the paths printed).

    Raises:
        InputError: An analysis met a file or column that does not match the contract.
    """
    sections, skipped = [], []
    for name, analyse in analyses:
        try:
            section = analyse(data, out)
        except NotApplicable as why:
            skipped.append(Skipped(name, str(why)))
            print(f"skipped {name}: {why}")
            continue
        sections.append(section)
        written = [*section.figures, *([section.csv] if section.csv else []), *section.extra]
        where = [(shown / p.relative_to(out)) if shown else p for p in written]
        print(f"{name}: wrote {', '.join(str(p) for p in where)}")
    return sections, skipped


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
