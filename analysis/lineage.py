"""Lineage: one lineage's parent and builder edges, nodes coloured by alignment with the base.

Reads `lineage.graphml` of one run. Takes the root of the latest-born agent's line, keeps the
lines of descent to the last generation, then the tools (and tools of tools) built along them,
then other offspring, up to a node cap, and draws the tree top-down.

Core objects: MAX_NODES, pick_lineage, tree_layout, analyse.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from matryoshka.analysis.dataset import Dataset
from matryoshka.analysis.io import InputError
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.style import ALIGNMENT_CMAP, OKABE_ITO, new_figure

NAME = "lineage"
TITLE = "Lineage"
MAX_NODES = 300
KIND_MARKERS = {1: ("o", "organism"), 2: ("s", "Level-2 tool"), 3: ("D", "Level-3 tool")}
EDGE_STYLES = {"parent": {"colors": "#555555", "linestyles": "solid", "linewidths": 0.8},
               "builder": {"colors": OKABE_ITO["orange"], "linestyles": "dashed",
                           "linewidths": 1.2}}


def _up(graph: nx.DiGraph, node: object) -> object | None:
    """The node's parent or builder, if any."""
    return next(iter(graph.predecessors(node)), None)


def pick_lineage(graph: nx.DiGraph, max_nodes: int = MAX_NODES) -> tuple[object, list]:
    """Choose one lineage and at most `max_nodes` of its nodes.

    Args:
        graph: Parent/builder edges, nodes with a `generation` attribute.
        max_nodes: The cap on nodes kept.

    Returns:
        The root and the kept nodes (a connected subtree containing the root).
    """
    def generation(node: object) -> float:
        return float(graph.nodes[node].get("generation", 0))

    latest = max(graph.nodes, key=lambda n: (generation(n), str(n)))
    root = latest
    while (up := _up(graph, root)) is not None:
        root = up
    members = nx.descendants(graph, root) | {root}
    if len(members) <= max_nodes:
        return root, sorted(members, key=str)
    # Lines of descent to the last generation first, then side branches breadth-first.
    last = max(generation(n) for n in members)
    keep: dict[object, None] = {root: None}
    for leaf in sorted((n for n in members if generation(n) == last), key=str):
        path = []
        node = leaf
        while node not in keep:
            path.append(node)
            node = _up(graph, node)
        if len(keep) + len(path) > max_nodes // 2:
            break
        keep.update(dict.fromkeys(path))
    # Tools first (the hand-offs this figure is about), then the other offspring.
    for relation in ("builder", None):
        queue = deque(keep)
        while queue and len(keep) < max_nodes:
            node = queue.popleft()
            for child in sorted(graph.successors(node), key=str):
                wanted = relation is None or graph.edges[node, child].get("relation") == relation
                if wanted and child not in keep and len(keep) < max_nodes:
                    keep[child] = None
                    queue.append(child)
    return root, list(keep)


def tree_layout(tree: nx.DiGraph, root: object) -> dict[object, tuple[float, float]]:
    """Tidy top-down positions: leaves one unit apart, a node centred over its children.

    Returns:
        Node -> (x, y), y = the number of hops from the root (drawn downwards).
    """
    depth = nx.single_source_shortest_path_length(tree, root)
    x: dict[object, float] = {}
    next_leaf = 0.0
    # Post-order without recursion: long lineages are deeper than Python's recursion limit.
    for node in nx.dfs_postorder_nodes(tree, root, sort_neighbors=lambda ns: sorted(ns, key=str)):
        children = list(tree.successors(node))
        if children:
            x[node] = (min(x[c] for c in children) + max(x[c] for c in children)) / 2
        else:
            x[node], next_leaf = next_leaf, next_leaf + 1.0
    return {n: (x[n], float(depth[n])) for n in x}


def analyse(data: Dataset, out: Path) -> Section:
    """Draw one lineage of the representative run.

    Raises:
        NotApplicable: The run wrote no lineage.graphml, or it is empty.
    """
    run = data.representative()
    graph = run.lineage
    if graph is None or graph.number_of_nodes() == 0:
        raise NotApplicable(f"{run.path / 'lineage.graphml'} is missing or empty")
    root, nodes = pick_lineage(graph)
    tree = graph.subgraph(nodes).copy()
    pos = tree_layout(tree, root)
    attrs = pd.DataFrame([{"id": n, "x": pos[n][0], "y": pos[n][1],
                           "kind": tree.nodes[n].get("kind"),
                           "level": int(tree.nodes[n].get("level", 1)),
                           "generation": tree.nodes[n].get("generation"),
                           "align_base_train": float(tree.nodes[n].get("align_base_train",
                                                                       np.nan))}
                          for n in pos])
    missing = [e for e in tree.edges if tree.edges[e].get("relation") not in EDGE_STYLES]
    if missing:
        raise InputError(f"{run.path / 'lineage.graphml'}: edge {missing[0]} has relation "
                         f"{tree.edges[missing[0]].get('relation')!r}; expected parent or builder")
    width = min(4.0 + 0.06 * (attrs["x"].max() + 1), 18.0)
    height = min(2.5 + 0.45 * (1 + attrs["y"].max()), 12.0)
    fig, axes = new_figure(1, 1, panel=(width, height))
    ax = axes[0, 0]
    for relation, style in EDGE_STYLES.items():
        segments = [(pos[u], pos[v]) for u, v, r in tree.edges(data="relation") if r == relation]
        ax.add_collection(LineCollection(segments, zorder=1, **style))
    norm = Normalize(-1.0, 1.0)
    cmap = colormaps[ALIGNMENT_CMAP].with_extremes(bad="lightgrey")
    mappable = None
    for level, (marker, _) in KIND_MARKERS.items():
        rows = attrs[attrs["level"] == level] if level < 3 else attrs[attrs["level"] >= 3]
        mappable = ax.scatter(rows["x"], rows["y"], c=rows["align_base_train"], marker=marker,
                              cmap=cmap, norm=norm, s=28, edgecolors="black",
                              linewidths=0.3, zorder=2, plotnonfinite=True)
    fig.colorbar(mappable, ax=ax, label="alignment with base objective,\ntraining cells "
                                        "(Pearson r)", shrink=0.8)
    handles = [Line2D([], [], color=s["colors"], linestyle=s["linestyles"], label=f"{r} edge")
               for r, s in EDGE_STYLES.items()]
    handles += [Line2D([], [], marker=m, color="grey", linestyle="none", label=label)
                for m, label in KIND_MARKERS.values()]
    ax.legend(handles=handles, loc="upper right", fontsize="small")
    ax.autoscale()
    ax.invert_yaxis()
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xticks([])
    ax.set_xlabel("descendants, side by side")
    ax.set_ylabel("hops from the root (parent or builder edges)")
    ax.set_title(f"Lineage of agent {root} in run {run.run_id}: {len(nodes)} of "
                 f"{len(nx.descendants(graph, root)) + 1} members shown", fontsize="medium")
    caption = ("One lineage of one run, drawn top-down from its founder: grey solid edges lead "
               "from parent to offspring, orange dashed edges from builder to tool. Colour is "
               "each agent's alignment with the base objective on training cells (grey: "
               f"undefined). At most {MAX_NODES} members are drawn: the lines of descent to "
               "the last generation first, then the tools built along them, then other "
               "offspring.")
    display = attrs.groupby(["level", "kind"], as_index=False).agg(
        members=("id", "size"), mean_align_base_train=("align_base_train", "mean"))
    return write_section(out, NAME, TITLE, caption, fig, attrs, display=display)


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
