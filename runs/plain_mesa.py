"""The plain Mesa implementation the benchmark measures the model against, one agent at a time.

``CellAgent`` objects on an ``OrthogonalVonNeumannGrid`` with the maze's walls and its features as
property layers. Each agent runs its own breadth-first search over ``cell.neighborhood`` out to
its horizon, scores every reachable cell by its perceived utility ``w . phi(cell)`` (plus Gaussian
perception noise of the same size as the model's), and moves one step along a shortest path
toward the best cell. It is built from a running model's state (positions, weights, horizons,
noise), so both implementations decide from the same situation. It lives with the benchmark, not
in the product.

Core Objects: PlainOrganism, PlainModel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from mesa import Model
from mesa.discrete_space import Cell, CellAgent, OrthogonalVonNeumannGrid

from matryoshka.agents.paths import DIRECTIONS
from matryoshka.agents.planning import TIE_BREAK_SD
from matryoshka.model.model import MatryoshkaModel


class PlainOrganism(CellAgent):
    """An organism that searches, scores and moves on its own, one agent at a time.

    Args:
        model: The plain model.
        cell: The cell it starts on.
        weights: Effective objective weights, one per feature (zero where not perceived).
        horizon: How many steps it looks ahead.
        noise_sd: Sd of the perception noise on its utility of a cell (0 for none).
    """

    def __init__(
        self, model: PlainModel, cell: Cell, weights: Sequence[float], horizon: int, noise_sd: float
    ) -> None:
        super().__init__(model)
        self.cell = cell
        self.weights = tuple(
            (name, float(w)) for name, w in zip(model.feature_names, weights, strict=True) if w != 0
        )
        self.horizon = int(horizon)
        self.noise_sd = float(noise_sd)

    def search(self) -> dict[Cell, Cell]:
        """Breadth-first search out to the horizon.

        Returns:
            Every reachable cell (its own included) mapped to the first step of a shortest path
            toward it (its own cell for itself).
        """
        start = self.cell
        first_step = {start: start}
        frontier = [start]
        for _ in range(self.horizon):
            reached = []
            for cell in frontier:
                step = first_step[cell]
                for neighbor in cell.neighborhood:
                    if neighbor not in first_step:
                        first_step[neighbor] = neighbor if cell is start else step
                        reached.append(neighbor)
            frontier = reached
        return first_step

    def utility(self, cell: Cell) -> float:
        """Perceived utility of a cell: weights times the cell's property layers, plus noise."""
        value = sum(w * getattr(cell, name) for name, w in self.weights)
        if self.noise_sd > 0:
            value += self.random.gauss(0.0, self.noise_sd)
        return value

    def choose(self, reachable: dict[Cell, Cell]) -> Cell:
        """The reachable cell of highest perceived utility (ties: the lowest cell number)."""
        best, best_utility = self.cell, -math.inf
        for cell in reachable:
            u = self.utility(cell)
            if u > best_utility or (u == best_utility and cell.coordinate < best.coordinate):
                best, best_utility = cell, u
        return best

    def step(self) -> None:
        """Search, choose the best reachable cell, move one step toward it."""
        reachable = self.search()
        self.move_to(reachable[self.choose(reachable)])


class PlainModel(Model):
    """The plain Mesa implementation of one decision: a grid, walls, property layers, agents.

    Args:
        walls: ``(width, height)`` booleans.
        features: ``(width, height, K)`` feature values.
        feature_names: The K feature names (the property layers).
        pos: ``(N,)`` start cells, numbered ``x * height + y``.
        weights: ``(N, K)`` effective objective weights.
        horizons: ``(N,)`` planning horizons.
        noise_sd: ``(K,)`` per-feature perception noise sd, or None for no noise.
        rng: Seed of the model's generators.
    """

    def __init__(
        self,
        walls: np.ndarray,
        features: np.ndarray,
        feature_names: Sequence[str],
        pos: np.ndarray,
        weights: np.ndarray,
        horizons: np.ndarray,
        noise_sd: np.ndarray | None = None,
        rng: Any = None,
    ) -> None:
        super().__init__(rng=rng)
        self.feature_names = tuple(feature_names)
        self.height = walls.shape[1]
        self.grid = OrthogonalVonNeumannGrid(walls.shape, torus=False, capacity=math.inf, random=self.random)
        for k, name in enumerate(self.feature_names):
            self.grid.create_property_layer(name, 0.0).data = features[..., k].astype(float)
        self.grid.create_property_layer("wall", 0.0).data = walls.astype(float)
        self._build_walls(walls)
        if noise_sd is None:
            sd = np.zeros(len(pos))
        else:  # as agents.planning.plan: the utility's sd, with a floor that breaks ties at random
            sd = np.sqrt((np.asarray(weights) ** 2) @ (np.asarray(noise_sd) ** 2)) + TIE_BREAK_SD
        for c, w, h, s in zip(pos, weights, horizons, sd, strict=True):
            x, y = divmod(int(c), self.height)
            PlainOrganism(self, self.grid[(x, y)], w, h, s)

    def _build_walls(self, walls: np.ndarray) -> None:
        """Cut every connection into or out of a wall; order neighbours as the product does.

        Neighbours in ``agents.paths.DIRECTIONS`` order make the plain search break ties between
        equally short paths the way ``Paths.step`` does.
        """
        for cell in self.grid.all_cells:
            x, y = cell.coordinate
            keep = {}
            if not walls[x, y]:
                for dx, dy in DIRECTIONS:
                    other = cell.connections.get((dx, dy))
                    if other is not None and not walls[other.coordinate]:
                        keep[(dx, dy)] = other
            cell.connections = keep
            cell._clear_cache()

    @classmethod
    def from_model(cls, model: MatryoshkaModel, noise: bool = True, rng: Any = None) -> PlainModel:
        """A plain model in the same situation as a running Matryoshka model.

        Args:
            model: The model whose world and live agents to copy.
            noise: Whether agents perceive with the model's perception noise.
            rng: Seed of the plain model's generators.
        """
        pop, world = model.pop, model.world
        slots = pop.slots
        return cls(
            world.walls, world.features, model.preset.features, pop["pos"][slots],
            pop["weights"][slots], pop["horizon"][slots], model.noise if noise else None, rng,
        )  # fmt: skip

    @property
    def cells(self) -> np.ndarray:
        """``(N,)`` the cell number each agent stands on, in order of creation."""
        return np.array([a.cell.coordinate[0] * self.height + a.cell.coordinate[1] for a in self.agents])

    def step(self) -> None:
        """Every agent decides and moves, one at a time."""
        self.agents.do("step")
