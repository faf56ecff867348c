"""How agents and their world look in the browser view (``app.py``).

An agent's look is a Mesa ``AgentPortrayalStyle``: the colour says how well its objective agrees
with the base objective (a diverging map: blue aligned, white unrelated, red opposed, grey when
undefined); the marker and size say its level (organism circle, Level-2 tool triangle, Level-3
tool square, deeper tools diamond; tools are larger and outlined). ``world_svg`` draws the grid
as inline SVG: a feature as a property layer, the walls, the scenario's marked cells, the agents
with hover tooltips, and the legends. A selected agent's builder chain (up to its Level-1
organism) and its tools are ringed and joined by a line; ``chain_rows`` lists that chain with
each agent's alignment with its builder and with the base objective.

Core Objects: agent_portrayal, alignment_color, world_svg, chain_rows.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex
from mesa.visualization.components import AgentPortrayalStyle, PropertyLayerStyle

ALIGNMENT_CMAP = "RdBu"  # -1 red, 0 white, +1 blue
UNDEFINED_COLOR = "#9e9e9e"
MARKERS = {1: "o", 2: "^", 3: "s"}
DEEPER_MARKER = "D"
SIZES = {1: 25, 2: 36, 3: 49}  # Mesa's marker area units; radius = cell * sqrt(size) / 20
DEEPER_SIZE = 64
TOOL_EDGE = "#212121"
ORGANISM_EDGE = "#616161"
FEATURE_STYLE = PropertyLayerStyle(colormap="YlGn", alpha=0.85)
WALL_STYLE = PropertyLayerStyle(color="#37474f", alpha=1.0, colorbar=False)
MARK_COLOR = "#000000"  # a marked cell whose scenario declares no colour for it
GRID_PX = 504  # the grid's longer side, in pixels
LEGEND_PX = 74
MIN_WIDTH_PX = 480  # room for the legend under a small grid
CHAIN_COLOR = "#ff6f00"  # the selected agent's chain: rings and the line that joins them
FADED_OPACITY = 0.25  # agents outside the selected chain
_ALIGNMENT_TABLE = [to_hex(rgba) for rgba in colormaps[ALIGNMENT_CMAP](np.linspace(0, 1, 201))]


def alignment_color(value: float) -> str:
    """The colour of an alignment in [-1, 1] (clipped); grey when it is undefined (NaN)."""
    if not math.isfinite(value):
        return UNDEFINED_COLOR
    return _ALIGNMENT_TABLE[round((min(max(value, -1.0), 1.0) + 1) * 100)]


def _jitter(unique_id: int) -> tuple[float, float]:
    """A fixed offset inside the cell, so that agents sharing a cell do not hide each other."""
    return ((unique_id * 0.6180339887) % 1 - 0.5) * 0.6, ((unique_id * 0.7548776662) % 1 - 0.5) * 0.6


def agent_portrayal(agent: Any) -> AgentPortrayalStyle:
    """Portray an organism or a tool.

    Args:
        agent: An agent with ``kind``, ``level``, ``pos``, ``unique_id``, ``generation``,
            ``align_base``, ``genome`` and ``model`` (tools also have ``builder``).

    Returns:
        Its style: position (with a small fixed offset inside the cell), colour by alignment with
        the base objective, marker and size by level, and the tooltip fields.
    """
    level, align = int(agent.level), float(agent.align_base)
    dx, dy = _jitter(agent.unique_id)
    weights = agent.genome.top_weights(agent.model.preset.features)
    tooltip = {
        agent.kind: agent.unique_id,
        "level": level,
        "generation": agent.generation,
        "alignment with base": f"{align:+.2f}" if math.isfinite(align) else "undefined",
        "top weights": ", ".join(f"{name} {w:+.2f}" for name, w in weights),
    }
    tool = agent.kind == "tool"
    if tool:
        tooltip["built by"] = agent.builder
    return AgentPortrayalStyle(
        x=agent.pos[0] + dx,
        y=agent.pos[1] + dy,
        color=alignment_color(align),
        marker=MARKERS.get(level, DEEPER_MARKER),
        size=SIZES.get(level, DEEPER_SIZE),
        zorder=level,
        alpha=0.9,
        edgecolors=TOOL_EDGE if tool else ORGANISM_EDGE,
        linewidths=1.5 if tool else 0.5,
        tooltip=tooltip,
    )


def _shape(marker: str, cx: float, cy: float, r: float, attrs: str, title: str = "") -> str:
    """One SVG marker (``o``, ``^``, ``s`` or ``D``) centred on ``(cx, cy)``."""
    inner = f"<title>{escape(title)}</title>" if title else ""
    if marker == "o":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" {attrs}>{inner}</circle>'
    if marker == "s":
        s = 0.9 * r
        box = f'x="{cx - s:.1f}" y="{cy - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}"'
        return f"<rect {box} {attrs}>{inner}</rect>"
    if marker == "^":
        pts = [(cx, cy - 1.15 * r), (cx - r, cy + 0.6 * r), (cx + r, cy + 0.6 * r)]
    else:
        pts = [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    return f'<polygon points="{points}" {attrs}>{inner}</polygon>'


def _text(x: float, y: float, text: str, anchor: str = "start", color: str = "#212121") -> str:
    """A label with a white halo, readable on any cell colour."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{color}" stroke="#ffffff" '
        f'stroke-width="3" stroke-opacity="0.8" paint-order="stroke">{escape(text)}</text>'
    )


def _outline(x: float, y: float, size: float, color: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{size:.1f}" height="{size:.1f}" fill="none" '
        f'stroke="{color}" stroke-width="2.5"/>'
    )


def _gradient(gid: str, cmap: str) -> str:
    stops = "".join(
        f'<stop offset="{t:.2f}" stop-color="{to_hex(colormaps[cmap](t))}"/>' for t in np.linspace(0, 1, 11)
    )
    return f'<linearGradient id="{gid}">{stops}</linearGradient>'


def _colorbar(x: float, y: float, gid: str, title: str, low: str, high: str) -> list[str]:
    bar = f'<rect x="{x}" y="{y + 4}" width="150" height="10" fill="url(#{gid})"/>'
    return [_text(x, y, title), bar, _text(x, y + 26, low), _text(x + 150, y + 26, high, "end")]


class _Canvas:
    """Pixel geometry of a ``width x height`` grid drawn with ``cell``-pixel cells, ``y`` upwards."""

    def __init__(self, width: int, height: int) -> None:
        self.w, self.h = width, height
        self.cell = max(6, GRID_PX // max(width, height))

    def top(self, y: float) -> float:
        """SVG ``y`` of the top edge of grid row ``y``."""
        return (self.h - 1 - y) * self.cell


def _cells(cv: _Canvas, values: np.ndarray, walls: np.ndarray, low: float, high: float) -> list[str]:
    """The property layer, one square per cell, and the walls."""
    shade = colormaps[FEATURE_STYLE.colormap]((values - low) / ((high - low) or 1.0)).reshape(-1, 4)
    rgb = (shade[:, :3] * 255).round().astype(int).reshape(cv.w, cv.h, 3)
    c, out = cv.cell, [f'<g fill-opacity="{FEATURE_STYLE.alpha}">']
    for x in range(cv.w):
        for y in range(cv.h):
            fill = WALL_STYLE.color if walls[x, y] else "#{:02x}{:02x}{:02x}".format(*rgb[x, y])
            out.append(f'<rect x="{x * c}" y="{cv.top(y)}" width="{c}" height="{c}" fill="{fill}"/>')
    return [*out, "</g>"]


def _agents(cv: _Canvas, agents: Any, chain: set[int]) -> list[str]:
    """Every agent's marker, tools on top, each with its tooltip and its id (for clicks).

    When an agent is selected (``chain`` holds the ids of its builder chain and its tools), the
    other agents fade.
    """
    out = []
    for agent, s in sorted(((a, agent_portrayal(a)) for a in agents), key=lambda p: p[1].zorder):
        alpha = s.alpha if not chain or agent.unique_id in chain else FADED_OPACITY
        attrs = (
            f'data-agent="{agent.unique_id}" fill="{s.color}" fill-opacity="{alpha}" '
            f'stroke="{s.edgecolors}" stroke-opacity="{alpha}" stroke-width="{s.linewidths}"'
        )
        tip = "\n".join(f"{k}: {v}" for k, v in s.tooltip.items())
        r = cv.cell * math.sqrt(s.size) / 20
        out.append(_shape(s.marker, (s.x + 0.5) * cv.cell, cv.top(s.y) + cv.cell / 2, r, attrs, tip))
    return out


def chain_slots(pop: Any, slot: int) -> list[int]:
    """The slots of an agent's chain: its builders up to Level 1, itself, then its tools, top first.

    Args:
        pop: The model's ``Population``.
        slot: The agent's slot.
    """
    up, s = [], int(pop["builder_slot"][slot])
    while s >= 0:
        up.append(s)
        s = int(pop["builder_slot"][s])
    down, s = [], int(pop["tool_slot"][slot])
    while s >= 0:
        down.append(s)
        s = int(pop["tool_slot"][s])
    return [*reversed(up), slot, *down]


def _slot_of(model: Any, agent_id: int | None) -> int | None:
    """The slot of the live agent with this id, or None."""
    if agent_id is None:
        return None
    pop = model.pop
    found = np.flatnonzero(pop.alive & (pop["id"] == agent_id))
    return int(found[0]) if len(found) else None


def _chain_marks(cv: _Canvas, model: Any, slots: list[int], selected: int) -> list[str]:
    """Rings around the chain's agents (a double ring on the selected one) and the line joining them."""
    pop = model.pop
    points = []
    for s in slots:
        x, y = model.world.xy(pop["pos"][s])
        dx, dy = _jitter(int(pop["id"][s]))
        points.append(((x + dx + 0.5) * cv.cell, cv.top(y + dy) + cv.cell / 2))
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    ring = f'fill="none" stroke="{CHAIN_COLOR}" stroke-width="2.5"'
    out = [f'<polyline class="matryoshka-chain" points="{path}" fill="none" stroke="{CHAIN_COLOR}" '
           'stroke-width="2" stroke-dasharray="4 3" pointer-events="none"/>']  # fmt: skip
    for s, (x, y) in zip(slots, points, strict=True):
        r = cv.cell * 0.42
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {ring} pointer-events="none"/>')
        if s == selected:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r + 4:.1f}" {ring} pointer-events="none"/>')
    return out


def chain_rows(model: Any, agent_id: int | None) -> list[dict[str, Any]] | None:
    """The selected agent's chain up to Level 1, and its tools, one row per agent, Level 1 first.

    Args:
        model: A ``MatryoshkaModel``.
        agent_id: The selected agent's id.

    Returns:
        None when no live agent has that id; else per agent: ``id``, ``kind``, ``level``,
        ``selected``, and its alignment with its builder (an organism's: with its parent) and with
        the base objective, on training and on deployment cells (NaN where undefined).
    """
    slot = _slot_of(model, agent_id)
    if slot is None:
        return None
    pop = model.pop
    return [
        {
            "id": int(pop["id"][s]), "kind": "organism" if pop["level"][s] == 1 else "tool",
            "level": int(pop["level"][s]), "selected": s == slot,
            **{k: float(pop[k][s]) for k in ("align_parent_train", "align_parent_deploy",
                                                "align_base_train", "align_base_deploy")},
        }  # fmt: skip
        for s in chain_slots(pop, slot)
    ]


def _marks(cv: _Canvas, marks: dict[str, tuple[int, int]], colors: dict[str, str]) -> list[str]:
    """Outlined, labelled marked cells in the scenario's colours; marks that share a cell nest."""
    out, seen, c = [], {}, cv.cell
    for name, (x, y) in marks.items():
        k = seen[(x, y)] = seen.get((x, y), -1) + 1
        color = colors.get(name, MARK_COLOR)
        out.append(_outline(x * c + 1 + 3 * k, cv.top(y) + 1 + 3 * k, c - 2 - 6 * k, color))
        label_y = cv.top(y) - 3 - 11 * k if y < cv.h - 1 else cv.top(y) + c + 11 + 11 * k
        anchor = "start" if x == 0 else "end" if x == cv.w - 1 else "middle"  # keep labels inside
        label_x = {"start": x * c, "end": (x + 1) * c, "middle": (x + 0.5) * c}[anchor]
        out.append(_text(label_x, label_y, name, anchor, color))
    return out


def _legend(
    y0: float, feature: str, low: float, high: float, marks: dict[str, Any], colors: dict[str, str]
) -> list[str]:
    """Colour bars for alignment and the feature, then the markers and the marked cells."""
    out = _colorbar(4, y0, "g-align", "alignment with base objective", "-1", "+1")
    out += [f'<rect x="160" y="{y0 + 4}" width="10" height="10" fill="{UNDEFINED_COLOR}"/>']
    out += [_text(174, y0 + 13, "undefined")]
    out += _colorbar(250, y0, "g-feature", feature, f"{low:.2f}", f"{high:.2f}")
    x, y = 8.0, y0 + 46
    for level, label in ((1, "organism"), (2, "tool L2"), (3, "tool L3"), (4, "deeper tool")):
        edge = ORGANISM_EDGE if level == 1 else TOOL_EDGE
        out.append(_shape(MARKERS.get(level, DEEPER_MARKER), x, y - 4, 6, f'fill="#ffffff" stroke="{edge}"'))
        out.append(_text(x + 9, y, label))
        x += 18 + 6.5 * len(label)
    for name in marks:
        out += [_outline(x - 6, y - 10, 12, colors.get(name, MARK_COLOR)), _text(x + 9, y, name)]
        x += 18 + 6.5 * len(name)
    return out


def world_svg(model: Any, feature: str, selected: int | None = None) -> str:
    """Draw the model's world as an SVG string.

    Args:
        model: A ``MatryoshkaModel`` (its ``grid`` property layers, ``world.marks`` and agents).
        feature: The property layer to shade the cells by.
        selected: The id of the selected agent, if any: its chain is highlighted.

    Returns:
        An ``<svg class="matryoshka-world">`` element that scales to the width it is given: ``x``
        grows to the right and ``y`` upwards; each agent's marker holds a ``<title>`` tooltip and
        its id as ``data-agent``.
    """
    cv = _Canvas(model.grid.width, model.grid.height)
    values = getattr(model.grid, feature).data.astype(float)
    walls = model.grid.wall.data > 0
    free = values[~walls] if (~walls).any() else values.ravel()
    low = float(free.min()) if FEATURE_STYLE.vmin is None else FEATURE_STYLE.vmin
    high = float(free.max()) if FEATURE_STYLE.vmax is None else FEATURE_STYLE.vmax
    width, height = max(cv.w * cv.cell, MIN_WIDTH_PX), cv.h * cv.cell + LEGEND_PX
    defs = _gradient("g-align", ALIGNMENT_CMAP) + _gradient("g-feature", FEATURE_STYLE.colormap)
    slot = _slot_of(model, selected)
    slots = chain_slots(model.pop, slot) if slot is not None else []
    chain = {int(model.pop["id"][s]) for s in slots}
    return "".join([
        f'<svg class="matryoshka-world" xmlns="http://www.w3.org/2000/svg" width="100%" '
        f'style="max-width: {width}px; height: auto" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="11">',
        f"<defs>{defs}</defs>",
        *_cells(cv, values, walls, low, high),
        *_agents(cv, model.agents, chain),
        *(_chain_marks(cv, model, slots, slot) if slots else []),
        *_marks(cv, model.world.marks, model.preset.marks),
        *_legend(cv.h * cv.cell + 14, feature, low, high, model.world.marks, model.preset.marks),
        "</svg>",
    ])  # fmt: skip
