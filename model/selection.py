"""Natural selection, the base optimizer: who becomes a parent.

Pure kernels; the model applies them at the end of a generation (``generational``, ``neutral``)
or every step (``steady_state``).

Core Objects: tournament, neutral, ready_to_breed.
"""

from __future__ import annotations

import numpy as np


def tournament(rng: np.random.Generator, fitness: np.ndarray, n: int, size: int) -> np.ndarray:
    """Pick ``n`` parents, each the fittest of ``size`` organisms drawn at random (with replacement).

    Args:
        rng: Source of the draws.
        fitness: ``(P,)`` fitness of the candidates, or ``(..., P)``: separate populations, each
            selecting from its own (all at once).
        n: How many parents to pick (from each population).
        size: Tournament size (1 makes it neutral).

    Returns:
        ``(n,)`` (or ``(..., n)``) indices into the last axis of ``fitness``.
    """
    entrants = rng.integers(0, fitness.shape[-1], size=(*fitness.shape[:-1], n, size))
    scores = np.take_along_axis(fitness[..., None, :], entrants, axis=-1)
    return np.take_along_axis(entrants, scores.argmax(axis=-1)[..., None], axis=-1)[..., 0]


def neutral(rng: np.random.Generator, candidates: int, n: int) -> np.ndarray:
    """Pick ``n`` parents regardless of fitness: the null model of drift."""
    return rng.integers(0, candidates, size=n)


def ready_to_breed(energy: np.ndarray, birth_energy: float, room: int) -> np.ndarray:
    """Steady state: indices of organisms with enough energy to breed, at most ``room`` of them.

    The richest breed first, so that a full world favours the fittest.
    """
    able = np.flatnonzero(energy >= birth_energy)
    if len(able) <= room:
        return able
    return np.sort(able[np.argsort(-energy[able], kind="stable")[: max(room, 0)]])
