"""Writing a run's outputs: a directory that appears whole or not at all.

Core Objects: atomic_directory, check_output, check_writable, open_outputs, write_manifest,
json_text, LineageWriter, PhylogenyWriter.
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
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import pyarrow as pa

from matryoshka.model.params import ConfigError

if TYPE_CHECKING:
    from matryoshka.model.recorder import Recorder


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


BATCH_ROWS = 8192  # rows turned into text at a time: their Python objects are many times their size
GRAPHML_HEADER = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
  <key id="d0" for="node" attr.name="kind" attr.type="string" />
  <key id="d1" for="node" attr.name="level" attr.type="long" />
  <key id="d2" for="node" attr.name="generation" attr.type="long" />
  <key id="d3" for="node" attr.name="align_base_train" attr.type="double" />
  <key id="d4" for="node" attr.name="align_base_deploy" attr.type="double" />
  <key id="d5" for="edge" attr.name="relation" attr.type="string" />
  <graph edgedefault="directed">
"""
NODE = """    <node id="{}">
      <data key="d0">{}</data>
      <data key="d1">{}</data>
      <data key="d2">{}</data>
      <data key="d3">{}</data>
      <data key="d4">{}</data>
    </node>
"""
EDGE = """    <edge source="{}" target="{}">
      <data key="d5">{}</data>
    </edge>
"""


class LineageWriter:
    """``lineage.graphml``, written from the ledger's row groups as they are written.

    Nodes are agents with their kind, level, generation and alignment with the base objective;
    edges go from parent to child and from builder to tool (``relation``). Each row group adds
    its agents and their incoming edges, so memory holds one row group, never the whole tree.
    """

    COLUMNS = ("id", "kind", "level", "generation", "align_base_train", "align_base_deploy")

    def __init__(self, path: Path) -> None:
        self._file = Path(path).open("w", encoding="utf-8")
        self._file.write(GRAPHML_HEADER)

    def write(self, table: pa.Table) -> None:
        """Write the agents of one ledger row group and the edges that lead to them."""
        for batch in table.select([*self.COLUMNS, "parent", "builder"]).to_batches(BATCH_ROWS):
            self._write(batch.to_pydict())

    def _write(self, cols: dict[str, list]) -> None:
        rows = zip(*(cols[name] for name in self.COLUMNS), strict=True)
        parts = [NODE.format(i, escape(kind), level, gen, train, deploy)
                 for i, kind, level, gen, train, deploy in rows]  # fmt: skip
        for relation in ("parent", "builder"):
            sources = zip(cols[relation], cols["id"], strict=True)
            parts += [EDGE.format(source, i, relation) for source, i in sources if source is not None]
        self._file.write("".join(parts))

    def close(self) -> None:
        """End the document."""
        self._file.write("  </graph>\n</graphml>\n")
        self._file.close()


class PhylogenyWriter:
    """``phylogeny.csv`` in the ALife data standard, written from the ledger's row groups.

    Columns: ``id``, ``ancestor_list`` (``[parent]``, ``[builder]`` for a tool, ``[none]`` for a
    founder), ``origin_time`` (the birth step), plus ``kind`` and ``level``.
    """

    def __init__(self, path: Path) -> None:
        self._file = Path(path).open("w", encoding="utf-8", newline="")
        self._file.write("id,ancestor_list,origin_time,kind,level\n")

    def write(self, table: pa.Table) -> None:
        """Write the rows of one ledger row group."""
        for batch in table.select(["id", "parent", "builder", "birth_step", "kind", "level"]).to_batches(
            BATCH_ROWS
        ):
            self._write(batch.to_pydict())

    def _write(self, cols: dict[str, list]) -> None:
        ancestors = ("[none]" if p is None and b is None else f"[{p if p is not None else b}]"
                     for p, b in zip(cols["parent"], cols["builder"], strict=True))  # fmt: skip
        self._file.write("".join(
            f"{i},{a},{t},{k},{lv}\n"
            for i, a, t, k, lv in zip(cols["id"], ancestors, cols["birth_step"], cols["kind"], cols["level"],
                                      strict=True)
        ))  # fmt: skip

    def close(self) -> None:
        """Finish the file."""
        self._file.close()


def open_outputs(recorder: Recorder, directory: Path) -> None:
    """Stream a recorder's tables into a run directory from now on (what it holds so far first).

    ``levels.parquet``, ``agents.parquet`` (with ``lineage.graphml`` and ``phylogeny.csv``
    written from it) and ``events.parquet`` grow in row groups as the run goes; ``model.finish()``
    closes them.
    """
    directory = Path(directory)
    recorder.levels.open(directory / "levels.parquet")
    recorder.events.open(directory / "events.parquet")
    lineage = [LineageWriter(directory / "lineage.graphml"), PhylogenyWriter(directory / "phylogeny.csv")]
    recorder.ledger.open(directory / "agents.parquet", lineage)


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` (standard JSON, see ``json_text``)."""
    (Path(directory) / "manifest.json").write_text(json_text(manifest), encoding="utf-8")


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
