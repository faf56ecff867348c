"""Checks of the files analysis reads, so that damaged input fails before any figure is drawn.

A Parquet file is read in full (every data page of the columns used, so a corrupted page shows
even when the footer is intact) and each column's type is checked against what the analyses
do with it; a manifest's world layout is checked cell by cell; a GraphML file is parsed as XML.
Every failure is an `InputError` whose message names the file.

Core objects: InputError, TEXT, NUMBER, INTEGER, LEVELS_TYPES, OCCUPANCY_TYPES, SWEEP_TYPES,
check_parquet, read_checked, mark_names, check_world, check_graphml.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.parsers import expat

import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.types as pt

from matryoshka.model.contract import LEVELS_COLUMNS, PHASES


class InputError(Exception):
    """Input that does not match the output contract; the message names the file and the fix."""


#: What a column may hold: text, numbers (integers, floats, booleans), or integers only.
TEXT, NUMBER, INTEGER = "text", "numbers", "integers"
LEVELS_TYPES = dict(zip(LEVELS_COLUMNS, (INTEGER, INTEGER, TEXT, INTEGER, TEXT, NUMBER, NUMBER, NUMBER),
                        strict=True))  # fmt: skip
OCCUPANCY_TYPES = {"phase": TEXT, "level": INTEGER, "x": INTEGER, "y": INTEGER, "visits": NUMBER}
SWEEP_TYPES = {"run_id": TEXT, "replicate": INTEGER, "status": TEXT}


def _holds(kind: str, dtype: pa.DataType) -> bool:
    if pt.is_dictionary(dtype):
        dtype = dtype.value_type
    if pt.is_null(dtype):  # a column with no values at all fits any kind
        return True
    if kind == TEXT:
        return pt.is_string(dtype) or pt.is_large_string(dtype)
    if kind == INTEGER:
        return pt.is_integer(dtype)
    return pt.is_integer(dtype) or pt.is_floating(dtype) or pt.is_boolean(dtype)


def check_parquet(file: Path, required: Sequence[str], needed: bool = True) -> bool:
    """Check that a Parquet file exists (if needed) and has the required columns.

    Returns:
        Whether the file exists.

    Raises:
        InputError: The file is missing (and needed), unreadable, or lacks a column.
    """
    if not file.is_file():
        if needed:
            raise InputError(f"{file}: missing; expected a Parquet file with columns "
                             f"{', '.join(required)}")
        return False
    try:
        names = set(pq.read_schema(file).names)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{file}: not a readable Parquet file ({exc})") from None
    missing = [name for name in required if name not in names]
    if missing:
        raise InputError(f"{file}: missing column(s) {', '.join(missing)}; "
                         f"expected columns {', '.join(required)}")
    return True


def read_checked(file: Path, types: Mapping[str, str], columns: Sequence[str] | None = None,
                 default: str | None = None) -> pa.Table:
    """Read columns of a Parquet file in full and check what each holds.

    Args:
        file: The Parquet file.
        types: What named columns must hold (``TEXT``, ``NUMBER``, ``INTEGER``).
        columns: The columns to read (default: all).
        default: What every other column read must hold (default: anything).

    Raises:
        InputError: The file cannot be read (a damaged data page too), or a column holds
            values of another kind.
    """
    try:
        table = pq.read_table(file, columns=None if columns is None else list(columns))
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{file}: not a readable Parquet file ({' '.join(str(exc).split())})") from None
    for field in table.schema:
        kind = types.get(field.name, default)
        if kind is not None and not _holds(kind, field.type):
            raise InputError(f"{file}: column {field.name!r} holds {field.type} values; expected {kind}")
    return table


def _cell(value: Any, width: int, height: int) -> bool:
    """Whether a value is an ``[x, y]`` cell of a width x height world."""
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and 0 <= value[0] < width and 0 <= value[1] < height)  # fmt: skip


def mark_names(world: Mapping[str, Any]) -> list[str]:
    """The names of a world's marked cells (``<name>_train``, ``<name>_deploy``).

    Those its ``marks`` declare; a run that declares none: every ``*_train`` and ``*_deploy`` key.
    """
    declared = world.get("marks")
    if isinstance(declared, dict):
        return [str(name) for name in declared]
    return list(dict.fromkeys(k.rsplit("_", 1)[0] for k in world if k.endswith(("_train", "_deploy"))))


def check_world(file: Path, world: Any) -> None:
    """Check a manifest's world layout: size, walls and marked cells.

    Raises:
        InputError: A size that is not a positive integer, or a wall or mark that is not a cell
            of the world.
    """
    if not isinstance(world, dict):
        return
    width, height = world.get("width"), world.get("height")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (width, height)):
        raise InputError(f"{file}: world needs positive integer width and height (got "
                         f"width={width!r}, height={height!r})")
    walls = world.get("walls") or []
    bad = next((w for w in walls if not _cell(w, width, height)), None) if isinstance(walls, list) else walls
    if bad is not None:
        raise InputError(f"{file}: world walls hold {bad!r}; expected [x, y] cells of the "
                         f"{width} x {height} world")
    for key in (f"{mark}_{phase}" for mark in mark_names(world) for phase in PHASES):
        value = world.get(key)
        if value is not None and not _cell(value, width, height):
            raise InputError(f"{file}: world {key} is {value!r}; expected an [x, y] cell of the "
                             f"{width} x {height} world, or null")


def check_graphml(file: Path) -> None:
    """Check that a GraphML file, if there is one, is whole XML under a `graphml` root element.

    What a truncated, damaged or foreign file fails, at a few percent of the cost of reading the
    graph (which waits until a figure draws it, and checks the rest).

    Raises:
        InputError: The file is not well-formed XML, or its root element is not `graphml`.
    """
    if not file.is_file():
        return
    parser = expat.ParserCreate()
    root: list[str] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        root.append(name.rpartition(":")[2])  # a prefixed name keeps its local part
        parser.StartElementHandler = None  # only the root matters; the parser still checks the rest

    parser.StartElementHandler = start
    try:
        with file.open("rb") as stream:
            parser.ParseFile(stream)
    except expat.ExpatError as exc:
        raise InputError(f"{file}: not readable GraphML ({exc})") from None
    if root != ["graphml"]:
        raise InputError(f"{file}: not readable GraphML (its root element is {root[0]!r}, not 'graphml')")
