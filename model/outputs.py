"""Writing a run's outputs: a directory that appears whole or not at all.

Core Objects: write_run, atomic_directory, check_writable, json_text, lineage_graph, phylogeny.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from matryoshka.model.params import ConfigError


def check_writable(path: Path, what: str = "output directory", inside: bool = False) -> None:
    """Refuse a directory path that cannot be created and written, before any work is done.

    Where the work will write (the nearest existing ancestor of ``path``, or ``path`` itself if it
    exists and ``inside``) must be a directory in which a directory and a file can be created: a
    probe of both is made there and removed at once, so nothing is left behind.

    Args:
        path: The directory to be written.
        what: What it is, for the message.
        inside: Files go into ``path`` itself (a sweep directory), not beside it (a run directory,
            written to a temporary directory beside it and renamed).

    Raises:
        ConfigError: The path is a dangling symbolic link, lies below a file, or its place on
            disk refuses writing (a read-only filesystem, ``/proc``, ``/sys``, no permission).
    """
    path = Path(path)
    link = next((p for p in [path, *path.parents] if os.path.lexists(p)), None)
    if link is not None and link.is_symlink() and not link.exists():
        raise ConfigError(f"{what} '{path}': '{link}' is a symbolic link to '{os.readlink(link)}', which "
                          "does not exist: choose another path or remove the link")  # fmt: skip
    candidates = [path, *path.parents] if inside else list(path.parents)
    place = next((p for p in candidates if p.exists()), Path("."))
    if not place.is_dir():
        raise ConfigError(f"{what} '{path}' cannot be created: '{place}' is a file")
    try:
        probe = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".probe", dir=place))
        try:
            (probe / "probe").write_bytes(b"")
        finally:
            shutil.rmtree(probe, ignore_errors=True)
    except OSError as err:
        raise ConfigError(f"{what} '{path}' cannot be written: creating a file in '{place}' fails "
                          f"({err.strerror or err}): choose a writable place") from None  # fmt: skip


def check_output(out: Path) -> None:
    """Refuse an output path that a run may not write, before any work is done.

    An existing ``out`` may be replaced only if it is empty or holds a previous run (a
    ``manifest.json``); its parent must be a directory or creatable as one, and writable.

    Raises:
        ConfigError: The path is not allowed, with the reason.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "manifest.json").exists())):
        raise ConfigError(
            f"output directory '{out}' exists and is not a run directory: "
            "choose a new path or an earlier run's directory"
        )
    check_writable(out)


@contextlib.contextmanager
def atomic_directory(out: Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``out`` that replaces ``out`` only on success.

    Raises:
        ConfigError: ``out`` may not be written (see ``check_output``).
    """
    out = Path(out)
    check_output(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"output directory '{out}' cannot be created: {err.strerror}") from None
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a run directory should not be
    try:
        yield tmp
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, trash / out.name)
            os.replace(tmp, out)
            shutil.rmtree(trash)
        else:
            os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def lineage_graph(agents: pd.DataFrame) -> nx.DiGraph:
    """Parent and builder edges between agents, with their kind, level, generation, alignment."""
    graph = nx.DiGraph()
    for row in agents.itertuples(index=False):
        graph.add_node(
            int(row.id), kind=row.kind, level=int(row.level), generation=int(row.generation),
            align_base_train=float(row.align_base_train),
            align_base_deploy=float(row.align_base_deploy),
        )  # fmt: skip
    for column in ("parent", "builder"):
        edges = agents.loc[agents[column].notna(), [column, "id"]].astype("int64")
        graph.add_edges_from(
            ((a, b) for a, b in edges.itertuples(index=False, name=None) if a in graph),
            relation=column,
        )
    return graph


def phylogeny(agents: pd.DataFrame) -> pd.DataFrame:
    """ALife data standard phylogeny: id, ancestor_list, origin_time (plus kind and level)."""
    ancestor = agents["parent"].fillna(agents["builder"])
    return pd.DataFrame(
        {
            "id": agents["id"],
            "ancestor_list": [f"[{int(a)}]" if pd.notna(a) else "[none]" for a in ancestor],
            "origin_time": agents["birth_step"],
            "kind": agents["kind"],
            "level": agents["level"],
        }
    )


def json_text(data: Any) -> str:
    """Standard JSON, which every reader accepts: NaN and infinities are written as strings.

    ``float()`` reads them back (``float("nan")``, ``float("inf")``, ``float("-inf")``).
    """

    def finite(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dict):
            return {k: finite(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [finite(v) for v in value]
        return value

    return json.dumps(finite(data), indent=2, default=str, allow_nan=False) + "\n"


def write_run(out: Path, manifest: dict[str, Any], tables: dict[str, pa.Table]) -> Path:
    """Write a run directory atomically.

    Args:
        out: The directory to create (or replace, if it holds an earlier run).
        manifest: The contents of ``manifest.json``.
        tables: ``levels``, ``agents``, ``occupancy`` and ``events`` tables.

    Returns:
        ``out``.
    """
    with atomic_directory(out) as tmp:
        for name, table in tables.items():
            pq.write_table(table, tmp / f"{name}.parquet")
        agents = tables["agents"].to_pandas()
        nx.write_graphml(lineage_graph(agents), tmp / "lineage.graphml")
        phylogeny(agents).to_csv(tmp / "phylogeny.csv", index=False)
        (tmp / "manifest.json").write_text(json_text(manifest))
    return Path(out)
