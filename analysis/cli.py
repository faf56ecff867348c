"""`matryoshka analyze DIR [--out FIGDIR] [--jobs N]`: every analysis that applies, then `report.html`.

Core objects: main.
"""

from __future__ import annotations

import sys

from matryoshka.analysis.checks import InputError
from matryoshka.analysis.command import jobs_allowed, parse_args, worker_pool


def main(argv: list[str] | None = None, prog: str = "matryoshka analyze") -> int:
    """Analyse a run or sweep directory into figures, tables and `report.html` (`suite.analyze`).

    Args:
        argv: Command-line arguments (default: `sys.argv[1:]`).
        prog: Program name shown in usage messages.

    With `--jobs` above 1 the analyses run on that many processes; the files and the lines
    printed are the same.

    Returns:
        The exit code: 0 on success, 2 when the input is missing or malformed, `--jobs` is not
        a number of processes, or `--out` cannot be written.
    """
    args = parse_args(argv, prog, "Figures and tables of a Matryoshka run or sweep directory.", jobs=True)
    try:
        jobs = jobs_allowed(args.jobs)
        with worker_pool(jobs - 1) as workers:
            # Imported only now that the workers are starting, which import the same meanwhile.
            from matryoshka.analysis.suite import analyze

            report = analyze(args.dir, args.out or args.dir / "figures", workers)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {report}")
    return 0
