"""The page's model between threads: the lock, background jobs, and where training ends."""

from __future__ import annotations

import threading
import time

import pytest

from matryoshka.agents.portrayal import world_svg
from matryoshka.model.model import MatryoshkaModel
from matryoshka.runs.charts import all_charts
from matryoshka.runs.live import LiveRun, current_generation, training_steps_left

SMALL = {
    "maze-v2": {"population": 10, "generations": 3, "episodes_per_generation": 2, "episode_steps": 5},
    "evolution-v1": {"population": 20, "shift_at": 25, "total_steps": 40},
    "approval-v1": {"population": 10, "generations": 2, "episode_steps": 6},
}


@pytest.mark.parametrize("scenario", sorted(SMALL))
def test_training_steps_left_counts_to_the_step_that_shifts(scenario: str) -> None:
    model = MatryoshkaModel(scenario, rng=3, **SMALL[scenario])
    left = training_steps_left(model)
    assert left == {"maze-v2": 5 * 3 * 2, "evolution-v1": 25, "approval-v1": 6 * 2}[scenario]
    for n in range(left - 1):
        model.step()
        assert training_steps_left(model) == left - 1 - n
    assert model.phase == "train"
    model.step()
    assert model.phase == "deploy" and training_steps_left(model) == 0


def test_a_manual_shift_ends_training() -> None:
    model = MatryoshkaModel("maze-v2", rng=3, **SMALL["maze-v2"])
    model.deploy()
    assert training_steps_left(model) == 0


def test_current_generation_is_the_organisms_mean_in_steady_state() -> None:
    model = MatryoshkaModel("evolution-v1", rng=4, population=20, total_steps=400, shift_at=300)

    def organisms_mean() -> int:
        pop = model.pop
        return int(pop["generation"][pop.slots[pop["level"][pop.slots] == 1]].mean())

    for _ in range(299):
        model.step()
    before = organisms_mean()
    model.step()  # records the generation, then organisms are born and die
    assert 0 < before <= current_generation(model) <= organisms_mean()
    assert model.generation == 0  # the model's own counter is for generational runs


class SteppingStandIn:
    """A model whose step takes a while and notes whether a shift ever landed inside one."""

    def __init__(self) -> None:
        self.running, self.phase, self.steps = True, "train", 0
        self.in_step = False
        self.shifts_inside_a_step = 0
        self.shifts = 0

    def step(self) -> None:
        self.in_step = True
        time.sleep(0.002)  # long enough that an unguarded shift from another thread lands inside
        self.steps += 1
        self.in_step = False

    def deploy(self) -> None:
        self.shifts += 1
        self.shifts_inside_a_step += self.in_step
        self.phase = "train"  # so that the next request shifts again


def test_a_shift_during_a_job_is_applied_between_steps() -> None:
    model = SteppingStandIn()
    live = LiveRun(model)
    ended = threading.Event()
    thread = live.start(lambda m: m.steps >= 400, on_end=lambda error, current: ended.set())
    while not ended.is_set() and model.shifts < 200:
        live.shift()
    thread.join()
    assert model.shifts >= 20  # the shifts interleaved with the job's steps
    assert model.shifts_inside_a_step == 0
    assert model.steps == 400


def test_renders_read_a_real_model_safely_while_it_plays() -> None:
    # training far longer than the reads take, so that the shift always lands in training
    live = LiveRun(MatryoshkaModel("maze-v2", rng=5, population=30, generations=10_000))
    ended: list[tuple] = []
    redraws = []
    thread = live.start(lambda m: False, on_end=lambda *a: ended.append(a),
                        on_redraw=lambda: redraws.append(1), redraw_every=1)  # fmt: skip
    reads, shifted_at = 0, None
    while thread.is_alive():
        live.read(lambda m: (world_svg(m, "landmark"), all_charts(m), all_charts(m, "step")))
        reads += 1
        if reads == 5:
            with live.lock:  # the step at which the shift lands, and the shift, between two steps
                shifted_at = live.model.steps
                assert live.shift()
    thread.join()
    model = live.model
    assert ended == [(None, True)] and len(redraws) == model.steps and not model.running
    assert model.steps == shifted_at + 2 * 40  # two whole deployment episodes of 40 steps
    assert len(model.datacollector.get_model_vars_dataframe()) == model.steps + 1


def test_a_new_job_or_stop_ends_the_old_one_and_a_failing_step_is_reported() -> None:
    live = LiveRun(SteppingStandIn())
    ends: list[tuple] = []
    first = live.start(lambda m: False, on_end=lambda e, current: ends.append(("first", current)))
    second = live.start(lambda m: m.steps >= 30, on_end=lambda e, current: ends.append(("second", current)))
    first.join()
    second.join()
    assert ("first", False) in ends and ("second", True) in ends and not live.busy

    def fail() -> None:
        raise ValueError("broken step")

    live.model.step = fail
    errors: list[Exception | None] = []
    live.start(lambda m: False, on_end=lambda e, current: errors.append(e)).join()
    assert str(errors[0]) == "broken step"
    third = live.start(lambda m: False, on_end=lambda e, current: None)
    live.stop()
    third.join()
    assert not live.busy
