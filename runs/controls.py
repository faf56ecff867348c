"""The browser page's parameter controls: which are shown, what they hold, and the model they build.

The controls hold a *form*: the scenario key, the seed as typed, and one value per control, as the
user left it (a number from a slider or text from its box). Choosing a scenario fills the form with
that scenario's values; Reset builds a model from the form (the model validates it and says what
it refuses); after a Reset the form is refilled from the model's own config, so the controls show
what the model runs with.

Core Objects: Control, CONTROLS, scenario_form, model_form, build_model, pending, shown, seed_of.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import PARAMS, ConfigError, validate
from matryoshka.model.scenarios import DEFAULT_SCENARIO, get

DEFAULT_SEED = 42
# Parameters that only some scenarios read, until scenarios declare their own parameters.
SCENARIO_PARAMS = {"random_exit_share": ("maze-v1",)}


def _always(scenario: str, selection: str) -> bool:
    return True


def _generational(scenario: str, selection: str) -> bool:
    return selection != "steady_state"


def _steady_state(scenario: str, selection: str) -> bool:
    return selection == "steady_state"


@dataclass(frozen=True)
class Control:
    """One parameter's control: a select for choices, else a slider with a number box beside it.

    Attributes:
        key: The parameter's name in ``model.params.PARAMS``.
        label: What the control says.
        low: The slider's lowest value (the box takes every allowed value).
        high: The slider's highest value.
        step: The slider's step.
        applies: Whether the control applies to a scenario key and selection mode.
    """

    key: str
    label: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05
    applies: Callable[[str, str], bool] = _always

    @property
    def choices(self) -> tuple[str, ...] | None:
        """The allowed values of a parameter with choices, else None."""
        return PARAMS[self.key].choices

    @property
    def integer(self) -> bool:
        """Whether the parameter is a whole number."""
        return PARAMS[self.key].kind is int


CONTROLS = (
    Control("selection", "Selection"),
    Control("population", "Population", 2, 1000, 1),
    Control("generations", "Generations", 1, 100, 1, _generational),
    Control("shift_at", "Shift at step", 10, 5000, 10, _steady_state),
    Control("total_steps", "Steps in all", 10, 5000, 10, _steady_state),
    Control("mutation_rate", "Mutation rate", 0, 1, 0.01),
    Control("power", "Initial power", 0, 1, 0.05),
    Control("wisdom", "Initial wisdom", 0, 1, 0.05),
    Control("tool_policy", "Tool policy"),
    Control("max_depth", "Max depth", 1, 6, 1),
    Control("deception_share", "Deception share", 0, 1, 0.05),
    Control("random_exit_share", "Random exit share", 0, 1, 0.05),
)


def applies(control: Control, scenario: str, selection: str) -> bool:
    """Whether ``control`` applies to the scenario and selection mode."""
    only = SCENARIO_PARAMS.get(control.key)
    return control.applies(scenario, selection) and (only is None or scenario in only)


def shown(form: dict[str, Any]) -> list[Control]:
    """The controls that apply to the form's scenario and selection mode."""
    return [c for c in CONTROLS if applies(c, form["scenario"], str(form["selection"]))]


def scenario_form(scenario: str, seed: Any = DEFAULT_SEED) -> dict[str, Any]:
    """The form of a scenario as designed: every control at the scenario's own value."""
    config = validate({}, get(scenario).defaults)
    return {"scenario": scenario, "seed": str(seed), **{c.key: config[c.key] for c in CONTROLS}}


def model_form(model: MatryoshkaModel) -> dict[str, Any]:
    """The form of a running model: its scenario, seed and config."""
    form = {"scenario": model.preset.key, "seed": seed_of(model)}
    return form | {c.key: model.config[c.key] for c in CONTROLS}


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
    changed = ["Scenario"] if form["scenario"] != running["scenario"] else []
    if str(form["seed"]).strip() != running["seed"]:
        changed.append("Seed")
    for control in shown(form):
        try:
            value = validate({control.key: form[control.key]})[control.key]
        except ConfigError:
            value = form[control.key]
        if value != running[control.key]:
            changed.append(control.label)
    return changed


def default_form() -> dict[str, Any]:
    """The form of the page's first model."""
    return scenario_form(DEFAULT_SCENARIO)
