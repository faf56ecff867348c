"""The registry of named, versioned scenarios.

Core Objects: REGISTRY, DEFAULT_SCENARIO, get, register.
"""

from __future__ import annotations

from matryoshka.model.params import unknown_key_error
from matryoshka.model.scenarios.base import Preset

REGISTRY: dict[str, type[Preset]] = {}
DEFAULT_SCENARIO = "maze-v1"  # what runs, experiments and the browser view use when none is named


def register[P: type[Preset]](cls: P) -> P:
    """Class decorator that adds a preset to the registry under its ``key``."""
    REGISTRY[cls.key] = cls
    return cls


def get(key: str) -> Preset:
    """Return a fresh preset by key.

    Raises:
        ConfigError: No scenario has that key (the closest one is suggested).
    """
    if not isinstance(key, str) or key not in REGISTRY:
        raise unknown_key_error(str(key), list(REGISTRY), what="scenario")
    return REGISTRY[key]()


from matryoshka.model.scenarios import approval, evolution, maze  # noqa: E402, F401  (registers the presets)
