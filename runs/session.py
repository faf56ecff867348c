"""One browser session of the view: its model, the page's state, and what each button does.

Every change to the model goes through ``LiveRun``, which holds one lock for every change and read.

Core Objects: Session, PAUSE_SECONDS.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import solara

from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import ConfigError
from matryoshka.runs.controls import build_model, model_form, scenario_form
from matryoshka.runs.live import LiveRun, current_generation, training_steps_left

PAUSE_SECONDS = 0.05  # Play's rest after each redraw, so that clicks and the browser keep up
log = logging.getLogger(__name__)


class Session:
    """One browser session's model and page state, and what its buttons do.

    Args:
        model: The first model.
    """

    def __init__(self, model: MatryoshkaModel) -> None:
        self.live = LiveRun(model)
        self._ticks = itertools.count(1)  # next() is atomic: threads never bump to the same value
        self.tick = solara.reactive(0)  # bumped when the model changed: the main view redraws
        self.built = solara.reactive(0)  # bumped when Reset built a new model
        self.job = solara.reactive(None)  # "play", "generation", "training" or None
        self.progress = solara.reactive(None)  # a long run's (steps done, steps in all or None)
        self.run_error = solara.reactive(None)  # the model's message when a step failed
        self.form = solara.reactive(model_form(model))  # what the parameter controls show
        self.form_error = solara.reactive(None)  # the model's message when it refused the form
        self.selected = solara.reactive(None)  # the id of the selected agent
        self.redraw_every = solara.reactive(1)  # steps between redraws while playing

    def redraw(self) -> None:
        """Make the page draw the model again."""
        self.tick.set(next(self._ticks))

    def _end(self, error: Exception | None, current: bool) -> None:
        if error is not None:
            log.exception("a step failed", exc_info=error)
            self.run_error.set(f"{type(error).__name__}: {error}")
        if current:
            self.job.set(None)
            self.progress.set(None)
        self.redraw()

    def _run(self, job: str, done: Any, total: int | None = None, **play: Any) -> None:
        self.run_error.set(None)
        self.job.set(job)
        self.progress.set(None if play else (0, total))
        on_progress = None if play else (lambda steps: self.progress.set((steps, total)))
        self.live.start(done, on_end=self._end, on_progress=on_progress, **play)

    def step(self) -> None:
        """One step."""
        self.run_error.set(None)
        try:
            self.live.step()
        except Exception as e:  # noqa: BLE001  (shown on the page: the page must keep working)
            self._end(e, False)
        self.redraw()

    def play(self) -> None:
        """Play, or pause whatever runs."""
        if self.job.value is not None:
            self.live.stop()
            self.job.set(None)
            self.progress.set(None)
            self.redraw()
            return
        self._run("play", lambda m: False, on_redraw=self.redraw, redraw_every=self.redraw_every.value,
                  pause=PAUSE_SECONDS)  # fmt: skip

    def next_generation(self) -> None:
        """Step without redrawing until the generation changes (or the phase, or the run ends)."""
        start = self.live.read(lambda m: (current_generation(m), m.phase))
        self._run("generation", lambda m: (current_generation(m), m.phase) != start)

    def end_of_training(self) -> None:
        """Step without redrawing up to the last step of training (the next step would end it)."""
        first, left = self.live.read(lambda m: (m.steps, training_steps_left(m)))
        if left > 1:
            self._run("training", lambda m: m.steps >= first + left - 1 or m.phase != "train", left - 1)

    def shift(self) -> None:
        """Shift to deployment, between two steps if a job runs."""
        self.live.shift()
        self.redraw()

    def reset(self) -> None:
        """Build a model from the form; show the model's message if it refuses a value."""
        try:
            model = build_model(self.form.value)
        except ConfigError as e:
            self.form_error.set(str(e))
            return
        except Exception as e:  # noqa: BLE001  (shown on the page: the page must keep working)
            log.exception("the model could not be built")
            self.form_error.set(f"{type(e).__name__}: {e}")
            return
        self.live.replace(model)
        for state, value in ((self.job, None), (self.progress, None), (self.run_error, None),
                             (self.form_error, None), (self.selected, None)):  # fmt: skip
            state.set(value)
        self.form.set(model_form(model))
        self.built.set(self.built.value + 1)
        self.redraw()

    def choose_scenario(self, key: str) -> None:
        """Set every control to the scenario's own value (Reset runs it)."""
        self.form.set(scenario_form(key, self.form.value["seed"]))

    def set_param(self, key: str, value: Any) -> None:
        """Keep a control's new value (Reset applies it)."""
        self.form.set({**self.form.value, key: value})
