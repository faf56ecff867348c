"""The report: one offline HTML page with every figure that applies, its caption and its table.

Figures and tables are referenced by paths relative to the page, so the folder can be moved or
mailed; no script, font or style sheet is fetched from anywhere.

Core objects: write_report.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from matryoshka.analysis.dataset import Dataset
from matryoshka.analysis.entry import Skipped
from matryoshka.analysis.section import Section
from matryoshka.analysis.style import DPI

MAX_ROWS = 40
CSS = """
body { font-family: system-ui, sans-serif; max-width: 78rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
.caption { color: #444; margin-top: 0.4rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.15rem 0.5rem; text-align: right; }
th { background: #f3f3f3; } .note { color: #666; font-size: 0.9rem; }
.wide { overflow-x: auto; }
"""


def _css_width(png: Path) -> int:
    """The width at which a PNG shows its figure at print size (96 CSS px per inch).

    Every figure then shows its text at the same size, however many panels it has.
    """
    with png.open("rb") as file:
        header = file.read(24)  # signature, IHDR length and type, then width (big-endian)
    return round(int.from_bytes(header[16:20], "big") * 96 / DPI)


def _link(path: Path, out: Path) -> str:
    """A URL to `path`, relative to the report's folder."""
    return quote(Path(os.path.relpath(path, out)).as_posix())


def _ordered(values: pd.Series, data: Dataset) -> list:
    """Distinct values in reading order (selection modes, tool policies as declared; numbers ascending)."""
    return sorted(values.unique(), key=data.legend.key)


def _describe(data: Dataset) -> str:
    """One paragraph on what was analysed."""
    scenarios = sorted({run.scenario for run in data.runs})
    what = (f"one run ({html.escape(data.runs[0].run_id)})" if data.kind == "run"
            else f"a sweep of {len(data.runs)} complete runs")
    axes = ", ".join(f"{a} ∈ {{{', '.join(map(str, _ordered(data.summary[a], data)))}}}"
                     for a in data.axes) or "none"
    notes = "".join(f"<br>{html.escape(n)}" for n in data.notes)
    return (f"<p>Source: <code>{html.escape(str(data.path))}</code>: {what} of "
            f"{html.escape(', '.join(scenarios))}. Sweep axes: {html.escape(axes)}.{notes}</p>")


def _section(section: Section, out: Path) -> str:
    """The HTML of one section: figure, caption, table and links."""
    parts = [f'<section id="{html.escape(section.name)}"><h2>{html.escape(section.title)}</h2>']
    pngs = [f for f in section.figures if f.suffix == ".png"]
    for png in pngs:
        image = (f'<img src="{_link(png, out)}" width="{_css_width(png)}" '
                 f'alt="{html.escape(section.title)}">')
        svg = png.with_suffix(".svg")
        if svg in section.figures:
            image = f'<a href="{_link(svg, out)}">{image}</a>'
        parts.append(f"<figure>{image}</figure>")
    parts.append(f'<p class="caption">{html.escape(section.caption)}</p>')
    files = [*section.figures, *([section.csv] if section.csv else []), *section.extra]
    links = " · ".join(f'<a href="{_link(f, out)}">{html.escape(f.name)}</a>' for f in files)
    parts.append(f'<p class="note">Files: {links}</p>')
    if section.table is not None and not section.table.empty:
        table = section.table
        if len(table) > MAX_ROWS:
            parts.append(f'<p class="note">First {MAX_ROWS} of {len(table)} rows; the CSV has '
                         "all of them.</p>")
        rows = table.head(MAX_ROWS).to_html(index=False, border=0, na_rep="",
                                            float_format=lambda v: f"{v:.4g}")
        parts.append(f'<div class="wide">{rows}</div>')
    parts.append("</section>")
    return "\n".join(parts)


def write_report(data: Dataset, out: Path, sections: Sequence[Section],
                 skipped: Sequence[Skipped]) -> Path:
    """Write `report.html` into `out` (atomically) and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    contents = "".join(f'<li><a href="#{html.escape(s.name)}">{html.escape(s.title)}</a></li>'
                       for s in sections)
    skipped_html = "".join(f"<li><b>{html.escape(s.name)}</b>: {html.escape(s.reason)}</li>"
                           for s in skipped)
    page = "\n".join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>Matryoshka analysis: {html.escape(data.path.resolve().name)}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Matryoshka analysis</h1>", _describe(data),
        f"<nav><ul>{contents}</ul></nav>",
        *(_section(s, out) for s in sections),
        (f'<section id="skipped"><h2>Not applicable to this data</h2><ul>{skipped_html}</ul>'
         "</section>") if skipped else "",
        "</body></html>\n",
    ])
    report = out / "report.html"
    partial = out / ".report.html.partial"
    partial.write_text(page, encoding="utf-8")
    partial.replace(report)
    return report


if __name__ == "__main__":
    from matryoshka.analysis.cli import main

    raise SystemExit(main(prog="python -m matryoshka.analysis.report"))
