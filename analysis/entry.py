"""Running analyses from the command line: arguments, error handling and progress lines.

Every analysis module ends with `raise SystemExit(standalone(analyse, NAME, __doc__))` so that
`python -m matryoshka.analysis.<name> DIR` runs it alone.

Core objects: Analysis, Skipped, parse_args, run_analyses, standalone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
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


def run_analyses(data: Dataset, out: Path,
                 analyses: Sequence[tuple[str, Analysis]]) -> tuple[list[Section], list[Skipped]]:
    """Run each analysis, printing one line per analysis: what it wrote or why it was skipped.

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
        print(f"{name}: wrote {', '.join(str(p) for p in written)}")
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
