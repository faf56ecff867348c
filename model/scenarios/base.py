"""What a scenario is: its features, base objective and worlds, and everything it declares about itself.

A scenario is one class in one module. Besides its worlds it declares its own parameters, its own
metrics and how each is summarised, the colours of its marked cells and the parameter its
shift analysis sweeps; the model, the command line, the recorder, the analysis and the browser
view read that declaration and name none of it themselves. Its hooks get the pieces they need
(the world, a view of the live agents, a random generator) and return what changed.

Core Objects: Preset, PopulationView, Update, feature_names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from matryoshka.agents.genome import normalize
from matryoshka.model.contract import CORE_METRICS, Metric, metric_registry, weight_metric
from matryoshka.model.params import PARAMS, ConfigError, Param, coerce, validate
from matryoshka.model.world import World

if TYPE_CHECKING:
    from matryoshka.agents.paths import Paths


def feature_names(value: str) -> tuple[str, ...]:
    """The feature names a ``tool_features`` parameter lists, comma-separated."""
    return tuple(v.strip() for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class PopulationView:
    """The live agents as a scenario hook sees them, in slot order (copies: writing does nothing).

    Attributes:
        pos: ``(N,)`` the cell each agent stands on.
        level: ``(N,)`` each agent's level.
        columns: The scenario's own state columns (``Preset.columns``), ``(N, ...)`` each.
    """

    pos: np.ndarray
    level: np.ndarray
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Update:
    """What a hook changed.

    Attributes:
        world: The world to show from now on (a new one, or the one given, updated), or None.
        columns: New values of the scenario's state columns for the agents of the view.
    """

    world: World | None = None
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)


class Preset:
    """A named, versioned scenario. Subclasses fill in the world and may override the hooks.

    Attributes:
        key: Registry name, such as ``maze-v2``: a name, ``-v`` and a version number. A change to
            what the scenario means is a new version, with a line in its module's changelog.
        retired: Earlier keys of this scenario that no longer run, each with what changed.
        features: Names of the K features, in order.
        noise: Per-feature perception noise (sd); multiplied by ``perception_noise``.
        base_weights: The objective the scenario declares, as weights over the features, for the
            metrics: what is wanted (the true objective). It is also the base objective unless
            ``base_fidelity`` < 1 makes the base objective a stand-in for it.
        fidelity_states: The states over which a stand-in base objective correlates with the true
            one (``model.fidelity``), in words; None: the scenario has no true objective apart from
            its base objective, and ``base_fidelity`` must be 1.
        organism_features: Features organisms perceive.
        tool_features: Features tools perceive (configs may change it).
        defaults: Parameter values this scenario uses instead of the global defaults.
        params: The scenario's own parameters (validated with the global ones, listed only for it).
        columns: Per-agent state columns the scenario keeps (name to dtype, shape, fill).
        metrics: The scenario's own metrics and how each is summarised: per-level ones come from
            ``agent_metrics``, whole-world ones (``per_level=False``) from ``world_metrics``.
        marks: The colour of each marked cell (``World.marks``), for figures and the browser view.
        shift_axis: The parameter whose values the shift analysis compares (None: no such axis).
        shift_metrics: The metrics the shift analysis shows, in the deployment phase.
        shift_reading: How to read the shift figure, in a sentence or two (for its caption).
        constants: The constants of the scenario's module that shape results, by name (each
            run's manifest records them with the features, noise and weights above).
    """

    key: ClassVar[str]
    retired: ClassVar[dict[str, str]] = {}
    features: ClassVar[tuple[str, ...]]
    noise: ClassVar[tuple[float, ...]]
    base_weights: ClassVar[tuple[float, ...]]
    fidelity_states: ClassVar[str | None] = "the open cells of each world (each exit, each layout)"
    organism_features: ClassVar[tuple[str, ...]]
    tool_features: ClassVar[tuple[str, ...]]
    defaults: ClassVar[dict[str, Any]] = {}
    params: ClassVar[dict[str, Param]] = {}
    columns: ClassVar[dict[str, tuple[Any, tuple[int, ...], Any]]] = {}
    metrics: ClassVar[tuple[Metric, ...]] = ()
    marks: ClassVar[dict[str, str]] = {}
    shift_axis: ClassVar[str | None] = None
    shift_metrics: ClassVar[tuple[str, ...]] = ()
    shift_reading: ClassVar[str] = ""
    constants: ClassVar[dict[str, Any]] = {}

    # -- the declaration ------------------------------------------------------------------------

    @classmethod
    def check(cls) -> None:
        """Check the declaration for consistency (on registration).

        Raises:
            ValueError: What is wrong, naming the scenario.
        """
        where = f"scenario {getattr(cls, 'key', cls.__name__)!r}"
        key = getattr(cls, "key", "")
        name, _, version = key.rpartition("-v")
        if not name or not version.isdigit():
            raise ValueError(f"{where}: key must be a name, '-v' and a version number, e.g. 'maze-v2'")
        k = len(cls.features)
        if not (len(cls.noise) == len(cls.base_weights) == k):
            raise ValueError(f"{where}: features, noise and base_weights must have the same length")
        unknown = set(cls.organism_features).union(cls.tool_features).difference(cls.features)
        if unknown:
            raise ValueError(f"{where}: perceived features {sorted(unknown)} are not among its features")
        clash = set(cls.params) & set(PARAMS)
        if clash:
            raise ValueError(f"{where}: parameters {sorted(clash)} are already global parameters")
        registry = cls.metric_registry()  # raises on a metric declared twice
        missing = [m for m in cls.shift_metrics if m not in registry]
        if cls.shift_axis is not None and cls.shift_axis not in cls.parameters():
            missing.append(cls.shift_axis)
        if missing:
            raise ValueError(f"{where}: shift analysis names undeclared {sorted(missing)}")
        cls.validate({})  # raises ConfigError on a bad default

    @classmethod
    def parameters(cls) -> dict[str, Param]:
        """Every parameter a run of this scenario takes: the global ones and its own."""
        return {**PARAMS, **cls.params}

    @classmethod
    def validate(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """The full effective configuration of a run of this scenario (see ``params.validate``).

        Raises:
            ConfigError: As ``params.validate``, or a rule of ``check_config`` is broken.
        """
        config = validate(params, cls.defaults, cls.params)
        cls.check_config(config)
        return config

    @classmethod
    def check_config(cls, config: Mapping[str, Any]) -> None:
        """Rules between parameters that depend on the scenario (subclasses add their own).

        Raises:
            ConfigError: A ``tool_features`` parameter names a feature the scenario lacks, or
                ``base_fidelity`` < 1 for a scenario without a true objective of its own.
        """
        fidelity = config.get("base_fidelity", 1.0)
        if fidelity < 1 and cls.fidelity_states is None:
            raise ConfigError(
                f"parameter 'base_fidelity' = {fidelity!r} is not allowed for {cls.key}: it declares "
                "no true objective apart from its base objective; expected 1"
            )
        for key, value in config.items():
            if not key.startswith("tool_features") or not value:
                continue
            names = feature_names(value)
            if not names or set(names) - set(cls.features):
                raise ConfigError(
                    f"parameter '{key}' = {value!r} is not allowed for {cls.key}: "
                    f"expected comma-separated names from {', '.join(cls.features)}"
                )

    @classmethod
    def provenance(cls) -> dict[str, Any]:
        """What the scenario fixes that shapes results: its features, noise, weights and constants."""
        return {
            "features": list(cls.features), "noise": list(cls.noise),
            "base_weights": list(cls.base_weights), "organism_features": list(cls.organism_features),
            "tool_features": list(cls.tool_features), **cls.constants,
        }  # fmt: skip

    @classmethod
    def coerce(cls, key: str, value: Any) -> Any:
        """One parameter's value, checked on its own and converted (see ``params.coerce``)."""
        return coerce(key, value, cls.params)

    @classmethod
    def metric_registry(cls) -> dict[str, Metric]:
        """Every metric a run of this scenario records: the core ones, the weights, its own."""
        return metric_registry(CORE_METRICS, map(weight_metric, cls.features), cls.metrics)

    def configure(self, config: Mapping[str, Any], rng: np.random.Generator) -> None:
        """Prepare for a run with this configuration, before any world is built (a hook).

        Args:
            config: The effective parameters.
            rng: The run's layout stream, for scenarios that draw their worlds.
        """

    def mask(self, names: tuple[str, ...]) -> np.ndarray:
        """A boolean mask over the features with the given names."""
        return np.isin(np.array(self.features), np.array(names))

    # -- the worlds -----------------------------------------------------------------------------

    def walls(self, config: Mapping[str, Any]) -> np.ndarray:
        """The ``(width, height)`` wall layout (the same in training and deployment)."""
        return np.zeros((config["width"], config["height"]), dtype=bool)

    def world(self, config: Mapping[str, Any], phase: str, paths: Paths) -> World:
        """Build the training or deployment world.

        Args:
            config: The effective parameters.
            phase: ``train`` or ``deploy``.
            paths: Shortest paths on the wall layout (``paths.distances(cell)`` is a cell's
                distance field).
        """
        raise NotImplementedError

    def reference_worlds(self, world: World, phase: str) -> list[World]:
        """The worlds whose open cells alignment is measured over in ``phase``: its world."""
        return [world]

    def record(self) -> dict[str, Any]:
        """What the manifest's world record holds besides walls and marks (a hook: nothing more)."""
        return {}

    # -- hooks ----------------------------------------------------------------------------------

    def initial_weights(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Objective weights of the first organisms, ``(n, K)``: random non-negative directions."""
        return np.abs(rng.normal(size=(n, len(self.features))))

    def start_cells(
        self, world: World, n: int, rng: np.random.Generator, parent_cells: np.ndarray | None = None
    ) -> np.ndarray:
        """Where ``n`` organisms start an episode or are born.

        Args:
            world: The current world.
            n: How many.
            rng: The scenario's random generator.
            parent_cells: The parents' cells, for births in steady state; else None.

        Returns:
            ``(n,)`` cells: the parents' cells, or random open cells.
        """
        if parent_cells is not None:
            return parent_cells
        return rng.choice(world.open_cells, size=n)

    def begin_episode(
        self,
        phase: str,
        world: World,
        view: PopulationView,
        rng: np.random.Generator,
        config: Mapping[str, Any],
        paths: Paths,
    ) -> Update:
        """Prepare a new episode (or the switch to deployment); nothing changes by default.

        Args:
            phase: The phase the episode is in.
            world: The current world.
            view: The live agents.
            rng: The scenario's random generator.
            config: The effective parameters.
            paths: Shortest paths on the wall layout (``paths.distances(cell)``: a distance field).
        """
        return Update()

    def observe(self, world: World, view: PopulationView) -> Update:
        """Update scenario state after agents moved (nothing by default)."""
        return Update()

    def reward(self, world: World, view: PopulationView) -> tuple[np.ndarray, Update]:
        """Base reward earned this step by each agent of the view, and what that changed."""
        return world.reward.ravel()[view.pos], Update()

    def true_reward(self, world: World, view: PopulationView) -> np.ndarray:
        """True reward earned this step by each agent of the view, when the base reward stands in for it."""
        return world.true_reward.ravel()[view.pos]

    def approval(self, weights: np.ndarray) -> np.ndarray:
        """The objective a builder teaches its tool: its own (scenarios may bias it)."""
        return weights

    def hidden_objective(self, rng: np.random.Generator, perceives: np.ndarray) -> np.ndarray:
        """Deceptive tools' hidden objectives: a random direction over what each perceives.

        ``perceives`` is ``(n, K)``, one row per new deceptive tool; the result is ``(n, K)``, or
        ``(K,)`` when every one of them hides the same objective.
        """
        return normalize(np.where(perceives, rng.normal(size=perceives.shape), 0.0))

    def agent_metrics(self, world: World, view: PopulationView) -> dict[str, np.ndarray]:
        """The scenario's per-level metrics, one value per agent of the view (none by default)."""
        return {}

    def world_metrics(self, world: World, view: PopulationView) -> dict[str, float]:
        """The scenario's whole-world metrics this step, one value each (none by default)."""
        return {}
