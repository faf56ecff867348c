"""Reading what runs wrote: run and sweep directories, checked against the output contract.

Analysis never imports the model; it reads the files a run or a sweep left behind and fails
with one clear message (an `InputError`) before any figure is drawn when they do not match what
it expects. The output contract (`model.contract`) is the one thing it shares with the runs: the
run summary is computed by the contract's `summarize` with the metric registry the run wrote into
its manifest, so a lone run's numbers are the ones a sweep would have recorded.

Core objects: InputError, Run, run_summary, load.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import networkx as nx
import pandas as pd

from matryoshka.analysis.checks import (
    LEVELS_TYPES,
    NUMBER,
    OCCUPANCY_TYPES,
    SWEEP_TYPES,
    TEXT,
    InputError,
    check_graphml,
    check_parquet,
    check_world,
    read_checked,
)
from matryoshka.analysis.dataset import Dataset
from matryoshka.model.contract import (
    FINISHED,
    LEVELS_COLUMNS,
    META_COLUMNS,
    PHASES,
    Metric,
    extinct_summary,
    metrics_from_manifest,
    parse_summary_key,
    summarize,
    summary_windows,
)

AGENTS_COLUMNS = ("id", "kind", "level", "generation", "parent", "builder",
                  "align_parent_deploy", "align_base_train")
OCCUPANCY_COLUMNS = ("phase", "level", "x", "y", "visits")
#: The agents' text columns; every other column of `agents.parquet` holds numbers.
AGENTS_TYPES = {"kind": TEXT, "phase": TEXT}
SWEEP_COLUMNS = ("run_id", "replicate", "status")
EXPECTED = ("a run directory (manifest.json, levels.parquet) "
            "or a sweep directory (sweep.parquet, runs/<run_id>/)")


def _read_manifest(directory: Path) -> dict:
    """Read and check `manifest.json` of a run directory."""
    file = directory / "manifest.json"
    if not file.is_file():
        raise InputError(f"{file}: missing; expected {EXPECTED}")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{file}: expected a JSON object with keys scenario, config, seed")
    for key, kind in (("scenario", str), ("config", dict)):
        if not isinstance(manifest.get(key), kind):
            raise InputError(f"{file}: key {key!r} is missing or not a {kind.__name__} "
                             f"(got {manifest.get(key)!r})")
    try:
        metrics_from_manifest(manifest)
    except ValueError as exc:
        raise InputError(f"{file}: {exc}") from None
    check_world(file, manifest.get("world"))
    return manifest


@dataclass(frozen=True, eq=False)
class Run:
    """One run directory; its tables are read on first use and kept.

    Attributes:
        path: The run directory.
        run_id: Its name in the sweep (the directory name for a lone run).
        replicate: Replicate index within its condition (0 for a lone run).
        manifest: The parsed `manifest.json`.
    """

    path: Path
    run_id: str
    replicate: int
    manifest: dict

    @classmethod
    def open(cls, path: Path, run_id: str, replicate: int) -> Run:
        """Check a run directory's files against the contract and return it.

        Raises:
            InputError: A required file or column is missing or malformed.
        """
        manifest = _read_manifest(path)
        check_parquet(path / "levels.parquet", LEVELS_COLUMNS)
        check_parquet(path / "agents.parquet", AGENTS_COLUMNS, needed=False)
        check_parquet(path / "occupancy.parquet", OCCUPANCY_COLUMNS, needed=False)
        return cls(path, run_id, replicate, manifest)

    @property
    def scenario(self) -> str:
        """The scenario key, e.g. `maze-v2`."""
        return self.manifest["scenario"]

    @cached_property
    def metrics(self) -> dict[str, Metric]:
        """The run's metric registry (from its manifest; older runs: the core metrics)."""
        return metrics_from_manifest(self.manifest, self.manifest.get("features") or ())

    @property
    def extinct(self) -> tuple[int, str] | None:
        """When and in which phase the run's population died out, or None if it did not.

        Raises:
            InputError: The manifest says `extinct` without a step and a phase.
        """
        if self.manifest.get("status") != "extinct":
            return None
        step, phase = self.manifest.get("extinct_at"), self.manifest.get("extinct_phase")
        if not isinstance(step, int) or phase not in PHASES:
            raise InputError(f"{self.path / 'manifest.json'}: status 'extinct' needs an integer "
                             f"extinct_at and an extinct_phase in {PHASES} (got {step!r}, {phase!r})")
        return step, phase

    @property
    def world(self) -> dict | None:
        """The manifest's world description (maze layout), if any."""
        world = self.manifest.get("world")
        return world if isinstance(world, dict) else None

    def check(self) -> None:
        """Read every table of the run in full and check what its columns hold.

        Raises:
            InputError: A table that cannot be read, a column of the wrong kind, no time series,
                or visits outside the world.
        """
        if self.levels.empty:
            raise InputError(f"{self.path / 'levels.parquet'}: no rows; expected one row per step, "
                             "level and metric")
        if (self.path / "agents.parquet").is_file():
            read_checked(self.path / "agents.parquet", AGENTS_TYPES, default=NUMBER)
        visits, world = self.occupancy(), self.world
        if visits is not None and world is not None and len(visits):
            inside = visits["x"].between(0, world["width"] - 1) & visits["y"].between(0, world["height"] - 1)
            outside = ~inside
            if outside.any():
                x, y = visits.loc[outside, ["x", "y"]].iloc[0]
                raise InputError(f"{self.path / 'occupancy.parquet'}: a visit to cell ({x}, {y}), outside "
                                 f"the {world['width']} x {world['height']} world of its manifest")

    @cached_property
    def levels(self) -> pd.DataFrame:
        """The tidy per-step time series (`levels.parquet`)."""
        table = read_checked(self.path / "levels.parquet", LEVELS_TYPES, LEVELS_COLUMNS)
        return table.to_pandas().astype({"phase": str, "metric": str, "level": "int64",
                                         "generation": "int64", "mean": "float64"})

    def agents(self, columns: Sequence[str]) -> pd.DataFrame | None:
        """Columns of `agents.parquet`, or None when the run did not write it.

        Raises:
            InputError: A requested column is missing or holds values of the wrong kind.
        """
        file = self.path / "agents.parquet"
        if not check_parquet(file, columns, needed=False):
            return None
        return read_checked(file, AGENTS_TYPES, columns, default=NUMBER).to_pandas()

    def occupancy(self) -> pd.DataFrame | None:
        """The visit counts per cell (`occupancy.parquet`), or None when absent."""
        file = self.path / "occupancy.parquet"
        if not file.is_file():
            return None
        table = read_checked(file, OCCUPANCY_TYPES, OCCUPANCY_COLUMNS)
        return table.to_pandas().astype({"phase": str})

    @cached_property
    def lineage(self) -> nx.DiGraph | None:
        """The parent/builder graph (`lineage.graphml`), or None when absent.

        Raises:
            InputError: The file is not readable GraphML.
        """
        file = self.path / "lineage.graphml"
        if not file.is_file():
            return None
        try:
            graph = nx.read_graphml(file)
        except Exception as exc:  # the XML parser and networkx raise many kinds
            raise InputError(f"{file}: not readable GraphML ({exc})") from None
        # GraphML stores ids as strings; agent ids are integers everywhere else.
        return nx.relabel_nodes(nx.DiGraph(graph), _as_id)


def _as_id(node: str) -> int | str:
    """An agent id as an integer when it is one."""
    return int(node) if str(node).lstrip("-").isdigit() else node


def _scalars(config: dict) -> dict:
    """The scalar entries of a config (the ones a table can hold)."""
    return {k: v for k, v in config.items() if isinstance(v, str | int | float | bool)}


def run_summary(run: Run, first: bool = False) -> dict[str, float]:
    """The run's summary columns, computed as the sweep runner computes them for sweep.parquet.

    Args:
        run: The run.
        first: Summarise each phase's first episode instead of its last (what a phase started
            from, e.g. to measure a rise over training).

    Raises:
        InputError: The manifest's config has no positive integer `episode_steps` (the window).
    """
    window = run.manifest["config"].get("episode_steps")
    if not isinstance(window, int) or window < 1:
        raise InputError(f"{run.path / 'manifest.json'}: config key 'episode_steps' is "
                         f"{window!r}; expected a positive integer (the summary window)")
    windows = summary_windows({"deploy_episode_steps": 0, **run.manifest["config"]})
    levels = run.levels
    if first:  # keep each phase's first episode: its last episode is then the first
        start = levels.groupby("phase")["step"].transform("min")
        levels = levels[levels["step"] < start + levels["phase"].map(windows)]
    summary = summarize(levels, windows, run.metrics)
    return summary if first or run.extinct is None else extinct_summary(summary, run.extinct[1])


def _extinct_note(runs: Sequence[Run], where: Path) -> tuple[str, ...]:
    """A note naming the runs whose population died out (their population counts as 0)."""
    gone = [run for run in runs if run.extinct is not None]
    if not gone:
        return ()
    named = ", ".join(f"{run.run_id} at step {run.extinct[0]}" for run in gone[:6]) + (
        ", ..." if len(gone) > 6 else "")
    what = f"{len(gone)} of {len(runs)} runs went extinct" if len(runs) > 1 else "the population died out"
    return (f"{where}: {what} ({named}): its population counts as 0 from then on, and phases never "
            "reached have no other metrics",)


def _load_lone_run(root: Path) -> Dataset:
    """A dataset of one run directory."""
    run = Run.open(root, root.resolve().name, 0)
    params = _scalars(run.manifest["config"])
    row = {"run_id": run.run_id, "replicate": 0, **params, **run_summary(run)}
    return Dataset(root, "run", (run,), pd.DataFrame([row]), tuple(params), _extinct_note([run], root))


def _load_sweep(root: Path) -> Dataset:
    """A dataset of the complete runs of a sweep directory."""
    file = root / "sweep.parquet"
    check_parquet(file, SWEEP_COLUMNS)
    table = read_checked(file, SWEEP_TYPES).to_pandas()
    complete = table[table["status"].isin(FINISHED)].copy()
    if complete.empty:
        raise InputError(f"{file}: no run has status {' or '.join(map(repr, FINISHED))} (statuses: "
                         f"{', '.join(sorted(map(str, table['status'].unique()))) or 'none'})")
    complete["run_id"] = complete["run_id"].astype(str)
    runs = []
    for run_id, replicate in zip(complete["run_id"], complete["replicate"], strict=True):
        path = root / "runs" / run_id
        if not path.is_dir():
            raise InputError(f"{path}: missing; {file.name} lists run {run_id!r} as complete")
        runs.append(Run.open(path, run_id, int(replicate)))
    # Summary columns the sweep did not write are computed the same way from levels.parquet.
    computed = pd.DataFrame([run_summary(run) for run in runs], index=complete.index)
    extra = [c for c in computed.columns if c not in complete.columns]
    summary = pd.concat([complete, computed[extra]], axis=1)
    params = tuple(c for c in table.columns if c not in META_COLUMNS and not parse_summary_key(c))
    failed = len(table) - len(complete)
    notes = (f"{file}: {failed} of {len(table)} runs did not complete; "
             f"analysing the {len(complete)} complete ones",) if failed else ()
    notes += _extinct_note(runs, file)
    data = Dataset(root, "sweep", tuple(runs), summary.reset_index(drop=True), params, notes)
    twins = data.summary.duplicated([*data.axes, "replicate"], keep=False)
    if twins.any():
        ids = ", ".join(data.summary.loc[twins, "run_id"].astype(str).head(6))
        notes += (f"{file}: runs {ids} share a condition and a replicate, so they are not "
                  "independent seeds; their intervals are too narrow",)
        data = Dataset(root, "sweep", data.runs, data.summary, params, notes)
    return data


def load(path: str | Path) -> Dataset:
    """Open a run or sweep directory.

    Args:
        path: A run directory or a sweep directory.

    Returns:
        The dataset, with every run's files checked against the contract; the lineage graph
        that the lineage figure draws is checked as XML now, and read when it first draws.

    Raises:
        InputError: The directory is neither, or a file or column is missing or malformed.
    """
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"{root}: not a directory; expected {EXPECTED}")
    if (root / "sweep.parquet").exists():
        data = _load_sweep(root)
    elif (root / "manifest.json").exists() or (root / "levels.parquet").exists():
        data = _load_lone_run(root)
    else:
        raise InputError(f"{root}: neither manifest.json nor sweep.parquet found; "
                         f"expected {EXPECTED}")
    for run in data.runs:  # every table read and checked now, so bad input fails before any figure
        run.check()
    check_graphml(data.representative().path / "lineage.graphml")  # the one lineage a figure draws
    return data
