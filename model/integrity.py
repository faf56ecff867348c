"""Whether a run directory is whole: every output file has the size and checksum its manifest lists.

A run writes its manifest last, with the size and SHA-256 of each of its other files (``files``).
A directory counts as a finished run only if each listed file is there with that size and checksum:
a truncated Parquet file, a deleted ledger or a manifest from before files were listed is damage,
and a resumed sweep runs that run again.

Core Objects: MANIFEST, file_record, file_records, listed_files, damage, run_damage.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
_SEP = set("/\\\0")  # characters that make a file name more than a name in its directory


def file_record(data: bytes) -> dict[str, Any]:
    """A file's entry in the manifest: its size in bytes and its SHA-256, from its contents."""
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _file_entry(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    return {"bytes": path.stat().st_size, "sha256": digest}


def file_records(directory: Path) -> dict[str, dict[str, Any]]:
    """The manifest's ``files``: every regular file of a run directory but the manifest, by name."""
    paths = sorted(p for p in Path(directory).iterdir() if p.is_file() and p.name != MANIFEST)
    return {path.name: _file_entry(path) for path in paths}


def listed_files(manifest: Any) -> dict[str, dict[str, Any]] | None:
    """A manifest's ``files``, or None when it lists none or in a form no run writes."""
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not files:
        return None
    for name, entry in files.items():
        # a plain name in the run directory itself, on every system
        plain = isinstance(name, str) and name not in ("", ".", "..", MANIFEST) and not _SEP & set(name)
        if not plain or not isinstance(entry, dict) or set(entry) != {"bytes", "sha256"}:
            return None
    return files


def damage(manifest: Any, found: Mapping[str, dict[str, Any] | None]) -> str | None:
    """How the files found differ from those a manifest lists, or None if they all match.

    Args:
        manifest: The parsed manifest.
        found: Each listed file's entry as found (``file_record``), None where it is missing.
    """
    listed = listed_files(manifest)
    if listed is None:
        return "its manifest lists no output files with sizes and checksums"
    for name, want in listed.items():
        got = found.get(name)
        if got is None:
            return f"{name} is missing"
        if got["bytes"] != want["bytes"]:
            return f"{name} has {got['bytes']} bytes, its manifest lists {want['bytes']}"
        if got["sha256"] != want["sha256"]:
            return f"{name} does not match the checksum its manifest lists"
    return None


def run_damage(directory: Path) -> str | None:
    """What is wrong with a finished run's directory, or None if it is whole.

    Only the files the manifest lists are read; anything added beside them (a ``figures/``
    folder) is left alone.
    """
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"it has no {MANIFEST}"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return f"its {MANIFEST} is not readable JSON"
    listed = listed_files(manifest) or {}
    found = {name: _file_entry(directory / name) if (directory / name).is_file() else None for name in listed}
    return damage(manifest, found)
