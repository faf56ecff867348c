"""`matryoshka plot DIR --metric KEY --by AXIS [--hue AXIS] [--out FILE]`: any metric against any axis.

A generic figure for a question no shipped analysis asks: one summary metric of a sweep (a
`<phase>/L<level>/<metric>` column, the last episode of that phase) against one sweep axis, a
line per value of a second axis, and a panel for each combination of the remaining axes, so
that no two parameter values are ever averaged together. Points are means over the seeds of
their condition with the 95% interval (the score interval for shares) and their n. Panels that
do not fit one figure go on to `FILE-2.png`, `FILE-3.png`, ...; the numbers are in `FILE.csv`.

Core objects: plot_metric, main.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure

from matryoshka.analysis.dataset import Dataset, Legend, Page, condition_label
from matryoshka.analysis.io import InputError, load
from matryoshka.analysis.series import select
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import (
    DPI,
    SAVE_RC,
    annotate_n,
    condition_handles,
    condition_styles,
    n_text,
    new_figure,
    plot_band,
)
from matryoshka.model.contract import parse_summary_key

#: The most panels (conditions of the axes that are neither --by nor --hue) in one figure.
PANELS_PER_FIGURE = 6
PANEL_COLUMNS = 3


def _closest(name: str, known: Sequence[str], what: str) -> str:
    """`closest: a, b, c` (the nearest valid names), or all valid names when few or none is near."""
    near = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    if near:
        return "closest: " + ", ".join(near)
    return f"{what}: " + (", ".join(known) if known else "none")


def check(data: Dataset, metric: str, by: str, hue: str | None) -> None:
    """Check the metric and the axes before anything is drawn.

    Raises:
        InputError: The metric is not a summary column of the runs, or an axis is not one of
            the sweep's axes (naming the closest valid names).
    """
    metrics = [c for c in data.summary.columns if parse_summary_key(c)]
    if metric not in metrics:
        raise InputError(f"--metric {metric!r} is not a summary metric of {data.path} (expected "
                         f"<phase>/L<level>/<metric>); {_closest(metric, metrics, 'metrics')}")
    for option, axis in (("--by", by), ("--hue", hue)):
        if axis is None or axis in data.axes:
            continue
        fixed = (f": it is {data.summary[axis].iloc[0]!r} in every run"
                 if axis in data.params else "")
        raise InputError(f"{option} {axis!r} is not an axis of {data.path}{fixed}; the axes are "
                         "the parameters that vary across its runs; "
                         f"{_closest(axis, data.axes, 'axes')}")
    if hue == by:
        raise InputError(f"--hue {hue!r} is the --by axis: choose another axis for the lines")


def _tidy(data: Dataset, metric: str) -> pd.DataFrame:
    """One row per run: its axis values and the metric's value."""
    return data.summary[["run_id", *data.axes]].assign(
        value=data.summary[metric].astype(float)).dropna(subset=["value"])


def _categories(values: pd.Series, legend: Legend) -> list | None:
    """The values of a non-numeric axis in reading order (their x positions are 0, 1, ...)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return None
    return sorted(values.unique(), key=legend.key)


def _figure(table: pd.DataFrame, page: Page, metric: str, by: str, hue: str | None,
            lines: list[dict], share: bool) -> Figure:
    """One figure: a panel per condition of the page, `by` on the x-axis, a line per hue value."""
    columns = min(PANEL_COLUMNS, len(page.conditions))
    rows = -(-len(page.conditions) // columns)
    fig, axes = new_figure(rows, columns, panel=(4.2, 3.2), sharex=True, sharey=True)
    styles = condition_styles(lines, "all runs", page.legend.colours)
    counts: list[list[float]] = [[] for _ in lines]
    categories = _categories(table[by], page.legend)
    for ax, panel in zip(axes.flat, page.conditions, strict=False):
        for k, (line, style) in enumerate(zip(lines, styles, strict=True)):
            part = select(table, {**panel, **line}).sort_values(by, key=lambda s: s.map(page.legend.key))
            x = (part[by].to_numpy(dtype=float) if categories is None
                 else np.array([categories.index(v) for v in part[by]], dtype=float))
            plot_band(ax, x, part["mean"], part["ci_low"], part["ci_high"], **style)
            annotate_n(ax, x, part["mean"], part["n"], **style)
            counts[k] += part["n"].tolist()
        ax.set_title(condition_label(page.inner(panel), ""), fontsize="medium")
        if share:
            ax.set_ylim(-0.02, 1.02)
    for ax in axes.flat[len(page.conditions):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(by)
        if categories is not None:
            ax.set_xticks(range(len(categories)), [str(c) for c in categories])
    for ax in axes[:, 0]:
        ax.set_ylabel(metric)
    if hue is not None:
        handles = condition_handles(styles, [n_text(c) for c in counts])
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4))
    fig.suptitle(page.title(f"{metric} by {by}" + (f" and {hue}" if hue else "")))
    return fig


def plot_metric(data: Dataset, metric: str, by: str, hue: str | None = None,
                out: Path | None = None) -> list[Path]:
    """Plot a summary metric against a sweep axis; write the figure(s) and the CSV behind them.

    Args:
        data: The sweep.
        metric: A summary column, e.g. `deploy/L2/align_parent_deploy`.
        by: The axis on the x-axis.
        hue: An axis whose values get a line each (optional).
        out: The figure file (PNG or SVG by its suffix; default
            `DIR/figures/plot_<metric>_by_<by>.png`).

    Returns:
        The files written: the figure (or one per page) and the CSV.

    Raises:
        InputError: An unknown metric or axis (before anything is written).
    """
    check(data, metric, by, hue)
    parsed = parse_summary_key(metric)
    share = parsed is not None and data.metrics.get(parsed[2]) is not None \
        and data.metrics[parsed[2]].share
    panels = [a for a in data.axes if a not in (by, hue)]
    table = summarise(_tidy(data, metric), [*panels, *([hue] if hue else []), by], shares=share)
    lines = data.conditions([hue]) if hue else [{}]
    pages = data.pages(panels, per_page=PANELS_PER_FIGURE)
    if out is None:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"plot_{metric}_by_{by}")
        out = data.path / "figures" / f"{stem}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for page in pages:
        fig = _figure(table, page, metric, by, hue, lines, share)
        name = out if len(pages) == 1 else out.with_name(f"{out.stem}-{page.number}{out.suffix}")
        with rc_context(SAVE_RC):
            fig.savefig(name, dpi=DPI, metadata={"Software": None} if name.suffix == ".png"
                        else {"Date": None})
        written.append(name)
    csv = out.with_suffix(".csv")
    table.insert(0, "metric", metric)
    table.to_csv(csv, index=False, float_format="%.10g")
    return [*written, csv]


def main(argv: Sequence[str] | None = None, prog: str = "matryoshka plot") -> int:
    """The `plot` command: 0 on success, 2 on bad input (one `error:` line, nothing written)."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="a sweep directory")
    parser.add_argument("--metric", required=True,
                        help="a summary metric, <phase>/L<level>/<metric>, e.g. deploy/L1/reached_exit")
    parser.add_argument("--by", required=True, help="the sweep axis on the x-axis")
    parser.add_argument("--hue", help="a sweep axis whose values get a line each")
    parser.add_argument("--out", type=Path, help="figure file, .png or .svg "
                        "(default DIR/figures/plot_<metric>_by_<by>.png)")
    args = parser.parse_args(argv)
    if args.out is not None and args.out.suffix not in (".png", ".svg"):
        print(f"error: --out {str(args.out)!r} is not allowed: expected a .png or .svg file",
              file=sys.stderr)
        return 2
    try:
        written = plot_metric(load(args.dir), args.metric, args.by, args.hue, args.out)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"plot: wrote {', '.join(str(p) for p in written)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(prog="python -m matryoshka.analysis.plot"))
