"""Figure style: the Okabe-Ito colour-blind-safe palette, condition styles, and saving.

Figures are `matplotlib.figure.Figure` objects drawn on the Agg canvas: no pyplot, no global
state, no display needed.

Core objects: OKABE_ITO, new_figure, condition_styles, n_text, row_label, condition_handles, annotate_n,
plot_band, mark_empty, save.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from matryoshka.analysis.dataset import condition_label

OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Line colours in order of use; yellow is left out, it is hard to see on white.
CYCLE = tuple(OKABE_ITO[c] for c in ("blue", "vermillion", "bluish_green", "orange",
                                      "reddish_purple", "sky_blue", "black"))
#: Fixed colours for known condition values, so a value looks the same in every figure.
#: (Tool policies declare their own colours; the runs write them into their manifests.)
VALUE_COLOURS = {"train": OKABE_ITO["blue"], "deploy": OKABE_ITO["vermillion"],
                 "generational": OKABE_ITO["blue"], "steady_state": OKABE_ITO["orange"],
                 "neutral": OKABE_ITO["black"]}
#: The neutral (null-model) baseline is dotted wherever it appears.
SELECTION_LINESTYLES = {"generational": "-", "steady_state": "--", "neutral": ":"}
#: Perceptually uniform, colour-blind-safe colour maps.
SEQUENTIAL_CMAP = "viridis"
ALIGNMENT_CMAP = "cividis"
DPI = 150
#: Settings for saving: an SVG's element ids are hashed with this salt rather than a random one, so
#: that the same figure is saved as the same bytes.
SAVE_RC = {"svg.hashsalt": "matryoshka"}


def new_figure(nrows: int = 1, ncols: int = 1, panel: tuple[float, float] = (3.6, 2.8),
               **subplots: object) -> tuple[Figure, np.ndarray]:
    """A figure with a grid of panels of the given size in inches.

    Returns:
        The figure and a 2-D array of its axes.
    """
    fig = Figure(figsize=(panel[0] * ncols + 0.6, panel[1] * nrows + 1.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplots)
    return fig, axes


def condition_styles(conditions: Sequence[Mapping[str, object]], empty: str = "all runs",
                     colours: Mapping[str, str] | None = None) -> list[dict]:
    """Line styles for conditions: colour from the non-selection values, line style from selection.

    Args:
        conditions: Each a mapping axis -> value, e.g. {"selection": "neutral"}.
        empty: The label of the empty condition (no hue axes).
        colours: Colours the runs declare for some values (their tool policies: `Legend.colours`).

    Returns:
        One dict of `color`, `linestyle` and `label` per condition.
    """
    keys: list[tuple] = []
    styles = []
    for condition in conditions:
        rest = tuple((k, v) for k, v in condition.items() if k != "selection")
        if rest not in keys:
            keys.append(rest)
        selection = str(condition.get("selection", ""))
        # One varying value names its colour; selection alone too (neutral is black).
        named = rest[0][1] if len(rest) == 1 else (selection if not rest else None)
        colour = ((colours or {}).get(str(named)) or VALUE_COLOURS.get(str(named))
                  or CYCLE[keys.index(rest) % len(CYCLE)])
        styles.append({"color": colour, "linestyle": SELECTION_LINESTYLES.get(selection, "-"),
                       "label": condition_label(condition, empty)})
    return styles


def n_text(counts: Sequence[float] | np.ndarray) -> str:
    """The seeds behind a line's points: `n = 3`, or `n = 2-3` where points differ."""
    values = np.asarray(counts, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return "n = 0"
    low, high = int(values.min()), int(values.max())
    return f"n = {low}" if low == high else f"n = {low}–{high}"


def row_label(condition: Mapping[str, object], counts: Sequence[float], quantity: str) -> str:
    """The y label of a row of panels for one condition: its values, its seeds, the quantity."""
    lines = [f"{k}={v}" for k, v in condition.items()]
    return "\n".join([*lines, f"({n_text(counts)})", quantity])


def condition_handles(styles: Sequence[Mapping], counts: Sequence[str]) -> list[Line2D]:
    """Legend entries for `condition_styles`, each label followed by its seeds, e.g. `(n = 3)`."""
    return [Line2D([], [], color=s["color"], linestyle=s["linestyle"], marker="o", markersize=3,
                   label=f"{s['label']} ({n})")
            for s, n in zip(styles, counts, strict=True)]


def annotate_n(ax: Axes, x: Sequence[float], y: Sequence[float], n: Sequence[float],
               **style: object) -> None:
    """Write each point's number of seeds beside it, in the line's colour."""
    for xi, yi, ni in zip(x, y, n, strict=True):
        if np.isfinite(yi):
            ax.annotate(f"n={int(ni)}", (xi, yi), textcoords="offset points", xytext=(4, 4),
                        fontsize="x-small", color=style.get("color", "grey"))


def plot_band(ax: Axes, x: Sequence[float], mean: Sequence[float], low: Sequence[float],
              high: Sequence[float], **style: object) -> None:
    """A mean line with markers and, where defined, a shaded 95% interval."""
    x, mean, low, high = (np.asarray(v, dtype=float) for v in (x, mean, low, high))
    marker = "o" if len(x) <= 60 else None  # long step series: a line reads better than dots
    ax.plot(x, mean, marker=marker, markersize=3, linewidth=1.6, **style)
    if np.isfinite(low).any():
        ax.fill_between(x, low, high, color=style.get("color"), alpha=0.2, linewidth=0)


def mark_empty(ax: Axes, text: str = "no agents at this level") -> None:
    """Say so in a panel that has nothing to plot, rather than leave it blank."""
    if not any(len(line.get_xdata()) for line in ax.get_lines()):
        ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
                color="grey")


def save(fig: Figure, out: Path, name: str) -> tuple[Path, Path]:
    """Write a figure as `<name>.png` and `<name>.svg` into `out`.

    Returns:
        The PNG and SVG paths.
    """
    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{name}.png", out / f"{name}.svg"
    with rc_context(SAVE_RC):
        fig.savefig(png, dpi=DPI, metadata={"Software": None})
        # The layout is settled by the first save; reusing it halves the cost of the second.
        fig.set_layout_engine("none")
        fig.savefig(svg, metadata={"Date": None})
    return png, svg
