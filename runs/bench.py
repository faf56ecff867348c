"""The benchmark: Matryoshka's vectorized step against a plain one-agent-at-a-time Mesa step.

``make bench`` (``python -m matryoshka.runs.bench``) times the full ``MatryoshkaModel`` step on ``maze-v2`` at
1,000 and 10,000 organisms (tools forbidden), then the same decision made the plain Mesa way, in
the same process, and prints agent-steps per second for each and their ratio.

The plain implementation lives here, not in the product: ``CellAgent`` objects on an
``OrthogonalVonNeumannGrid`` with the maze's walls and its features as property layers. Each agent
runs its own breadth-first search over ``cell.neighborhood`` out to its horizon, scores every
reachable cell by its perceived utility ``w . phi(cell)`` (plus Gaussian perception noise of the
same size as the model's), and moves one step along a shortest path toward the best cell. It is
built from a running model's state (positions, weights, horizons, noise), so both implementations
decide from the same situation. The comparison is conservative: the timed Matryoshka step also
records metrics, collects data and runs selection; the plain step only decides and moves.

Core Objects: PlainOrganism, PlainModel, Timing, time_matryoshka, time_plain, compare, main.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
from mesa import Model
from mesa.discrete_space import Cell, CellAgent, OrthogonalVonNeumannGrid

from matryoshka.agents.planning import TIE_BREAK_SD
from matryoshka.model.model import MatryoshkaModel

# The order of agents.planning.neighbor_table (+x, -x, +y, -y): searching neighbours in this order
# makes the plain search break ties between equally short paths the way the product does.
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))
TARGET_RATIO = 10.0


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
        """Cut every connection into or out of a wall; order neighbours as the product does."""
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


@dataclass(frozen=True)
class Timing:
    """How long an implementation took for a number of steps.

    Attributes:
        implementation: ``matryoshka`` or ``plain mesa``.
        organisms: Agents per step.
        steps: Steps timed.
        seconds: Wall-clock time of those steps.
    """

    implementation: str
    organisms: int
    steps: int
    seconds: float

    @property
    def rate(self) -> float:
        """Agent-steps per second."""
        return self.organisms * self.steps / self.seconds


def _timed(step: Any, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - start


def time_matryoshka(model: MatryoshkaModel, steps: int) -> Timing:
    """Time ``steps`` full model steps (plan, move, reward, record, collect, select)."""
    n = len(model.pop)
    return Timing("matryoshka", n, steps, _timed(model.step, steps))


def time_plain(model: PlainModel, steps: int) -> Timing:
    """Time ``steps`` steps of the plain one-agent-at-a-time implementation."""
    return Timing("plain mesa", len(model.agents), steps, _timed(model.step, steps))


def compare(
    organisms: int,
    steps: int = 40,
    plain_steps: int | None = None,
    warmup: int = 20,
    seed: int = 0,
    repeats: int = 3,
) -> tuple[Timing, Timing]:
    """Time both implementations on ``maze-v2`` with the same organisms, in this process.

    Tools are forbidden, so that both implementations move the same organisms. The Matryoshka
    model first runs ``warmup`` steps, so that organisms have spread from the origin; the plain
    model is then built from its state. Construction is not timed. Each implementation is timed
    ``repeats`` times, alternately, and the fastest block of each is kept, so that other load on
    the machine disturbs the ratio as little as possible.

    Args:
        organisms: Population size.
        steps: Matryoshka steps per block (the default, one episode, includes one selection).
        plain_steps: Plain steps per block (default: about 10,000 agent-steps, at least 1).
        warmup: Untimed Matryoshka steps before the snapshot.
        seed: Seed of both models.
        repeats: Timed blocks of each implementation.

    Returns:
        ``(matryoshka, plain)`` timings: the fastest block of each.
    """
    model = MatryoshkaModel(
        "maze-v2",
        rng=seed,
        population=organisms,
        generations=100_000,
        deploy_episodes=0,
        tool_policy="forbid",
    )
    for _ in range(warmup):
        model.step()
    plain = PlainModel.from_model(model, rng=seed)
    plain_steps = plain_steps or max(1, 10_000 // organisms)
    fast, slow = [], []
    for _ in range(repeats):
        fast.append(time_matryoshka(model, steps))
        slow.append(time_plain(plain, plain_steps))
    return min(fast, key=attrgetter("seconds")), min(slow, key=attrgetter("seconds"))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print agent-steps per second and the ratio for each size."""
    parser = argparse.ArgumentParser(
        prog="python -m matryoshka.runs.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--organisms", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--steps", type=int, default=40, help="Matryoshka steps to time")
    parser.add_argument("--plain-steps", type=int, help="plain steps to time (default: ~10,000 agent-steps)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed Matryoshka steps first")
    parser.add_argument("--repeats", type=int, default=3, help="timed blocks of each; the fastest is kept")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"{'organisms':>9}  {'implementation':<14} {'steps':>5} {'seconds':>8} {'agent-steps/s':>14}")
    ratios = {}
    for n in args.organisms:
        fast, plain = compare(n, args.steps, args.plain_steps, args.warmup, args.seed, args.repeats)
        for t in (fast, plain):
            print(f"{n:>9,}  {t.implementation:<14} {t.steps:>5} {t.seconds:>8.2f} {t.rate:>14,.0f}")
        ratios[n] = fast.rate / plain.rate
        print(f"{n:>9,}  ratio {ratios[n]:.1f}x")
    if 10_000 in ratios:
        verdict = "met" if ratios[10_000] >= TARGET_RATIO else "NOT met"
        print(f"target: >= {TARGET_RATIO:.0f}x at 10,000 organisms: {verdict} ({ratios[10_000]:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
