"""What an analysis returns: a titled section of the report, or a reason it does not apply.

Core objects: Section, NotApplicable, write_section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from matryoshka.analysis.style import save


class NotApplicable(Exception):
    """The analysis does not apply to this data; the message says why in one line."""


@dataclass(frozen=True, eq=False)
class Section:
    """One analysis's output.

    Attributes:
        name: File stem and identifier, e.g. "drift".
        title: Heading in the report.
        caption: How to read the figure: what is plotted, over what, with what interval.
        figures: The PNG and SVG files written (a pair per figure).
        table: The numbers behind the figure (shown in the report).
        csv: Where the table was written.
        extra: Other files written (e.g. a Markdown copy of the table).
    """

    name: str
    title: str
    caption: str
    figures: tuple[Path, ...] = ()
    table: pd.DataFrame | None = None
    csv: Path | None = None
    extra: tuple[Path, ...] = ()


def write_section(out: Path, name: str, title: str, caption: str,
                  fig: Figure | Sequence[Figure] | None, table: pd.DataFrame,
                  display: pd.DataFrame | None = None, extra: tuple[Path, ...] = ()) -> Section:
    """Save a figure or figures (PNG and SVG) and its table (CSV) under `out` and describe them.

    Args:
        out: The figure directory.
        name: File stem.
        title: Heading in the report.
        caption: How to read the figure.
        fig: The figure; several figures (the pages of `Dataset.pages`), saved as
            `<name>-1`, `<name>-2`, ...; or None for a table-only section.
        table: The numbers behind it, written to `<name>.csv`.
        display: A more readable form of the table for the report (default: `table`).
        extra: Other files the analysis wrote itself.

    Returns:
        The section.
    """
    out.mkdir(parents=True, exist_ok=True)
    pages = [] if fig is None else [fig] if isinstance(fig, Figure) else list(fig)
    stems = [name] if len(pages) == 1 else [f"{name}-{i}" for i in range(1, len(pages) + 1)]
    figures = tuple(path for page, stem in zip(pages, stems, strict=True)
                    for path in save(page, out, stem))
    csv = out / f"{name}.csv"
    table.to_csv(csv, index=False, float_format="%.10g")
    shown = table if display is None else display
    return Section(name, title, caption, figures, shown, csv, extra)
