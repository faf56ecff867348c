"""Provenance: which source made a run.

Run from a checkout (the repository the installed package's files live in, found from those
files, never from the working directory), a run records the checkout's commit and whether its tree
differed from it; installed from a wheel, the package version is all there is.

Core Objects: PACKAGE_ROOT, checkout, source_revision, loaded_source.
"""

from __future__ import annotations

import functools
import importlib.metadata
import subprocess
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the checkout, or site-packages/matryoshka


def _git(where: Path, *args: str) -> str:
    """Run git in ``where`` and return its output, stripped.

    Raises:
        OSError: git is not installed.
        subprocess.CalledProcessError: git failed (``where`` is not in a repository, say).
    """
    done = subprocess.run(
        ["git", "-C", str(where), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def checkout(package_root: Path | None = None) -> Path | None:
    """The git checkout whose top level holds the package's folders, or None.

    A package installed into a virtual environment inside some other repository is not a checkout:
    the repository's top level must be ``package_root`` (default ``PACKAGE_ROOT``) itself.
    """
    package_root = package_root or PACKAGE_ROOT
    try:
        top = Path(_git(package_root, "rev-parse", "--show-toplevel")).resolve()
    except (OSError, subprocess.SubprocessError):
        return None
    return top if top == package_root.resolve() else None


def source_revision(package_root: Path | None = None) -> dict[str, Any]:
    """What source a run comes from (the package at ``package_root``, default ``PACKAGE_ROOT``).

    Returns:
        ``version`` (the installed package's, or None); from a checkout also ``commit`` (the full
        hash of ``HEAD``) and ``dirty`` (whether tracked files differ from it or untracked files
        that are not ignored exist).
    """
    try:
        version: str | None = importlib.metadata.version("matryoshka")
    except importlib.metadata.PackageNotFoundError:
        version = None
    root = checkout(package_root)
    if root is None:
        return {"version": version}
    try:
        return {
            "version": version,
            "commit": _git(root, "rev-parse", "HEAD"),
            "dirty": _git(root, "status", "--porcelain") != "",
        }
    except (OSError, subprocess.SubprocessError):  # a checkout without a commit yet
        return {"version": version, "commit": None, "dirty": True}


def loaded_source(package_root: Path | None = None) -> dict[str, Any]:
    """``source_revision`` as this process first asked for it: the source of the code it runs.

    A process runs the code it loaded when it first imported the package, whatever happens to
    the checkout afterwards. It asks as its first run starts, just after those imports, and every
    later run of the process records the same answer; so a commit made, or a file edited, while a
    sweep's workers run never shows in the manifests of runs that the earlier code made.
    """
    return dict(_first_answer((package_root or PACKAGE_ROOT).resolve()))


@functools.cache
def _first_answer(package_root: Path) -> dict[str, Any]:
    return source_revision(package_root)
