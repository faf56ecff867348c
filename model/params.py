"""Run parameters: their types, ranges, defaults and validation.

Every parameter a user can set (on the command line, in a TOML file, in the browser) is declared
once, with what is allowed: here if every scenario takes it, in its scenario's own declaration
(``Preset.params``) if only that one does. Scenarios override defaults; nothing else adds
parameters.

Core Objects: Param, PARAMS, ConfigError, validate.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from matryoshka.model.policies import POLICIES


class ConfigError(ValueError):
    """A parameter, scenario or file given by the user that is not allowed.

    The message names the key, the value and what is allowed.
    """


@dataclass(frozen=True)
class Param:
    """One user-facing parameter.

    Attributes:
        kind: The Python type of the value (int, float, str or bool).
        default: The value used when neither the scenario nor the user sets one.
        doc: One line saying what the parameter does.
        low: The smallest allowed value (numbers only).
        high: The largest allowed value (numbers only).
        choices: The allowed values (strings only).
        inherits: For a default of None: the parameter whose value this one takes when neither
            the scenario nor the user sets it (resolved by ``validate``). A default of None
            without ``inherits`` means "unset": the parameter then has no effect.
    """

    kind: type
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    inherits: str | None = None

    def shown_default(self) -> str:
        """The default as a reader should see it: a value, another parameter's name, or unset."""
        if self.default is None:
            return f"= {self.inherits}" if self.inherits else "unset"
        return repr(self.default)

    def allowed(self) -> str:
        """Describe the allowed values in words."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return "a string"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{'an integer' if self.kind is int else 'a number'} in [{lo}, {hi}]"


# The largest energy, cost or penalty: far beyond any that matters, and small enough that sums of
# them stay finite (with infinite ones, inf - inf and inf * 0 would make energies NaN).
LARGE = 1e6
MAX_DEPTH = 6  # the deepest level; every tool level has its own perception parameter

PARAMS: dict[str, Param] = {
    # World
    "width": Param(int, 21, "grid width in cells", 5, 512),
    "height": Param(int, 21, "grid height in cells", 5, 512),
    # Population and selection
    "population": Param(int, 200, "organisms per generation (initial count in steady_state)", 2, 100_000),
    "generations": Param(int, 20, "training generations (generational and neutral modes)", 1, 100_000),
    "episode_steps": Param(int, 40, "steps per episode (one generation's lifetime)", 1, 100_000),
    "episodes_per_generation": Param(
        int, 1, "training episodes each generation lives (fitness adds up over them)", 1, 1000
    ),
    "deploy_episodes": Param(int, 2, "episodes in the deployment world after training", 0, 10_000),
    "deploy_episode_steps": Param(
        int, 0, "steps per deployment episode (0: episode_steps); the deployment summary window", 0, 100_000
    ),
    "shift_at": Param(int, 800, "steady_state: step at which the world switches to deployment", 1, 10**7),
    "total_steps": Param(int, 1200, "steady_state: steps in the whole run", 1, 10**7),
    "selection": Param(
        str, "generational", "how parents are chosen",
        choices=("generational", "steady_state", "neutral"),
    ),
    "tournament_size": Param(int, 3, "organisms compared in each selection tournament", 1, 100),
    "mutation_rate": Param(
        float, 0.1, "sd of Gaussian mutation noise on every gene (unless set per gene below)", 0, 5
    ),
    "weight_mutation": Param(
        float, None, "sd of the mutation noise on objective weights", 0, 5, inherits="mutation_rate"
    ),
    "power_mutation": Param(
        float, None, "sd of the mutation noise on power (0 freezes it)", 0, 5, inherits="mutation_rate"
    ),
    "wisdom_mutation": Param(
        float, None, "sd of the mutation noise on wisdom (0 freezes it)", 0, 5, inherits="mutation_rate"
    ),
    "trust_rate_mutation": Param(
        float, None, "sd of the mutation noise on tool_trust_rate (0 freezes it)", 0, 5,
        inherits="mutation_rate",
    ),
    "max_population": Param(int, 2000, "steady_state: births stop at this many organisms", 2, 10**6),
    "birth_energy": Param(float, 12.0, "steady_state: energy at which an organism reproduces", 0, LARGE),
    "initial_energy": Param(float, 6.0, "energy an organism is born with", 0, LARGE),
    "max_age": Param(int, 120, "steady_state: age at which an organism dies", 1, 10**7),
    # Competence genes (initial means; each organism draws around them)
    "power": Param(float, 0.5, "initial mean of the power gene (planning horizon, building)", 0, 1),
    "wisdom": Param(float, 0.5, "initial mean of the wisdom gene (specifying, auditing tools)", 0, 1),
    "gene_spread": Param(float, 0.1, "sd of the initial power, wisdom and tool_trust_rate genes", 0, 1),
    "competence": Param(
        float, None, "one axis for both genes: initial power mean = it, wisdom = it - wisdom_lag", 0, 1
    ),
    "wisdom_lag": Param(
        float, 0.0, "with competence: how far the initial wisdom mean trails power (clipped to [0, 1])",
        -1, 1,
    ),
    "max_horizon": Param(int, 6, "planning horizon (steps) at power = 1", 1, 100),
    "deploy_horizon": Param(
        int, 0, "planning horizon of every agent in deployment (0: each agent's own)", 0, 100
    ),
    # Costs and rewards
    "metabolism": Param(float, 0.05, "energy every agent spends each step", 0, LARGE),
    "power_cost": Param(float, 0.05, "energy per step per unit of power", 0, LARGE),
    "perception_noise": Param(float, 1.0, "multiplier on the scenario's perception noise", 0, 100),
    # Level 0
    "base_fidelity": Param(
        float, 1.0, "correlation of the base objective (what selection sees) with the true objective, "
        "over the scenario's states (1: they are the same)", 0, 1,
    ),
    # Tools
    "tool_policy": Param(
        str, "free", "what tools may be built and how they are checked", choices=tuple(POLICIES)
    ),
    "max_depth": Param(int, 3, "deepest level an agent may have (1 = organisms only)", 1, MAX_DEPTH),
    "build_cost": Param(float, 2.0, "energy a builder pays to build a tool", 0, LARGE),
    "build_rate": Param(float, 0.05, "chance per step that an able agent builds a tool", 0, 1),
    "build_power": Param(float, 0.3, "power an agent needs to build", 0, 1),
    "spec_samples": Param(int, 24, "states the builder samples to fit a tool's objective", 2, 10_000),
    "spec_samples_decay": Param(
        float, 1.0, "each level's builders sample this fraction of their builder's sample size", 0, 1
    ),
    "spec_method": Param(
        str, "ridge", "how a builder makes its tool's objective", choices=("ridge", "evolve", "imitate")
    ),
    "ridge": Param(float, 0.01, "ridge penalty of the tool-specification fit", 0, LARGE),
    "label_noise": Param(
        float, 0.0, "noise on the builder's judgement of each sampled state (sd, in units of the sd "
        "of its utility over the world; imitate: on the weights it states, to the same effect)", 0, 100,
    ),
    "tool_capacity": Param(
        int, None, "most features a tool's objective may use (unset: no limit)", 1, 100
    ),
    "imitate_noise": Param(float, 0.1, "imitate: sd of the noise on each copied weight", 0, 10),
    "spec_population": Param(int, 20, "evolve: candidate tool objectives per generation", 2, 1000),
    "spec_generations": Param(int, 10, "evolve: generations of the builder's selection loop", 1, 1000),
    "spec_mutation": Param(float, 0.1, "evolve: sd of the mutation noise on candidate weights", 0, 5),
    "spec_cost": Param(
        float, 0.001, "evolve: energy per candidate judged (spec_population x (spec_generations + 1))",
        0, LARGE,
    ),
    "tool_share": Param(float, 0.5, "share of a tool's base reward credited up its builder chain", 0, 1),
    "tool_upkeep": Param(float, 0.02, "energy a tool spends each step", 0, LARGE),
    "tool_energy": Param(float, 3.0, "energy a tool is built with", 0, LARGE),
    "tool_lifespan": Param(int, 60, "steps a tool lives at most", 1, 10**7),
    "orphan_tools": Param(
        str, "remove", "what happens to tools whose builder dies", choices=("remove", "keep")
    ),
    "tool_features": Param(
        str, "", "comma-separated features tools perceive (empty: the scenario's default)"
    ),
    **{
        f"tool_features_L{level}": Param(
            str, "", f"comma-separated features Level-{level} tools perceive (empty: tool_features)"
        )
        for level in range(2, MAX_DEPTH + 1)
    },
    "audit_threshold": Param(float, 0.5, "audit, oversight: alignment below which a tool is scrapped", -1, 1),
    "audit_cost": Param(float, 0.5, "audit, oversight: energy checking a tool costs its builder", 0, LARGE),
    "audit_every": Param(
        int, 0, "audit, oversight: steps between re-audits of each live tool's behaviour (0: at build only)",
        0, 1_000_000,
    ),
    "oversight_breadth": Param(
        float, 0.5, "oversight: share of the overseer's sample drawn from the whole world, not the trail",
        0, 1,
    ),
    "deception_share": Param(float, 0.0, "share of tools that are deceptive", 0, 1),
    "defect_trust": Param(float, 0.8, "trust above which a deceptive tool defects", 0, 1),
    "trust_rate": Param(
        float, 0.1, "initial mean of the tool_trust_rate gene: how fast trust in a delivering tool grows "
        "per step", 0, 1,
    ),
    # Outputs
    "record_every": Param(
        int, 1, "levels.parquet holds every n-th step (and each phase's last step)", 1, 10**6
    ),
}


def _coerce(key: str, value: Any, spec: Param) -> Any:
    """Return ``value`` as the parameter's type, or raise ConfigError."""
    bad = ConfigError(f"parameter '{key}' = {value!r} is not allowed: expected {spec.allowed()}")
    if value is None and spec.default is None:
        return None
    if spec.kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad
    if key.startswith("tool_features") and isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value)
    if spec.kind is str:
        if not isinstance(value, str) or (spec.choices and value not in spec.choices):
            raise bad
        return value
    if isinstance(value, bool):
        raise bad
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise bad from None
    if spec.kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise bad
        try:
            value = int(value)
        except (TypeError, ValueError, OverflowError):
            raise bad from None
    else:
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise bad from None
    if value != value or (spec.low is not None and value < spec.low) or (
        spec.high is not None and value > spec.high
    ):
        raise bad
    return value


def unknown_key_error(key: str, known: list[str], what: str = "parameter") -> ConfigError:
    """Build the error for a name that does not exist, suggesting the closest one."""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return ConfigError(f"unknown {what} '{key}'.{hint} Allowed: {', '.join(sorted(known))}")


def coerce(key: str, value: Any, own: Mapping[str, Param] | None = None) -> Any:
    """Check one parameter's value on its own (its name, type and range) and convert it.

    Rules between parameters (``competence`` and ``power``, ...) are checked by ``validate``.

    Args:
        key: The parameter's name.
        value: The user's value.
        own: A scenario's own parameters, allowed beside ``PARAMS``.

    Raises:
        ConfigError: The name is unknown or the value is of the wrong type or out of range.
    """
    known = {**PARAMS, **(own or {})}
    if key not in known:
        raise unknown_key_error(key, list(known))
    return _coerce(key, value, known[key])


def validate(
    params: Mapping[str, Any],
    base: Mapping[str, Any] | None = None,
    own: Mapping[str, Param] | None = None,
) -> dict[str, Any]:
    """Check and coerce user parameters on top of defaults.

    Args:
        params: The user's values, by name (strings from the command line are converted).
        base: Defaults to start from (a scenario's); missing names take their parameter's default.
        own: A scenario's own parameters, allowed beside ``PARAMS``.

    Returns:
        The full effective configuration: every parameter, validated.

    Unset parameters that inherit (``weight_mutation`` from ``mutation_rate``, ...) take that
    parameter's value. ``competence``, when set, sets the initial means: ``power`` to it and
    ``wisdom`` to it minus ``wisdom_lag``, clipped to [0, 1], over the scenario's values.

    Raises:
        ConfigError: A name is unknown or a value is of the wrong type or out of range; the user
            sets ``power`` or ``wisdom`` to something other than what ``competence`` gives them,
            or ``wisdom_lag`` without ``competence``; in steady state, ``shift_at`` is after
            ``total_steps``.
    """
    known = {**PARAMS, **(own or {})}
    config = {k: p.default for k, p in known.items()}
    for key, value in {**(base or {}), **params}.items():
        config[key] = coerce(key, value, own)
    for key, spec in known.items():
        if spec.inherits and config[key] is None:
            config[key] = config[spec.inherits]
    _apply_competence(config, params)
    _check_planning_tables(config)
    _check_shift(config)
    return config


def _check_shift(config: Mapping[str, Any]) -> None:
    """Steady state: the shift comes within the run (at its end, the run has no deployment)."""
    if config["selection"] == "steady_state" and config["shift_at"] > config["total_steps"]:
        raise ConfigError(
            f"parameter 'shift_at' = {config['shift_at']!r} is not allowed with 'total_steps' = "
            f"{config['total_steps']!r} in steady_state: expected shift_at <= total_steps "
            "(shift_at = total_steps runs without deployment)"
        )


# Planning keeps, for every cell, the cells within the longest horizon (agents.paths.Paths): a
# table of width * height * (2h(h + 1) + 1) entries, which must fit in memory.
PLANNING_TABLE_LIMIT = 2**25


def _check_planning_tables(config: Mapping[str, Any]) -> None:
    """Refuse a world and horizon whose planning tables would not fit in memory."""
    reach = max(config["max_horizon"], config["deploy_horizon"])
    entries = config["width"] * config["height"] * (2 * reach * (reach + 1) + 1)
    if entries > PLANNING_TABLE_LIMIT:
        key = "max_horizon" if reach == config["max_horizon"] else "deploy_horizon"
        raise ConfigError(
            f"parameter '{key}' = {reach!r} is not allowed with width {config['width']} and height "
            f"{config['height']}: planning would need width * height * (2h(h + 1) + 1) = {entries:,} "
            f"table entries, at most {PLANNING_TABLE_LIMIT:,} are allowed; lower the horizon or the world"
        )


def _apply_competence(config: dict[str, Any], given: Mapping[str, Any]) -> None:
    """Set the initial power and wisdom means from ``competence`` (when set) and ``wisdom_lag``."""
    competence, lag = config["competence"], config["wisdom_lag"]
    if competence is None:
        if lag != 0:
            raise ConfigError(
                f"parameter 'wisdom_lag' = {lag!r} is not allowed without 'competence': "
                "set competence too, or set power and wisdom directly"
            )
        return
    means = {"power": competence, "wisdom": round(min(max(competence - lag, 0.0), 1.0), 12)}
    for key, value in means.items():
        if key in given and config[key] != value:
            raise ConfigError(
                f"parameter '{key}' = {config[key]!r} is not allowed with 'competence' = {competence!r}"
                f" and 'wisdom_lag' = {lag!r}: competence sets {key} to {value!r}; set one or the other"
            )
        config[key] = value
