"""The benchmark's plain Mesa implementation makes the same decision as the vectorized kernels.

Nothing here looks at wall-clock time: only that both implementations run, count agent-steps,
and, with perception noise off, move every agent to the same next cell.
"""

from __future__ import annotations

import numpy as np
import pytest

from matryoshka.agents.paths import Paths
from matryoshka.agents.planning import horizon, plan
from matryoshka.model.model import MatryoshkaModel
from matryoshka.runs.bench import (
    TARGETS,
    Timing,
    build_and_step,
    compare,
    main,
    time_kernel,
    time_matryoshka,
    time_plain,
    tools_step,
)
from matryoshka.runs.plain_mesa import PlainModel

# The U of tests/test_planning.py: walls at (1, 0) and (1, 1); the best cell, 6, is behind them.
U_WALLS = np.zeros((3, 3), dtype=bool)
U_WALLS[1, 0] = U_WALLS[1, 1] = True
U_PHI = np.array([0.5, 0.0, 1.0, 0.0, 0.0, 2.0, 10.0, 0.1, 0.2]).reshape(3, 3, 1)


def kernel_step(walls, features, pos, weights, horizons):
    paths = Paths(walls, int(horizons.max()))
    target = plan(pos, weights, horizons, features.reshape(-1, features.shape[-1]), paths)
    return paths.step(pos, target)


@pytest.mark.parametrize(("start", "h", "expected"), [(0, 3, 1), (0, 6, 1), (8, 2, 7), (8, 1, 5), (6, 1, 6)])
def test_plain_agent_goes_around_the_wall_like_the_kernel(start, h, expected):
    pos, weights, horizons = np.array([start]), np.array([[1.0]]), np.array([h])
    plain = PlainModel(U_WALLS, U_PHI, ["value"], pos, weights, horizons, rng=0)
    plain.step()
    assert plain.cells.tolist() == [expected]
    assert kernel_step(U_WALLS, U_PHI, pos, weights, horizons).tolist() == [expected]


def test_plain_walks_the_u_to_the_best_cell():
    plain = PlainModel(U_WALLS, U_PHI, ["value"], np.array([0]), np.array([[1.0]]), np.array([6]), rng=0)
    path = []
    for _ in range(7):
        plain.step()
        path.append(int(plain.cells[0]))
    assert path == [1, 2, 5, 8, 7, 6, 6]
    assert plain.grid._mesa_property_layers["wall"].data[1, 0] == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plain_and_vectorized_decisions_agree_without_noise(seed):
    rng = np.random.default_rng(seed)
    walls = rng.random((9, 7)) < 0.25
    features = rng.random((9, 7, 3))
    n = 60
    pos = rng.choice(np.flatnonzero(~walls.ravel()), size=n)
    weights = rng.normal(size=(n, 3)) * (rng.random((n, 3)) < 0.8)  # some features not perceived
    horizons = horizon(rng.random(n), 5)
    plain = PlainModel(walls, features, ["a", "b", "c"], pos, weights, horizons, rng=seed)
    expected = pos
    for _ in range(3):  # several steps, so that ties between equally short paths are exercised
        expected = kernel_step(walls, features, expected, weights, horizons)
        plain.step()
        assert plain.cells.tolist() == expected.tolist()


def test_plain_from_a_model_copies_its_state_and_noise_keeps_moves_legal():
    model = MatryoshkaModel("maze-v2", rng=1, population=30, tool_policy="forbid")
    for _ in range(5):
        model.step()
    slots = model.pop.slots
    plain = PlainModel.from_model(model, rng=1)
    assert plain.cells.tolist() == model.pop["pos"][slots].tolist()
    layer = plain.grid._mesa_property_layers["landmark"].data
    assert np.array_equal(layer, model.world.features[..., 1])
    before = plain.cells
    plain.step()
    after = plain.cells
    assert all(model.paths.distances(b)[a] <= 1 for b, a in zip(before, after, strict=True))
    assert not model.world.walls.ravel()[after].any()


def test_timing_functions_at_tiny_size():
    fast, plain, kernel = compare(organisms=20, steps=3, plain_steps=2, warmup=2, seed=0, repeats=2)
    assert isinstance(fast, Timing) and isinstance(plain, Timing) and isinstance(kernel, Timing)
    assert (kernel.organisms, kernel.steps) == (20, 3)
    assert (fast.organisms, fast.steps, plain.organisms, plain.steps) == (20, 3, 20, 2)
    assert fast.rate > 0 and plain.rate > 0
    assert fast.rate == pytest.approx(20 * 3 / fast.seconds)
    model = MatryoshkaModel("maze-v2", rng=0, population=10, tool_policy="forbid")
    assert time_matryoshka(model, 2).organisms == 10 and model.steps == 2
    assert time_plain(PlainModel.from_model(model), 1).steps == 1
    before = model.pop["pos"].copy()
    assert time_kernel(model, 2).organisms == 10
    assert np.array_equal(model.pop["pos"], before) and model.steps == 2  # the kernel moves nobody
    built, fast, kernel = build_and_step(30, organisms=12, steps=2, warmup=1, repeats=1)
    assert built > 0 and fast.organisms == kernel.organisms == 12


def test_the_step_with_tools_is_timed_once_organisms_have_built_them():
    tooled, tools = tools_step(21, organisms=40, steps=3, warmup=6, repeats=2)
    assert tools > 0  # the audited step has tools to trust, audit and specify for
    assert tooled.steps == 3 and tooled.organisms > 40  # the 40 organisms and the tools they built
    assert tooled.seconds > 0


def test_main_prints_every_section_and_a_line_per_target(capsys):
    argv = ["--organisms", "16", "--widths", "21", "--width-organisms", "16", "--memory-organisms", "16",
            "--steps", "2", "--plain-steps", "2", "--warmup", "1", "--repeats", "1"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "peak memory after 16 organisms" in out and "full/kernel" in out and "vs plain" in out
    assert "build" in out and "with tools" in out and "peak memory of the whole benchmark process" in out
    # at these tiny sizes no target is measured, and each says so
    assert out.count("target: ") == len(TARGETS) and out.count("not measured") == len(TARGETS)
