"""The browser page's parameter controls: which are shown, what they hold, and the model they build.

The controls hold a *form*: the scenario key, the seed as typed, and one value per control, as the
user left it (a number from a slider or text from its box). Choosing a scenario fills the form with
that scenario's values; Reset builds a model from the form (the model validates it and says what
it refuses); after a Reset the form is refilled from the model's own config, so the controls show
what the model runs with.

The page shows a chosen set of the parameters every scenario takes (``CONTROLS``) and every
parameter the chosen scenario declares for itself.

Core Objects: Control, CONTROLS, scenario_controls, scenario_form, model_form, build_model, pending,
shown, seed_of.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import PARAMS, ConfigError, Param
from matryoshka.model.scenarios import DEFAULT_SCENARIO, get

DEFAULT_SEED = 42


def _always(selection: str) -> bool:
    return True


def _generational(selection: str) -> bool:
    return selection != "steady_state"


def _steady_state(selection: str) -> bool:
    return selection == "steady_state"


@dataclass(frozen=True)
class Control:
    """One parameter's control: a select for choices, else a box with its value and maybe a slider.

    Attributes:
        key: The parameter's name.
        label: What the control says.
        param: The parameter's declaration (type, range, choices).
        low: The slider's lowest value, or None for no slider (the box takes every allowed value).
        high: The slider's highest value.
        step: The slider's step.
        applies: Whether the control applies to a selection mode.
    """

    key: str
    label: str
    param: Param
    low: float | None = None
    high: float | None = None
    step: float | None = None
    applies: Callable[[str], bool] = _always

    @property
    def choices(self) -> tuple[Any, ...] | None:
        """The allowed values of a parameter with choices (or true and false), else None."""
        return (True, False) if self.param.kind is bool else self.param.choices

    @property
    def integer(self) -> bool:
        """Whether the parameter is a whole number."""
        return self.param.kind is int


def _control(key: str, label: str, *slider: float, applies: Callable[[str], bool] = _always) -> Control:
    """A control of a parameter every scenario takes; ``slider`` is ``(low, high, step)``, if any."""
    return Control(key, label, PARAMS[key], *slider, applies=applies)  # type: ignore[arg-type]


# The parameters every scenario takes that the page shows; the others keep the scenario's values.
CONTROLS = (
    _control("selection", "Selection"),
    _control("population", "Population", 2, 1000, 1),
    _control("generations", "Generations", 1, 100, 1, applies=_generational),
    _control("shift_at", "Shift at step", 10, 5000, 10, applies=_steady_state),
    _control("total_steps", "Steps in all", 10, 5000, 10, applies=_steady_state),
    _control("mutation_rate", "Mutation rate", 0, 1, 0.01),
    _control("power", "Initial power", 0, 1, 0.05),
    _control("wisdom", "Initial wisdom", 0, 1, 0.05),
    _control("tool_policy", "Tool policy"),
    _control("max_depth", "Max depth", 1, 6, 1),
    _control("deception_share", "Deception share", 0, 1, 0.05),
)
SLIDER_STEPS = 20  # a scenario's own number parameter: its range in this many slider steps


def scenario_controls(scenario: str) -> list[Control]:
    """A control for each parameter the scenario declares for itself (a slider where it is bounded)."""
    controls = []
    for key, p in get(scenario).params.items():
        label = key.replace("_", " ").capitalize()
        if p.kind in (int, float) and p.low is not None and p.high is not None and math.isfinite(p.high):
            step = 1 if p.kind is int else (p.high - p.low) / SLIDER_STEPS
            controls.append(Control(key, label, p, p.low, p.high, step))
        else:
            controls.append(Control(key, label, p))
    return controls


def controls_of(scenario: str) -> list[Control]:
    """Every control of a scenario: the global ones, then its own."""
    return [*CONTROLS, *scenario_controls(scenario)]


def shown(form: dict[str, Any]) -> list[Control]:
    """The controls that apply to the form's scenario and selection mode."""
    return [c for c in controls_of(form["scenario"]) if c.applies(str(form["selection"]))]


def scenario_form(scenario: str, seed: Any = DEFAULT_SEED) -> dict[str, Any]:
    """The form of a scenario as designed: every control at the scenario's own value."""
    config = get(scenario).validate({})
    return {"scenario": scenario, "seed": str(seed), **{c.key: config[c.key] for c in controls_of(scenario)}}


def model_form(model: MatryoshkaModel) -> dict[str, Any]:
    """The form of a running model: its scenario, seed and config."""
    form = {"scenario": model.preset.key, "seed": seed_of(model)}
    return form | {c.key: model.config[c.key] for c in controls_of(model.preset.key)}


def seed_of(model: MatryoshkaModel) -> str:
    """The seed the page built a model with (the entropy of its root ``SeedSequence``)."""
    return str(model.streams.root.entropy)


def parse_seed(text: Any) -> int:
    """The seed typed in the seed box, as a whole number.

    Raises:
        ConfigError: It is not a whole number of at least 0.
    """
    try:
        seed = int(str(text).strip())
    except ValueError:
        seed = -1
    if seed < 0:
        raise ConfigError(f"seed {str(text)!r} is not allowed: expected a whole number, 0 or more")
    return seed


def build_model(form: dict[str, Any]) -> MatryoshkaModel:
    """Build the model the form describes; controls that do not apply are left to the scenario.

    Raises:
        ConfigError: The model refuses a value (its message names the key, the value and what is
            allowed).
    """
    params = {c.key: form[c.key] for c in shown(form)}
    return MatryoshkaModel(form["scenario"], rng=parse_seed(form["seed"]), **params)


def pending(form: dict[str, Any], model: MatryoshkaModel) -> list[str]:
    """The labels of the controls whose value differs from the running model's (Reset applies them)."""
    running = model_form(model)
    if form["scenario"] != running["scenario"]:
        return ["Scenario"]
    changed = ["Seed"] if str(form["seed"]).strip() != running["seed"] else []
    preset = get(form["scenario"])
    for control in shown(form):
        try:
            value = preset.coerce(control.key, form[control.key])
        except ConfigError:
            value = form[control.key]
        if value != running[control.key]:
            changed.append(control.label)
    return changed


def default_form() -> dict[str, Any]:
    """The form of the page's first model."""
    return scenario_form(DEFAULT_SCENARIO)
