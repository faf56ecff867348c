"""The benchmark: Matryoshka's step against its planning kernel and a one-agent-at-a-time Mesa step.

``make bench`` (``python -m matryoshka.runs.bench``) prints, in one process, on ``maze-v2`` with
tools forbidden unless said otherwise:

1. the peak memory of the process once a model of 100,000 organisms (21 x 21) has lived an
   episode, generation turnover included (measured first, before anything bigger is built);
2. at 1,000, 10,000 and 100,000 organisms: the full step, the planning kernel alone on the same
   state (``plan`` and ``Paths.step``: the ratio shows what the rest of the step costs) and the
   same decision made the plain Mesa way, with agent-steps per second and the ratios;
3. at widths 21, 64, 128 and 256 with 2,000 organisms: the time to build the model (walls, path
   tables, both worlds, the first generation and the neighbourhood tables of its horizons), the
   full step and the kernel; and the full step of the same world with tools audited, once its
   organisms have built some (trust, audits and specification over a world's cells: what grows
   with the world when there are tools);
4. one verdict line per target (``TARGETS``).

The plain implementation (``runs.plain_mesa``) makes the same decision one agent at a time, from
the same state. The comparison is conservative: the timed Matryoshka step also records metrics,
collects data and runs selection; the plain step only decides and moves.

Times are the CPU time of this process (``time.process_time``), which waiting for a core shared
with other work does not inflate; on an idle machine they equal wall-clock time, since every
kernel here runs on one thread (BLAS is held to one thread while steps with tools are timed).
Each figure is the fastest of ``repeats`` blocks.

Core Objects: Timing, TARGETS, time_matryoshka, time_plain, time_kernel, compare, build_and_step,
tools_step, peak_memory_mb, main.
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from matryoshka.agents.planning import plan
from matryoshka.model.model import MatryoshkaModel
from matryoshka.runs.plain_mesa import PlainModel

# What the benchmark must show on a 2-core machine: (description, measured value's key, bound, kind).
TARGETS = (
    ("full step <= 1.5x the planning kernel at 10,000 organisms (21 x 21)", "overhead_10k", 1.5, "max"),
    ("full step <= 2x the planning kernel at 2,000 organisms (128 x 128)", "overhead_128", 2.0, "max"),
    ("full step >= 60x the one-at-a-time Mesa step at 10,000 organisms", "vs_plain_10k", 60.0, "min"),
    ("building a 256 x 256 world <= 2 s", "build_256", 2.0, "max"),
    ("peak memory with 100,000 organisms on 21 x 21 <= 1 GB", "peak_mb_100k", 1024.0, "max"),
)
BENCH = {"generations": 100_000, "deploy_episodes": 0, "tool_policy": "forbid"}


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


def tools_step(
    width: int, organisms: int = 2_000, steps: int = 40, warmup: int = 20, seed: int = 0, repeats: int = 3
) -> tuple[Timing, int]:
    """Time the full step of a ``width`` x ``width`` maze whose organisms build tools, audited.

    Returns:
        The fastest block's timing and how many tools were alive after the warmup.
    """
    model = MatryoshkaModel("maze-v2", rng=seed, population=organisms, width=width, height=width,
                            **{**BENCH, "tool_policy": "audit"})  # fmt: skip
    with threadpool_limits(1, user_api="blas"):  # products over many tools would spin a thread per core
        for _ in range(warmup):
            model.step()
        tools = int(np.count_nonzero(model.pop["level"][model.pop.slots] >= 2))
        fast = min((time_matryoshka(model, steps) for _ in range(repeats)), key=attrgetter("seconds"))
    return fast, tools


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
              f"{'full/kernel':>11} {'with tools':>11} {'tools':>6}")  # fmt: skip
    for width in args.widths:
        built, fast, kernel = build_and_step(
            width, args.width_organisms, args.steps, args.warmup, args.seed, args.repeats
        )
        overhead = _ms(fast) / _ms(kernel)
        tooled, tools = tools_step(
            width, args.width_organisms, args.steps, args.warmup, args.seed, args.repeats
        )
        print(f"{width:>5} {args.width_organisms:>9,} {built:>6.2f}s {_ms(fast):>8.1f}ms "
              f"{_ms(kernel):>7.1f}ms {overhead:>10.2f}x {_ms(tooled):>9.1f}ms {tools:>6,}")  # fmt: skip
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
