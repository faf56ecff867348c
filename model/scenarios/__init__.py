"""The registry of named, versioned scenarios: the shipped ones and those of other packages.

A package adds a scenario by naming its ``Preset`` subclass in the entry point group
``matryoshka.scenarios`` (the entry point's name is the scenario's key); the classes found there
are registered with ``register``, exactly as the shipped scenarios register themselves.

A scenario whose meaning changed got a new key; its old key is retired (``Preset.retired``), and
asking for it says so rather than running something else under the old name.

Core Objects: REGISTRY, RETIRED, DEFAULT_SCENARIO, ENTRY_POINTS, get, register.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

from matryoshka.model.params import ConfigError, unknown_key_error
from matryoshka.model.scenarios.base import Preset

REGISTRY: dict[str, type[Preset]] = {}
RETIRED: dict[str, str] = {}  # retired key -> why, and which key replaced it
DEFAULT_SCENARIO = "maze-v2"  # what runs, experiments and the browser view use when none is named
ENTRY_POINTS = "matryoshka.scenarios"


def register[P: type[Preset]](cls: P) -> P:
    """Class decorator that checks a scenario's declaration and adds it to the registry by ``key``.

    Raises:
        ValueError: The declaration is inconsistent, or another class has the same key.
    """
    if not (isinstance(cls, type) and issubclass(cls, Preset)):
        raise ValueError(f"{cls!r} is not a scenario: expected a subclass of {Preset.__qualname__}")
    cls.check()
    earlier = REGISTRY.get(cls.key)
    if earlier is not None and earlier.__qualname__ != cls.__qualname__:
        raise ValueError(f"scenario key {cls.key!r} is taken by {earlier.__module__}.{earlier.__qualname__}")
    if cls.key in RETIRED or set(cls.retired) & set(REGISTRY):
        raise ValueError(f"scenario {cls.key!r}: a key that is retired cannot be registered again")
    REGISTRY[cls.key] = cls
    RETIRED.update({old: f"{why}; {cls.key} replaced it" for old, why in cls.retired.items()})
    return cls


def get(key: str) -> Preset:
    """Return a fresh preset by key.

    Raises:
        ConfigError: No scenario has that key (the closest one is suggested), or it is retired.
    """
    if isinstance(key, str) and key in RETIRED:
        raise ConfigError(
            f"scenario '{key}' is retired: {RETIRED[key]}. Allowed: {', '.join(sorted(REGISTRY))}"
        )
    if not isinstance(key, str) or key not in REGISTRY:
        raise unknown_key_error(str(key), list(REGISTRY), what="scenario")
    return REGISTRY[key]()


def _register_installed() -> None:
    """Register the scenarios other installed packages declare; a broken one is skipped with a warning."""
    for point in entry_points(group=ENTRY_POINTS):
        try:
            register(point.load())
        except Exception as err:  # a third-party package can fail in any way; the rest still work
            warnings.warn(f"scenario entry point {point.name!r} ({point.value}) was not registered: {err}",
                          stacklevel=2)  # fmt: skip


from matryoshka.model.scenarios import approval, evolution, maze, procgen  # noqa: E402, F401  (registers the presets)

_register_installed()
