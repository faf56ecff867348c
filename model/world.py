"""The world: a grid of cells with walls, named features and a base reward.

Core Objects: World, distance_map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from matryoshka.model.cellcounts import FeatureCounts, feature_counts


@dataclass
class World:
    """One variant of a scenario's environment (training or deployment).

    Attributes:
        features: ``(width, height, K)`` feature values, one field per named feature.
        walls: ``(width, height)`` booleans; agents never enter a wall.
        reward: ``(width, height)`` base reward per step for an agent on the cell.
        marks: Named cells to show and measure (for example ``exit``, ``landmark``, ``origin``).
        state: Scenario state that changes as agents act (for example food amounts).
        true_reward: The true objective's reward field when the base reward is a stand-in for it
            (``base_fidelity`` < 1), else None: the reward is the true one.
        layout: Which of the scenario's wall layouts it stands on (shortest paths are per layout).
    """

    features: np.ndarray
    walls: np.ndarray
    reward: np.ndarray
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)
    state: dict[str, np.ndarray] = field(default_factory=dict)
    true_reward: np.ndarray | None = None
    layout: int = 0
    # The features as last seen, and the open cells' distinct rows once seen twice alike
    _open_seen: tuple[np.ndarray, FeatureCounts | None] | None = field(default=None, init=False, repr=False,
                                                                      compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        """``(width, height)``."""
        return self.walls.shape

    @property
    def phi(self) -> np.ndarray:
        """Features of every cell as ``(C, K)``, cells numbered ``x * height + y``."""
        return self.features.reshape(-1, self.features.shape[-1])

    @property
    def open_cells(self) -> np.ndarray:
        """Numbers of the cells that are not walls."""
        return np.flatnonzero(~self.walls.ravel())

    def open_feature_counts(self) -> FeatureCounts:
        """The open cells' features as distinct rows with counts, for sums over all open cells.

        Large worlds repeat feature rows (a maze's corridors, fields that level off), so a sum
        over the distinct rows, each weighed by its count, is much cheaper than over the cells.
        The rows are found once the features have been seen unchanged from one call to the next:
        features that change every step (food that is eaten and regrows) are used as they are,
        one row per cell, which costs no search for duplicates.
        """
        seen = self._open_seen
        if seen is not None and np.array_equal(seen[0], self.features):
            if seen[1] is None:
                phi = seen[0].reshape(-1, seen[0].shape[-1])[self.open_cells]
                seen = self._open_seen = (seen[0], feature_counts(phi))
            return seen[1]
        self._open_seen = (self.features.copy(), None)
        phi = self.phi[self.open_cells]
        return FeatureCounts(phi, np.ones(len(phi)), len(phi))

    def cell(self, xy: tuple[int, int]) -> int:
        """The number of the cell at ``(x, y)``."""
        return int(xy[0]) * self.walls.shape[1] + int(xy[1])

    def xy(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ``(x, y)`` coordinates of cell numbers."""
        return np.divmod(np.asarray(cells), self.walls.shape[1])


def distance_map(shape: tuple[int, int], xy: tuple[float, float]) -> np.ndarray:
    """Euclidean distance of every cell from ``xy``, as a ``(width, height)`` array."""
    x, y = np.indices(shape)
    return np.hypot(x - xy[0], y - xy[1])


def bumps(shape: tuple[int, int], centres: Sequence[tuple[float, float, float]]) -> np.ndarray:
    """A smooth field: the sum of Gaussian bumps ``(x, y, width)`` given as fractions of the grid.

    Scenario layouts are fixed shapes, not random draws, so a scenario is the same in every run.
    """
    field_ = np.zeros(shape)
    for fx, fy, fw in centres:
        d = distance_map(shape, (fx * (shape[0] - 1), fy * (shape[1] - 1)))
        field_ += np.exp(-0.5 * (d / (fw * max(shape))) ** 2)
    return field_ / field_.max()
