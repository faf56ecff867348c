"""The analyses `matryoshka analyze` runs, in report order, and running them all into one folder.

Core objects: ANALYSES, READ_LEVELS, analyze.
"""

from __future__ import annotations

from pathlib import Path

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
from matryoshka.analysis.command import Workers
from matryoshka.analysis.entry import run_analyses, whole_folder
from matryoshka.analysis.io import load
from matryoshka.analysis.report import write_report

#: The analyses, in report order.
ANALYSES = (drift, telephone, wants, competence, competence_axis, interventions, shift, lineage, occupancy,
            tables)
#: Those that read every run's per-step series (`READS_LEVELS`): they run in the process that read them.
READ_LEVELS = frozenset(m.NAME for m in ANALYSES if getattr(m, "READS_LEVELS", False))


def analyze(directory: Path, out: Path, workers: Workers | None = None) -> Path:
    """Read a run or sweep directory, run every analysis on it into `out`, and write `report.html`.

    Every input file is read and checked before anything is written; the folder is written
    whole, into a temporary folder renamed to `out` at the end, so a failure leaves no half
    report. With workers the analyses are shared with them (`run_analyses`); the files and the
    lines printed are the same.

    Returns:
        Where the report is.

    Raises:
        InputError: The input is missing or malformed, or `out` cannot be written.
    """
    data = load(directory)
    for note in data.notes:
        print(note)
    with whole_folder(out) as tmp:
        sections, skipped = run_analyses(data, tmp, [(m.NAME, m.analyse) for m in ANALYSES], out,
                                         workers, READ_LEVELS)
        return out / write_report(data, tmp, sections, skipped).relative_to(tmp)
