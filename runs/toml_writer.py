"""Writing the small TOML documents of experiments (``tomllib`` only reads).

Handles what an experiment holds: top-level scalars, tables of scalars and lists of scalars, and
arrays of such tables. ``tomllib.loads(dumps(data)) == data`` for such data.

Core Objects: dumps.
"""

from __future__ import annotations

import json
import math
from typing import Any


def dumps(data: dict[str, Any]) -> str:
    """Serialize ``data`` as TOML.

    Args:
        data: Keys to scalars (str, int, float, bool, or lists of them), tables of those, or lists
            of tables of those. Keys of tables must be bare keys (letters, digits, ``_``, ``-``).

    Returns:
        The TOML text: scalars first, then ``[table]`` and ``[[array]]`` sections.

    Raises:
        TypeError: A value of another type.
    """
    lines = [f"{key} = {value_text(value)}" for key, value in data.items() if not _is_tables(value)]
    for key, value in data.items():
        if isinstance(value, dict):
            lines += ["", f"[{key}]", *(f"{k} = {value_text(v)}" for k, v in value.items())]
        elif _is_tables(value):
            for table in value:
                lines += ["", f"[[{key}]]", *(f"{k} = {value_text(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


def _is_tables(value: Any) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and bool(value)
                                       and all(isinstance(v, dict) for v in value))  # fmt: skip


def value_text(value: Any) -> str:
    """One TOML value: a string, integer, float, boolean or list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):
            return "nan"
        return repr(value)  # shortest text that reads back to the same float
    if isinstance(value, str):
        # A JSON string is a TOML basic string, except that TOML also wants DEL escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) as a TOML value")
