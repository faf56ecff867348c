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
from matryoshka.analysis.entry import jobs_allowed, parse_args, run_analyses, whole_folder, worker_pool
from matryoshka.analysis.io import InputError, load
from matryoshka.analysis.report import write_report

#: The analyses, in report order.
ANALYSES = (drift, telephone, wants, competence, competence_axis, interventions, shift, lineage, occupancy,
            tables)
#: Those that read every run's per-step series (`READS_LEVELS`): they run in the process that read them.
READ_LEVELS = frozenset(m.NAME for m in ANALYSES if getattr(m, "READS_LEVELS", False))


def main(argv: list[str] | None = None, prog: str = "matryoshka analyze") -> int:
    """Analyse a run or sweep directory into figures, tables and `report.html`.

    Args:
        argv: Command-line arguments (default: `sys.argv[1:]`).
        prog: Program name shown in usage messages.

    Every input file is read and checked before anything is written; the folder is written
    whole, into a temporary folder renamed to `--out` at the end, so a failure leaves no half
    report. With `--jobs` above 1 the analyses run on that many processes (`run_analyses`);
    the files and the lines printed are the same.

    Returns:
        The exit code: 0 on success, 2 when the input is missing or malformed, `--jobs` is not
        a number of processes, or `--out` cannot be written.
    """
    args = parse_args(argv, prog, "Figures and tables of a Matryoshka run or sweep directory.", jobs=True)
    out = args.out or args.dir / "figures"
    analyses = [(m.NAME, m.analyse) for m in ANALYSES]
    try:
        jobs = jobs_allowed(args.jobs)
        with worker_pool(min(jobs - 1, len(ANALYSES) - len(READ_LEVELS))) as workers:
            data = load(args.dir)
            for note in data.notes:
                print(note)
            with whole_folder(out) as tmp:
                sections, skipped = run_analyses(data, tmp, analyses, out, workers, READ_LEVELS)
                report = out / write_report(data, tmp, sections, skipped).relative_to(tmp)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {report}")
    return 0
