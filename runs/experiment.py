"""Experiment files: parsing, validation and expansion into runs.

An experiment is a scenario, fixed parameters, sweep axes (a full grid, plus ``zip`` groups of
axes that vary together) and replicate seeds. Everything is checked against the model's own
parameter rules before anything runs; errors name the file, the table, the key, the value and
what is allowed. The format is documented at the top of ``runs/default.toml``.

Seeds: replicate ``k`` uses ``SeedSequence(root, spawn_key=(k,))``, the ``k``-th child of
``SeedSequence(root).spawn(...)``. Every grid point uses the same replicate seeds (common random
numbers), and each subsystem draws from its own stream of the seed (``model.streams``), so
conditions share the draws of every subsystem their difference does not touch.

Core Objects: Experiment, RunSpec, load, parse.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matryoshka.model.params import ConfigError, unknown_key_error
from matryoshka.model.scenarios import DEFAULT_SCENARIO, get
from matryoshka.model.scenarios.base import Preset
from matryoshka.runs.config import load_toml
from matryoshka.runs.toml_writer import dumps

TOP_LEVEL = ("name", "description", "scenario", "params", "sweep", "zip", "seeds")
SEED_KEYS = ("count", "list", "root")
MAX_RUNS = 100_000  # an experiment with more runs needs --max-runs: most such files are mistakes


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment.

    Attributes:
        run_id: Stable name of the run: ``r`` and its index in expansion order (``r0007``).
        replicate: The replicate index (the seed's spawn key under the root).
        seed: The run's seed.
        params: The fixed parameters and this grid point's swept values (validated).
    """

    run_id: str
    replicate: int
    seed: np.random.SeedSequence
    params: dict[str, Any]

    @property
    def seed_label(self) -> str:
        """The seed as text: entropy and spawn key, e.g. ``2026/3``."""
        return "/".join(str(int(k)) for k in (self.seed.entropy, *self.seed.spawn_key))


@dataclass(frozen=True)
class Experiment:
    """A validated experiment.

    Attributes:
        name: Short name (the file's stem unless set).
        description: What question it answers.
        scenario: A registered scenario key.
        params: Fixed parameters, validated.
        sweep: Grid axes: parameter -> values, each validated.
        zip: Groups of axes that vary together, each parameter -> values of equal length.
        root: Entropy of the root ``SeedSequence``.
        replicates: Replicate indices (spawn keys under the root), in order.
    """

    name: str
    description: str
    scenario: str
    params: dict[str, Any]
    sweep: dict[str, list[Any]]
    zip: list[dict[str, list[Any]]]
    root: int
    replicates: tuple[int, ...]

    def points(self) -> list[dict[str, Any]]:
        """The grid points: the product of the sweep axes, then of the zip groups (last fastest)."""
        axes = [[{name: v} for v in values] for name, values in self.sweep.items()]
        for group in self.zip:
            names = list(group)
            axes.append([dict(zip(names, vs, strict=True)) for vs in zip(*group.values(), strict=True)])
        return [{k: v for part in combo for k, v in part.items()} for combo in itertools.product(*axes)]

    def runs(self) -> list[RunSpec]:
        """Every run, grid point major and replicate minor; ids are indices in this order."""
        seeds = [np.random.SeedSequence(self.root, spawn_key=(k,)) for k in self.replicates]
        combos = [(p, k, s) for p in self.points() for k, s in zip(self.replicates, seeds, strict=True)]
        width = max(4, len(str(len(combos) - 1)))
        return [
            RunSpec(f"r{i:0{width}d}", k, s, {**self.params, **point})
            for i, (point, k, s) in enumerate(combos)
        ]

    def columns(self) -> list[str]:
        """The parameters that are fixed or swept, in file order (the sweep table's columns)."""
        return [*self.params, *self.sweep, *(name for group in self.zip for name in group)]

    def defining(self) -> dict[str, Any]:
        """What decides the runs (everything but name and description), for comparing experiments."""
        return {"scenario": self.scenario, "params": self.params, "sweep": self.sweep, "zip": self.zip,
                "root": self.root, "replicates": list(self.replicates)}  # fmt: skip

    def to_toml(self, source: str = "", out: str = "DIR") -> str:
        """The effective experiment as TOML, itself a valid experiment file.

        Args:
            source: The experiment file it was read from (named in a comment).
            out: The sweep directory it is written to (named in the comment on resuming).
        """
        count = len(self.replicates)
        seeds: dict[str, Any] = {"root": self.root}
        if self.replicates == tuple(range(count)):
            seeds["count"] = count
        else:
            seeds["list"] = list(self.replicates)
        header = [
            "# The effective experiment of this sweep, written by `matryoshka sweep`"
            + (f" from {source}." if source else "."),
            f"# Resume with: matryoshka sweep {out}/experiment.toml --out {out}",
        ]
        data = {"name": self.name, "description": self.description, "scenario": self.scenario,
                "params": self.params, "sweep": self.sweep, "zip": self.zip, "seeds": seeds}  # fmt: skip
        data = {key: value for key, value in data.items() if value not in ({}, [])}
        return "\n".join(header) + "\n" + dumps(data)


SHIPPED_DIR = Path(__file__).parent


def shipped() -> dict[str, Path]:
    """The experiments that come with the package, by name (the file's stem)."""
    return {path.stem: path for path in sorted(SHIPPED_DIR.glob("*.toml"))}


def resolve(name_or_path: str | Path) -> Path:
    """Find an experiment: a path to a TOML file, or the name of a shipped experiment.

    Raises:
        ConfigError: Neither a file nor a shipped experiment's name (the closest name is suggested).
    """
    path = Path(name_or_path)
    if path.exists() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    found = shipped()
    if str(name_or_path) in found:
        return found[str(name_or_path)]
    raise unknown_key_error(str(name_or_path), list(found), what="experiment")


def question(path: Path) -> str:
    """An experiment file's one-line question: its ``description``."""
    return str(load_toml(path).get("description", ""))


def load(path: str | Path, max_runs: int = MAX_RUNS) -> Experiment:
    """Read and validate an experiment file, given by path or by a shipped experiment's name.

    Raises:
        ConfigError: The file is unreadable, or anything in it is not allowed.
    """
    path = resolve(path)
    return parse(load_toml(path), source=str(path), default_name=path.stem, max_runs=max_runs)


def parse(
    data: dict[str, Any],
    source: str = "<experiment>",
    default_name: str = "experiment",
    max_runs: int = MAX_RUNS,
) -> Experiment:
    """Validate an experiment read from TOML.

    Args:
        data: The parsed TOML document.
        source: Where it came from (for error messages).
        default_name: The name used when the file sets none.
        max_runs: The most runs allowed; checked before the runs are expanded.

    Returns:
        The validated experiment, every value coerced to its parameter's type.

    Raises:
        ConfigError: An unknown key or parameter, a value not allowed, an empty axis, zip lists of
            unequal length, a parameter set in two places, bad seeds, or more than ``max_runs`` runs.
    """
    where = f"experiment '{source}'"
    for key in data:
        if key not in TOP_LEVEL:
            raise _in(where, unknown_key_error(key, list(TOP_LEVEL), what="top-level key"))
    name = _text(data, "name", default_name, where)
    description = _text(data, "description", "", where)
    scenario = _text(data, "scenario", DEFAULT_SCENARIO, where)
    try:
        preset = get(scenario)
    except ConfigError as err:
        raise _in(where, err) from None

    params = _table(data, "params", where)
    try:
        fixed = {key: preset.coerce(key, value) for key, value in params.items()}
    except ConfigError as err:
        raise _in(f"{where}: [params]", err) from None
    sweep = {key: _axis(key, values, preset, f"{where}: [sweep]")
             for key, values in _table(data, "sweep", where).items()}  # fmt: skip
    groups = [_zip_group(group, preset, f"{where}: [[zip]] group {i + 1}")
              for i, group in enumerate(_zip_tables(data, where))]  # fmt: skip
    _check_disjoint(where, fixed, sweep, groups)
    root, replicates = _seeds(data.get("seeds", {}), where)
    points = math.prod(len(values) for values in sweep.values()) * math.prod(
        len(next(iter(group.values()))) for group in groups
    )
    if points * len(replicates) > max_runs:
        raise ConfigError(
            f"{where}: {points * len(replicates):,} runs (grid points: {points:,}, seeds: "
            f"{len(replicates):,}) is more than the limit: expected at most {max_runs:,} runs "
            "(to run more, raise the limit with --max-runs)"
        )
    experiment = Experiment(name, description, scenario, fixed, sweep, groups, root, tuple(replicates))
    for point in experiment.points():  # the model's own check of each full configuration
        try:
            preset.validate({**fixed, **point})
        except ConfigError as err:
            raise _in(f"{where}: grid point {point}", err) from None
    return experiment


def _in(where: str, err: ConfigError) -> ConfigError:
    return ConfigError(f"{where}: {err}")


def _text(data: dict[str, Any], key: str, default: str, where: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value and key != "description":
        raise ConfigError(f"{where}: '{key}' = {value!r} is not allowed: expected a non-empty string")
    return value


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: '{key}' = {value!r} is not allowed: expected a table [{key}]")
    return value


def _axis(key: str, values: Any, preset: Preset, where: str, distinct: bool = True) -> list[Any]:
    """Validate one swept parameter's values: a non-empty list of allowed (and distinct) values."""
    known = preset.parameters()
    if key not in known:
        raise _in(where, unknown_key_error(key, list(known)))
    if not isinstance(values, list) or not values:
        raise ConfigError(
            f"{where}: '{key}' = {values!r} is not allowed: expected a non-empty list of values, "
            f"e.g. {key} = [{known[key].default!r}, ...] (a single value goes in [params])"
        )
    try:
        coerced = [preset.coerce(key, v) for v in values]
    except ConfigError as err:
        raise _in(where, err) from None
    for i, value in enumerate(coerced):
        if distinct and value in coerced[:i]:
            raise ConfigError(f"{where}: '{key}' lists {value!r} twice: expected each value once")
    return coerced


def _zip_tables(data: dict[str, Any], where: str) -> list[dict[str, Any]]:
    groups = data.get("zip", [])
    if isinstance(groups, dict):  # a single [zip] table is one group
        groups = [groups]
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise ConfigError(f"{where}: 'zip' = {groups!r} is not allowed: expected tables [[zip]]")
    return groups


def _zip_group(group: dict[str, Any], preset: Preset, where: str) -> dict[str, list[Any]]:
    """Validate a zip group: axes of equal length whose value tuples are distinct."""
    if not group:
        raise ConfigError(f"{where} is empty: expected parameters with lists of equal length")
    # In a zip group a value may repeat (power = [0.2, 0.2], wisdom = [0.2, 0.8]); combinations may not.
    axes = {key: _axis(key, values, preset, where, distinct=False) for key, values in group.items()}
    lengths = {key: len(values) for key, values in axes.items()}
    if len(set(lengths.values())) > 1:
        sizes = ", ".join(f"'{k}' has {n}" for k, n in lengths.items())
        raise ConfigError(f"{where}: lists of unequal length ({sizes}): expected the same length")
    tuples = list(zip(*axes.values(), strict=True))
    for i, values in enumerate(tuples):
        if values in tuples[:i]:
            raise ConfigError(f"{where}: the combination {dict(zip(axes, values, strict=True))} appears "
                              "twice: expected each combination once")  # fmt: skip
    return axes


def _check_disjoint(where: str, fixed: dict, sweep: dict, groups: list[dict]) -> None:
    """Each parameter is set in one place only."""
    places: dict[str, str] = dict.fromkeys(fixed, "[params]")
    for label, names in [("[sweep]", sweep), *((f"[[zip]] group {i + 1}", g) for i, g in enumerate(groups))]:
        for name in names:
            if name in places:
                raise ConfigError(
                    f"{where}: parameter '{name}' is set both in {places[name]} and in {label}: "
                    "expected it in one place only"
                )
            places[name] = label


def _seeds(seeds: Any, where: str) -> tuple[int, Sequence[int]]:
    """The root entropy and the replicate indices from ``[seeds]`` (default: count 1, root 0).

    A ``count`` gives a ``range``, so that a huge count costs nothing until it is refused.
    """
    where = f"{where}: [seeds]"
    if not isinstance(seeds, dict):
        raise ConfigError(
            f"{where} = {seeds!r} is not allowed: expected a table with count or list, and root"
        )
    for key in seeds:
        if key not in SEED_KEYS:
            raise _in(where, unknown_key_error(key, list(SEED_KEYS), what="key"))
    root = seeds.get("root", 0)
    if not _natural(root):
        raise ConfigError(f"{where}: root = {root!r} is not allowed: expected an integer >= 0")
    if "count" in seeds and "list" in seeds:
        raise ConfigError(f"{where}: both 'count' and 'list' are set: expected one of them")
    if "list" in seeds:
        replicates = seeds["list"]
        if not isinstance(replicates, list) or not replicates or not all(map(_natural, replicates)):
            raise ConfigError(f"{where}: list = {replicates!r} is not allowed: expected a non-empty list "
                              "of replicate indices (integers >= 0)")  # fmt: skip
        if len(set(replicates)) < len(replicates):
            raise ConfigError(f"{where}: list = {replicates!r} repeats a replicate: expected each once")
        return root, replicates
    count = seeds.get("count", 1)
    if not _natural(count) or count < 1:
        raise ConfigError(f"{where}: count = {count!r} is not allowed: expected an integer >= 1")
    return root, range(count)


def _natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
