"""Writing a run's outputs: a directory that appears whole or not at all.

Core Objects: atomic_directory, lock_file, check_output, check_writable, open_outputs, write_manifest,
json_text, LineageWriter, PhylogenyWriter.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import pyarrow as pa

from matryoshka.model.params import ConfigError

if TYPE_CHECKING:
    from matryoshka.model.recorder import Recorder

try:  # advisory locks against two processes writing one place (POSIX)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


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


def lock_file(path: Path, busy: str) -> IO[str]:
    """Open ``path`` (made if missing) holding an exclusive advisory lock on it, or refuse at once.

    A holder may remove the file as it lets go (``atomic_directory`` does): a lock taken on a file
    that is no longer at ``path`` is let go and taken again on the one there now.

    Raises:
        ConfigError: Another process holds the lock; ``busy`` says what to do.
    """
    while True:
        handle = Path(path).open("a")
        if fcntl is None:  # pragma: no cover - no advisory locks (Windows)
            return handle
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ConfigError(busy) from None
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(handle.fileno()), os.stat(path)):
                return handle
        handle.close()


def _leftovers(out: Path) -> tuple[list[Path], list[Path]]:
    """What runs killed while writing ``out`` left beside it: ``(tmp, old)`` directories."""
    pattern = re.compile(rf"\.{re.escape(out.name)}\.[a-z0-9_]{{8}}\.(tmp|old)")
    found = sorted(p for p in out.parent.glob(f".{glob.escape(out.name)}.*")
                   if pattern.fullmatch(p.name) and p.is_dir())  # fmt: skip
    return [p for p in found if p.suffix == ".tmp"], [p for p in found if p.suffix == ".old"]


@contextlib.contextmanager
def atomic_directory(out: Path, exclusive: bool = True) -> Iterator[Path]:
    """Yield a temporary directory beside ``out`` that replaces ``out`` only on success.

    An earlier ``out`` is renamed aside (``.NAME.XXXXXXXX.old``), the new one renamed in, then the
    old one removed: a process killed in between leaves the old run beside ``out``, and the next
    write to ``out`` puts it back first. So at ``out`` there is always the old run or the new one
    once a run has started again.

    Args:
        out: The directory to write.
        exclusive: Hold ``out``'s lock (``.NAME.lock`` beside it) while writing, refusing a second
            writer, and first tidy what killed writes left: put back an old run whose replacement
            never arrived, remove temporary directories. A sweep, which holds a lock of its own and
            tidies its directory when it opens it, does without.

    Raises:
        ConfigError: ``out`` may not be written (see ``check_output``), or another run writes it.
    """
    out = Path(out)
    check_output(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"output directory '{out}' cannot be created: {err.strerror}") from None
    lock_path = out.parent / f".{out.name}.lock"
    handle = lock_file(lock_path, f"output directory '{out}' is being written by another run: wait "
                       "for it to end, or choose another path") if exclusive else None  # fmt: skip
    try:
        if exclusive:
            stale, old = _leftovers(out)
            if old and not out.exists():
                os.replace(old.pop(), out)  # the replacement never arrived: the old run goes back
            for path in stale + old:
                shutil.rmtree(path, ignore_errors=True)
            check_output(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a run directory should not be
        try:
            yield tmp
            if out.exists():
                old_path = tmp.with_suffix(".old")
                os.replace(out, old_path)
                os.replace(tmp, out)
                shutil.rmtree(old_path)
            else:
                os.replace(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if handle is not None:  # removed while still held: see lock_file
            lock_path.unlink(missing_ok=True)
            handle.close()


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
