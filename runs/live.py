"""The model behind the browser page, shared safely between the page's threads.

A page shows one model at a time. Play and the long runs (+1 generation, Run to end of training)
step it in a background thread while clicks (Shift to deployment, Reset, another feature layer)
arrive in the server's threads and renders read it. Every change to the model (a step, the shift,
a new model) and every read of it holds one lock: a shift requested during a step is applied
between two steps, and a render never sees half a step.

Core Objects: LiveRun, current_generation, training_steps_left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from matryoshka.model.model import MatryoshkaModel
from matryoshka.runs.single import training_steps

PROGRESS_SECONDS = 0.25  # a long run reports its progress at most this often


def current_generation(model: MatryoshkaModel) -> int:
    """The generation alive now (in steady state, the organisms' mean at the last recorded step)."""
    if model.config["selection"] == "steady_state":
        return int(model.datacollector.model_vars["generation"][-1])
    return model.generation


def training_steps_left(model: MatryoshkaModel) -> int:
    """Steps until training ends by itself, counting the step that ends it (0 once it has ended)."""
    if model.phase != "train" or not model.running:
        return 0
    return max(training_steps(model.config) - model.steps, 1)


class LiveRun:
    """A model, the lock that guards it, and at most one background job stepping it.

    Args:
        model: The first model.
    """

    def __init__(self, model: MatryoshkaModel) -> None:
        self.model = model
        self.lock = threading.RLock()
        self._stop: threading.Event | None = None  # the current job's; set when it must end

    def read[T](self, fn: Callable[[MatryoshkaModel], T]) -> T:
        """Call ``fn(model)`` between two steps and return what it returns."""
        with self.lock:
            return fn(self.model)

    def step(self) -> None:
        """One step, unless the run is over."""
        with self.lock:
            if self.model.running:
                self.model.step()

    def shift(self) -> bool:
        """Switch the model to its deployment world between two steps.

        Returns:
            Whether it shifted (False if it was already deployed or the run is over).
        """
        with self.lock:
            if self.model.phase != "train" or not self.model.running:
                return False
            self.model.deploy()
            return True

    def replace(self, model: MatryoshkaModel) -> None:
        """Stop the job and show ``model`` from now on."""
        self.stop()
        with self.lock:
            self.model = model

    @property
    def busy(self) -> bool:
        """Whether a job is stepping the model."""
        return self._stop is not None and not self._stop.is_set()

    def stop(self) -> None:
        """Ask the job to end before its next step (it does not wait for it)."""
        if self._stop is not None:
            self._stop.set()

    def start(
        self,
        done: Callable[[MatryoshkaModel], bool],
        *,
        on_end: Callable[[Exception | None, bool], Any],
        on_redraw: Callable[[], Any] | None = None,
        redraw_every: int = 0,
        pause: float = 0.0,
        on_progress: Callable[[int], Any] | None = None,
    ) -> threading.Thread:
        """Step the model in a background thread until ``done(model)``, the run ends, or ``stop()``.

        A job started while another runs replaces it. Each step and each check of ``done`` hold
        the lock, so clicks and renders interleave with the job between its steps.

        Args:
            done: Called before each step: whether the job is done.
            on_end: Called once when the job ends, with the exception a step raised (or None) and
                whether the job was still the current one (not stopped or replaced).
            on_redraw: Called after every ``redraw_every`` steps (Play); never, if 0.
            redraw_every: Steps between redraws.
            pause: Seconds to wait after each redraw.
            on_progress: Called with the number of steps done, at most every ``PROGRESS_SECONDS``.

        Returns:
            The job's thread (tests join it).
        """
        self.stop()
        stop = self._stop = threading.Event()

        def run() -> None:
            steps, reported, error = 0, time.monotonic(), None
            try:
                while not stop.is_set():
                    with self.lock:
                        if stop.is_set() or not self.model.running or done(self.model):
                            break
                        self.model.step()
                    # Let a click or a render that waits for the lock take it now: without this
                    # yield the job takes the lock back at once, and they can wait many steps.
                    time.sleep(0)
                    steps += 1
                    if redraw_every and on_redraw and steps % redraw_every == 0:
                        on_redraw()
                        stop.wait(pause)
                    elif on_progress and time.monotonic() - reported > PROGRESS_SECONDS:
                        on_progress(steps)
                        reported = time.monotonic()
            except Exception as e:  # noqa: BLE001  (shown on the page: the page must keep working)
                error = e
            current = not stop.is_set()
            stop.set()
            on_end(error, current)

        thread = threading.Thread(target=run, name="matryoshka-live-run", daemon=True)
        thread.start()
        return thread
