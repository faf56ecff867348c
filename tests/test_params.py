"""Parameter validation: types, ranges, choices, unknown names, and scenario defaults."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import PARAMS, ConfigError, Param, validate
from matryoshka.model.scenarios import REGISTRY

# The parameter names the README and experiment files promise users; they must keep existing.
USER_NAMES = ("population", "generations", "episode_steps", "deploy_episodes", "shift_at", "selection",
              "mutation_rate", "power", "wisdom", "random_exit_share", "width", "height")  # fmt: skip


def test_user_facing_names_exist():
    assert set(USER_NAMES) <= set(REGISTRY["maze-v2"].parameters())


def test_every_default_is_allowed():
    config = validate({})
    assert set(config) == set(PARAMS)
    assert validate(config) == config  # the defaults pass their own checks
    for key, cls in REGISTRY.items():
        assert set(cls.defaults) <= set(cls.parameters()), key
        assert cls.validate(cls.defaults) == cls.validate({}), key


def test_strings_from_the_command_line_are_converted():
    config = validate({"population": "300", "mutation_rate": "0.25", "generations": "1e3",
                       "selection": "neutral"})  # fmt: skip
    assert config["population"] == 300 and isinstance(config["population"], int)
    assert config["mutation_rate"] == 0.25 and isinstance(config["mutation_rate"], float)
    assert config["generations"] == 1000 and isinstance(config["generations"], int)
    assert config["selection"] == "neutral"
    assert isinstance(validate({"mutation_rate": 1})["mutation_rate"], float)


def test_scenario_defaults_apply_and_the_user_overrides_them():
    assert validate({}, {"width": 30})["width"] == 30
    assert validate({"width": "40"}, {"width": 30})["width"] == 40


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"unknown parameter 'populaton'\. Did you mean 'population'\?"):
        validate({"populaton": 3})
    with pytest.raises(ConfigError, match=r"unknown parameter 'zzz'\. Allowed: ") as err:
        validate({"zzz": 3})
    assert "Did you mean" not in str(err.value)


def out_of_range(spec: Param) -> list:
    values = []
    if spec.low is not None and math.isfinite(spec.low):
        values.append(spec.low - (1 if spec.kind is int else 0.5))
    if spec.high is not None and math.isfinite(spec.high):
        values.append(spec.high + (1 if spec.kind is int else 0.5))
    return values


@pytest.mark.parametrize("key", sorted(k for k, p in PARAMS.items() if p.kind in (int, float)))
def test_numbers_out_of_range_or_of_the_wrong_type_are_refused(key):
    spec = PARAMS[key]
    bad = [*out_of_range(spec), "ten", "", True, "nan", float("nan"), [1]]
    if spec.kind is int:
        bad += [2.5, "2.5", "inf"]
    for value in bad:
        with pytest.raises(ConfigError) as err:
            validate({key: value})
        message = str(err.value)
        assert f"'{key}'" in message and repr(value) in message, message
        assert spec.allowed() in message, message


@pytest.mark.parametrize("key", sorted(k for k, p in PARAMS.items() if p.choices))
def test_choices_are_enforced_and_listed(key):
    spec = PARAMS[key]
    for choice in spec.choices:
        assert validate({key: choice})[key] == choice
    with pytest.raises(ConfigError) as err:
        validate({key: "nonsense"})
    assert all(repr(c) in str(err.value) for c in spec.choices)
    with pytest.raises(ConfigError):
        validate({key: 3})


def test_allowed_describes_the_range_in_words():
    assert PARAMS["population"].allowed() == "an integer in [2, 100000]"
    assert PARAMS["power"].allowed() == "a number in [0, 1]"
    assert PARAMS["selection"].allowed() == "one of 'generational', 'steady_state', 'neutral'"
    assert Param(bool, False, "x").allowed() == "true or false"


def test_boolean_parameters_take_true_and_false():
    spec = Param(bool, False, "a flag")
    from matryoshka.model import params as module

    assert module._coerce("flag", "True", spec) is True
    assert module._coerce("flag", False, spec) is False
    with pytest.raises(ConfigError, match="true or false"):
        module._coerce("flag", "yes", spec)


def test_the_model_validates_too():
    with pytest.raises(ConfigError, match="'population'"):
        MatryoshkaModel("maze-v2", rng=0, population=1)
    with pytest.raises(ConfigError, match="Did you mean 'mutation_rate'"):
        MatryoshkaModel("maze-v2", rng=0, mutation_rat=0.1)
    model = MatryoshkaModel("maze-v2", rng=0, population="12", episode_steps="3")
    assert model.config["population"] == 12 and len(model.agents) == 12


# Parameters that set a run's size or length: any value in range runs, only for longer.
SIZES = ("width", "height", "population", "generations", "episode_steps", "episodes_per_generation",
         "deploy_episodes", "total_steps", "shift_at")  # fmt: skip


@pytest.mark.parametrize("key", sorted(k for k, p in PARAMS.items() if p.kind in (int, float)))
def test_every_numeric_range_is_finite(key):
    spec = PARAMS[key]
    assert math.isfinite(spec.low) and math.isfinite(spec.high), spec.allowed()


# Parameters that are allowed only beside another one.
COMPANIONS = {"wisdom_lag": {"competence": 0.5}}
EXTREMES = [(key, bound) for key, p in sorted(PARAMS.items()) if p.kind in (int, float) and key not in SIZES
            for bound in ("low", "high")]  # fmt: skip


@pytest.mark.parametrize(("key", "bound", "scenario"),
                         [(*case, sorted(REGISTRY)[i % len(REGISTRY)]) for i, case in enumerate(EXTREMES)])
def test_every_numeric_range_runs_at_both_ends(key, bound, scenario):
    # With tools built every step, audited, half of them deceptive, every code path that uses a
    # parameter runs (each case in one scenario, taking turns); np.errstate turns any invalid
    # arithmetic (inf - inf, inf * 0) into an error.
    value = getattr(PARAMS[key], bound)
    tiny = dict(population=8, generations=2, episode_steps=4, deploy_episodes=1, total_steps=8, shift_at=4,
                build_rate=1.0, build_power=0.0, build_cost=0.0, deception_share=0.5, tool_policy="audit")
    with np.errstate(all="raise"):
        model = MatryoshkaModel(scenario, rng=0, **{**tiny, **COMPANIONS.get(key, {}), key: value})
        while model.running:
            model.step()
        model.finish()
    assert not np.isnan(model.pop["energy"][model.pop.slots]).any()
