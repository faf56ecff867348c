"""`matryoshka analyze DIR [--out FIGDIR]`: every analysis that applies, then `report.html`.

Core objects: ANALYSES, main.
"""

from __future__ import annotations

import sys

from matryoshka.analysis import (
    competence,
    competence_axis,
    drift,
    interventions,
    lineage,
    occupancy,
    shift,
    tables,
    telephone,
    wants,
)
from matryoshka.analysis.entry import parse_args, run_analyses, whole_folder
from matryoshka.analysis.io import InputError, load
from matryoshka.analysis.report import write_report

#: The analyses, in report order.
ANALYSES = (drift, telephone, wants, competence, competence_axis, interventions, shift, lineage, occupancy,
            tables)


def main(argv: list[str] | None = None, prog: str = "matryoshka analyze") -> int:
    """Analyse a run or sweep directory into figures, tables and `report.html`.

    Args:
        argv: Command-line arguments (default: `sys.argv[1:]`).
        prog: Program name shown in usage messages.

    Every input file is read and checked before anything is written; the folder is written
    whole, into a temporary folder renamed to `--out` at the end, so a failure leaves no half
    report.

    Returns:
        The exit code: 0 on success, 2 when the input is missing or malformed, or `--out` cannot
        be written.
    """
    args = parse_args(argv, prog, "Figures and tables of a Matryoshka run or sweep directory.")
    out = args.out or args.dir / "figures"
    try:
        data = load(args.dir)
        for note in data.notes:
            print(note)
        with whole_folder(out) as tmp:
            sections, skipped = run_analyses(data, tmp, [(m.NAME, m.analyse) for m in ANALYSES], out)
            report = out / write_report(data, tmp, sections, skipped).relative_to(tmp)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {report}")
    return 0
