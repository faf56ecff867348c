"""The benchmark: Matryoshka's step against its planning kernel and a one-agent-at-a-time Mesa step.

``make bench`` (``python -m matryoshka.runs.bench``) prints, in one process, on ``maze-v2`` with
tools forbidden:

1. the peak memory of the process once a model of 100,000 organisms (21 x 21) has lived an
   episode, generation turnover included (measured first, before anything bigger is built);
2. at 1,000, 10,000 and 100,000 organisms: the full step, the planning kernel alone on the same
   state (``plan`` and ``Paths.step``: the ratio shows what the rest of the step costs) and the
   same decision made the plain Mesa way, with agent-steps per second and the ratios;
3. at widths 21, 64, 128 and 256 with 2,000 organisms: the time to build the model (walls, path
   tables, both worlds, the first generation and the neighbourhood tables of its horizons), the
   full step and the kernel;
4. one verdict line per target (``TARGETS``).

The plain implementation lives here, not in the product: ``CellAgent`` objects on an
``OrthogonalVonNeumannGrid`` with the maze's walls and its features as property layers. Each agent
runs its own breadth-first search over ``cell.neighborhood`` out to its horizon, scores every
reachable cell by its perceived utility ``w . phi(cell)`` (plus Gaussian perception noise of the
same size as the model's), and moves one step along a shortest path toward the best cell. It is
built from a running model's state (positions, weights, horizons, noise), so both implementations
decide from the same situation. The comparison is conservative: the timed Matryoshka step also
records metrics, collects data and runs selection; the plain step only decides and moves.

Times are the CPU time of this process (``time.process_time``), which waiting for a core shared
with other work does not inflate; on an idle machine they equal wall-clock time, since every
kernel here runs on one thread. Each figure is the fastest of ``repeats`` blocks.

Core Objects: PlainOrganism, PlainModel, Timing, TARGETS, time_matryoshka, time_plain, time_kernel,
compare, build_and_step, peak_memory_mb, main.
"""

from __future__ import annotations

import argparse
import math
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
from mesa import Model
from mesa.discrete_space import Cell, CellAgent, OrthogonalVonNeumannGrid

from matryoshka.agents.planning import TIE_BREAK_SD, plan
from matryoshka.model.model import MatryoshkaModel

# The order of agents.planning.neighbor_table (+x, -x, +y, -y): searching neighbours in this order
# makes the plain search break ties between equally short paths the way the product does.
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))
# What the benchmark must show on a 2-core machine: (description, measured value's key, bound, kind).
TARGETS = (
    ("full step <= 1.5x the planning kernel at 10,000 organisms (21 x 21)", "overhead_10k", 1.5, "max"),
    ("full step <= 2x the planning kernel at 2,000 organisms (128 x 128)", "overhead_128", 2.0, "max"),
    ("full step >= 60x the one-at-a-time Mesa step at 10,000 organisms", "vs_plain_10k", 60.0, "min"),
    ("building a 256 x 256 world <= 2 s", "build_256", 2.0, "max"),
    ("peak memory with 100,000 organisms on 21 x 21 <= 1 GB", "peak_mb_100k", 1024.0, "max"),
)
BENCH = {"generations": 100_000, "deploy_episodes": 0, "tool_policy": "forbid"}


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
        seconds: CPU time of this process over those steps.
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
    start = time.process_time()
    for _ in range(steps):
        step()
    return time.process_time() - start


def time_matryoshka(model: MatryoshkaModel, steps: int) -> Timing:
    """Time ``steps`` full model steps (plan, move, reward, record, collect, select)."""
    n = len(model.pop)
    return Timing("matryoshka", n, steps, _timed(model.step, steps))


def time_plain(model: PlainModel, steps: int) -> Timing:
    """Time ``steps`` steps of the plain one-agent-at-a-time implementation."""
    return Timing("plain mesa", len(model.agents), steps, _timed(model.step, steps))


def time_kernel(model: MatryoshkaModel, steps: int, seed: int = 0) -> Timing:
    """Time the planning kernel alone, ``steps`` times, on the model's current state.

    The inputs are read once, as the model's step reads them (positions, acting weights, horizons,
    features, perception noise); the noise comes from a generator of its own, so the model's
    streams are untouched.
    """
    pop = model.pop
    slots = pop.slots
    pos, act, horizons = pop["pos"][slots], model.acting(slots), model.planning_horizons(slots)
    phi, rng = model.world.phi, np.random.default_rng(seed)

    def kernel() -> None:
        model.paths.step(pos, plan(pos, act, horizons, phi, model.paths, model.noise, rng))

    return Timing("kernel", len(slots), steps, _timed(kernel, steps))


def compare(
    organisms: int,
    steps: int = 40,
    plain_steps: int | None = None,
    warmup: int = 20,
    seed: int = 0,
    repeats: int = 3,
) -> tuple[Timing, Timing, Timing]:
    """Time both implementations and the kernel on ``maze-v2`` with the same organisms.

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
        ``(matryoshka, plain, kernel)`` timings: the fastest block of each.
    """
    model = MatryoshkaModel("maze-v2", rng=seed, population=organisms, **BENCH)
    for _ in range(warmup):
        model.step()
    plain = PlainModel.from_model(model, rng=seed)
    plain_steps = plain_steps or max(1, 10_000 // organisms)
    fast, slow, kernel = [], [], []
    for _ in range(repeats):
        kernel.append(time_kernel(model, steps, seed))
        fast.append(time_matryoshka(model, steps))
        slow.append(time_plain(plain, plain_steps))
    return tuple(min(t, key=attrgetter("seconds")) for t in (fast, slow, kernel))  # type: ignore[return-value]


def build_and_step(
    width: int, organisms: int = 2_000, steps: int = 40, warmup: int = 20, seed: int = 0, repeats: int = 3
) -> tuple[float, Timing, Timing]:
    """Build a ``width`` x ``width`` maze and time its full step and kernel.

    Returns:
        ``(build seconds, full step, kernel)``. Building covers the model's construction and the
        neighbourhood tables of the first generation's horizons (otherwise made by the first step).
    """
    start = time.process_time()
    model = MatryoshkaModel("maze-v2", rng=seed, population=organisms, width=width, height=width, **BENCH)
    for h in np.unique(model.planning_horizons(model.pop.slots)):
        model.paths.near(int(h))
    built = time.process_time() - start
    for _ in range(warmup):
        model.step()
    fast, kernel = [], []
    for _ in range(repeats):
        kernel.append(time_kernel(model, steps, seed))
        fast.append(time_matryoshka(model, steps))
    return built, min(fast, key=attrgetter("seconds")), min(kernel, key=attrgetter("seconds"))


def peak_memory_mb(organisms: int, steps: int = 40, seed: int = 0) -> float:
    """The process's peak resident memory (MB) after a model of ``organisms`` lived ``steps`` steps."""
    model = MatryoshkaModel("maze-v2", rng=seed, population=organisms, **BENCH)
    for _ in range(steps):
        model.step()
    del model
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ms(t: Timing) -> float:
    return 1000 * t.seconds / t.steps


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark: print every figure, then a verdict line per target."""
    parser = argparse.ArgumentParser(
        prog="python -m matryoshka.runs.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--organisms", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--widths", type=int, nargs="*", default=[21, 64, 128, 256])
    parser.add_argument("--width-organisms", type=int, default=2_000, help="organisms in the width runs")
    parser.add_argument("--memory-organisms", type=int, default=100_000, help="0: skip the memory run")
    parser.add_argument("--steps", type=int, default=40, help="Matryoshka steps to time")
    parser.add_argument("--plain-steps", type=int, help="plain steps to time (default: ~10,000 agent-steps)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed Matryoshka steps first")
    parser.add_argument("--repeats", type=int, default=3, help="timed blocks of each; the fastest is kept")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    found: dict[str, float] = {}
    if args.memory_organisms:
        found["peak_mb_100k" if args.memory_organisms == 100_000 else "peak_mb"] = peak = peak_memory_mb(
            args.memory_organisms, args.steps, args.seed
        )
        print(f"peak memory after {args.memory_organisms:,} organisms (21 x 21) lived {args.steps} steps: "
              f"{peak:,.0f} MB\n")  # fmt: skip
    print(f"{'organisms':>9} {'full step':>10} {'kernel':>9} {'full/kernel':>11} {'plain step':>11} "
          f"{'agent-steps/s':>14} {'plain /s':>10} {'vs plain':>9}")  # fmt: skip
    for n in args.organisms:
        fast, plain, kernel = compare(n, args.steps, args.plain_steps, args.warmup, args.seed, args.repeats)
        overhead, ratio = fast.seconds / fast.steps / (kernel.seconds / kernel.steps), fast.rate / plain.rate
        print(f"{n:>9,} {_ms(fast):>8.1f}ms {_ms(kernel):>7.1f}ms {overhead:>10.2f}x {_ms(plain):>9.0f}ms "
              f"{fast.rate:>14,.0f} {plain.rate:>10,.0f} {ratio:>8.1f}x")  # fmt: skip
        if n == 10_000:
            found["overhead_10k"], found["vs_plain_10k"] = overhead, ratio
    if args.widths:
        print(f"\n{'width':>5} {'organisms':>9} {'build':>7} {'full step':>10} {'kernel':>9} "
              f"{'full/kernel':>11}")  # fmt: skip
    for width in args.widths:
        built, fast, kernel = build_and_step(
            width, args.width_organisms, args.steps, args.warmup, args.seed, args.repeats
        )
        overhead = _ms(fast) / _ms(kernel)
        print(f"{width:>5} {args.width_organisms:>9,} {built:>6.2f}s {_ms(fast):>8.1f}ms "
              f"{_ms(kernel):>7.1f}ms {overhead:>10.2f}x")  # fmt: skip
        if args.width_organisms == 2_000:
            found.update({128: {"overhead_128": overhead}, 256: {"build_256": built}}.get(width, {}))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of the whole benchmark process: {peak:,.0f} MB\n")
    for text, key, bound, kind in TARGETS:
        if key not in found:
            print(f"target: {text}: not measured in this run")
            continue
        ok = found[key] <= bound if kind == "max" else found[key] >= bound
        print(f"target: {text}: {'met' if ok else 'NOT met'} ({found[key]:,.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
