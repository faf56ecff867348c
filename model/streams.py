"""Random streams: one numpy Generator per subsystem, all spawned from the run's SeedSequence.

A run has one seed (an int, a ``SeedSequence``, a ``Generator`` or None for fresh entropy), read as
a root ``SeedSequence``. Stream ``i`` of ``STREAMS`` is its child with spawn key ``root + (i,)``, so
every subsystem draws from its own generator and a draw in one never shifts another: conditions
that differ only in a parameter one subsystem uses share every other subsystem's draws (common
random numbers). Within a subsystem the draws do not depend on parameters either: the build and
deception coins are drawn for every live agent every step whatever the tool policy, and the
subsystems that draw a variable number of values per event (specifying, deceiving, auditing)
draw from a fresh generator per step (``Streams.at``), child ``(i, step)`` of their stream.

New streams are appended at the end of ``STREAMS``: a stream's position is its spawn key.

Core Objects: STREAMS, Streams, root_seed, seed_record.
"""

from __future__ import annotations

from typing import Any

import numpy as np

STREAMS: dict[str, str] = {
    "founders": "the first organisms' objectives and competence genes",
    "perception": "perception noise when agents plan (it also breaks ties between equal cells)",
    "selection": "who becomes a parent: tournament entrants, neutral picks",
    "mutation": "the noise added to offspring genomes",
    "building": "the build_rate and deception_share coins, one each per live agent per step",
    "specification": "per step: what builders draw to specify tools (cells, noise, search)",
    "deception": "per step: the hidden objectives of deceptive tools",
    "audit": "per step: the cells audits sample",
    "scenario": "the scenario's own draws: start cells, random exits, layouts (every training episode)",
    "mesa": "Mesa's own rng and random (not drawn from by the model; seeded for Mesa's internals)",
    "layouts": "the scenario's worlds drawn once at the start (procedurally generated maze layouts)",
    "objective": "the base objective's independent field (drawn once, only when base_fidelity < 1)",
    "reaudit": "per step: the cells re-audits of live tools sample (audit_every)",
}


def root_seed(rng: Any) -> np.random.SeedSequence:
    """The run's root ``SeedSequence``.

    Args:
        rng: An int, a ``SeedSequence`` (used as it is), a ``Generator`` (one draw from it gives
            the entropy) or None (fresh entropy from the operating system).
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    return np.random.SeedSequence(None if rng is None else int(rng))


def child(seed: np.random.SeedSequence, key: int) -> np.random.SeedSequence:
    """The child of ``seed`` with spawn key ``seed.spawn_key + (key,)`` (what ``spawn`` would make)."""
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, key), pool_size=seed.pool_size)


class Streams:
    """The run's generators, one per subsystem of ``STREAMS``.

    Args:
        rng: The run's seed (see ``root_seed``).

    Attributes:
        root: The root ``SeedSequence``.
        seeds: Each stream's ``SeedSequence``, by name.
    """

    def __init__(self, rng: Any) -> None:
        self.root = root_seed(rng)
        self.seeds = {name: child(self.root, i) for i, name in enumerate(STREAMS)}
        self._generators = {name: np.random.default_rng(seed) for name, seed in self.seeds.items()}
        self._steps: dict[str, tuple[int, np.random.Generator]] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        """The stream's generator, which runs on through the whole run."""
        return self._generators[name]

    def at(self, name: str, step: int) -> np.random.Generator:
        """The stream's generator for one step: the same object for every call during that step.

        What the stream drew in earlier steps never shifts what it draws in this one.
        """
        current = self._steps.get(name)
        if current is None or current[0] != step:
            current = (step, np.random.default_rng(child(self.seeds[name], step)))
            self._steps[name] = current
        return current[1]

    def python_seed(self, name: str) -> int:
        """A 256-bit seed for a standard-library ``random.Random`` (Mesa's), from the stream's seed."""
        return int.from_bytes(self.seeds[name].generate_state(4, np.uint64).tobytes(), "little")

    def record(self) -> dict[str, dict[str, Any]]:
        """Each stream's seed as entropy and spawn key, for the manifest."""
        return {name: seed_record(seed) for name, seed in self.seeds.items()}


def seed_record(seed: int | np.random.SeedSequence) -> int | dict[str, Any]:
    """How a seed is stored in a manifest: an int, or a SeedSequence's entropy and spawn key."""
    if isinstance(seed, np.random.SeedSequence):
        return {"entropy": int(seed.entropy), "spawn_key": [int(k) for k in seed.spawn_key]}
    return int(seed)
