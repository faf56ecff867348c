"""What a scenario is: the features, the base objective and the worlds of one experiment.

Core Objects: Preset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from matryoshka.agents.genome import normalize
from matryoshka.model.contract import CORE_METRICS, Metric, metric_registry, weight_metric
from matryoshka.model.world import World

if TYPE_CHECKING:
    from matryoshka.agents.paths import Paths
    from matryoshka.model.model import MatryoshkaModel


class Preset:
    """A named, versioned scenario. Subclasses fill in the world and may override the hooks.

    Attributes:
        key: Registry name, such as ``maze-v1``.
        features: Names of the K features, in order.
        noise: Per-feature perception noise (sd); multiplied by ``perception_noise``.
        base_weights: The base objective as weights over the features, for the metrics.
        organism_features: Features organisms perceive.
        tool_features: Features tools perceive (configs may change it).
        defaults: Parameter values this scenario uses instead of the global defaults.
        columns: Extra per-agent state columns the scenario keeps (name to dtype, shape, fill).
        metrics: The scenario's own metrics (``agent_metrics`` computes them) and how each is
            summarised.
    """

    key: ClassVar[str]
    features: ClassVar[tuple[str, ...]]
    noise: ClassVar[tuple[float, ...]]
    base_weights: ClassVar[tuple[float, ...]]
    organism_features: ClassVar[tuple[str, ...]]
    tool_features: ClassVar[tuple[str, ...]]
    defaults: ClassVar[dict[str, Any]] = {}
    columns: ClassVar[dict[str, tuple[Any, tuple[int, ...], Any]]] = {}
    metrics: ClassVar[tuple[Metric, ...]] = ()

    def metric_registry(self) -> dict[str, Metric]:
        """Every metric a run of this scenario records: the core ones, the weights, its own."""
        return metric_registry(CORE_METRICS, map(weight_metric, self.features), self.metrics)

    def mask(self, names: tuple[str, ...]) -> np.ndarray:
        """A boolean mask over the features with the given names."""
        return np.isin(np.array(self.features), np.array(names))

    def walls(self, config: dict[str, Any]) -> np.ndarray:
        """The ``(width, height)`` wall layout (the same in training and deployment)."""
        return np.zeros((config["width"], config["height"]), dtype=bool)

    def world(self, config: dict[str, Any], phase: str, paths: Paths) -> World:
        """Build the training or deployment world.

        Args:
            config: The effective parameters.
            phase: ``train`` or ``deploy``.
            paths: Shortest paths on the wall layout (``paths.distances(cell)`` is a cell's
                distance field).
        """
        raise NotImplementedError

    def initial_weights(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Objective weights of the first organisms, ``(n, K)``: random non-negative directions."""
        return np.abs(rng.normal(size=(n, len(self.features))))

    def start_cells(
        self, model: MatryoshkaModel, n: int, parents: np.ndarray | None
    ) -> np.ndarray:
        """Where ``n`` organisms start an episode or are born.

        Args:
            model: The model.
            n: How many.
            parents: The parents' slots for births in steady state, else None.

        Returns:
            ``(n,)`` cells: the parents' cells, or random open cells.
        """
        if parents is not None and model.config["selection"] == "steady_state":
            return model.pop["pos"][parents]
        return model.streams["scenario"].choice(model.world.open_cells, size=n)

    def begin_episode(self, model: MatryoshkaModel) -> None:
        """Prepare the world for a new episode (a hook; nothing by default)."""

    def observe(self, model: MatryoshkaModel) -> None:
        """Update scenario state after agents moved (a hook; nothing by default)."""

    def reward(self, model: MatryoshkaModel, pos: np.ndarray) -> np.ndarray:
        """Base reward earned this step by agents standing on ``pos``."""
        return model.world.reward.ravel()[pos]

    def approval(self, weights: np.ndarray) -> np.ndarray:
        """The objective a builder teaches its tool: its own (scenarios may bias it)."""
        return weights

    def hidden_objective(self, rng: np.random.Generator, perceives: np.ndarray) -> np.ndarray:
        """A deceptive tool's hidden objective: a random direction over what it perceives."""
        return normalize(np.where(perceives, rng.normal(size=perceives.shape), 0.0))

    def agent_metrics(self, model: MatryoshkaModel) -> dict[str, np.ndarray]:
        """Scenario metrics per live slot, recorded by level (none by default)."""
        return {}
