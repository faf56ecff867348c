"""Run-time optimization: every agent's search for its best reachable cell, for all agents at once.

Cells are numbered ``c = x * height + y``. Each agent scores only the cells within its horizon
(``agents.paths.Paths.near``); each step then costs a few array operations over agents x cells.

Core Objects: horizon, plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matryoshka.agents.paths import Paths

TIE_BREAK_SD = 1e-6  # the floor on the perceived utility's noise sd: it breaks ties at random


def horizon(power: np.ndarray, max_horizon: int) -> np.ndarray:
    """Planning horizon in steps: 1 at power 0, ``max_horizon`` at power 1 (halves round up)."""
    return (1 + np.floor(np.asarray(power) * (max_horizon - 1) + 0.5)).astype(np.int16)


def plan(
    pos: np.ndarray,
    weights: np.ndarray,
    horizons: np.ndarray,
    phi: np.ndarray,
    paths: Paths,
    noise_sd: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Choose each agent's target: the reachable cell of highest perceived utility.

    Agents are planned in groups of equal horizon, each scoring only the cells within its reach,
    which is what keeps a step cheap.

    Args:
        pos: ``(N,)`` current cells.
        weights: ``(N, K)`` effective objective weights (zero on features not perceived).
        horizons: ``(N,)`` how many steps each agent can look ahead.
        phi: ``(C, K)`` features of every cell.
        paths: The wall layout's ``Paths`` (its neighbourhood of each horizon).
        noise_sd: ``(K,)`` per-feature perception noise; with ``rng``, each agent perceives every
            cell's features with Gaussian noise of this sd, so its utility is noisy in
            proportion to the weight it puts on noisy features.
        rng: Source of the perception noise.

    Returns:
        ``(N,)`` target cells, each within its agent's horizon.
    """
    target = np.empty(len(pos), dtype=np.int64)
    features = np.ascontiguousarray(phi.T, dtype=np.float32)  # one contiguous row per feature
    for h in np.unique(horizons):
        group = np.flatnonzero(horizons == h)
        target[group] = _best(paths.near(int(h))[pos[group]], weights[group], features, noise_sd, rng)
    return target


def _best(
    cand: np.ndarray,
    weights: np.ndarray,
    features: np.ndarray,
    noise_sd: np.ndarray | None,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """The candidate cell (``cand``, ``(N, M)``) of highest perceived utility for each agent.

    ``features`` is ``(K, C)`` in float32: every cell's value of one feature per row.
    """
    # One feature at a time, in float32: K gathers of (N, M) beat one (N, M, K) gather.
    utility = np.zeros(cand.shape, dtype=np.float32)
    w32 = weights.astype(np.float32)
    for k, feature in enumerate(features):
        utility += w32[:, k, None] * feature[cand]
    if noise_sd is not None and rng is not None and len(cand):
        sd = np.sqrt((weights**2) @ (noise_sd**2)) + TIE_BREAK_SD
        utility += rng.standard_normal(utility.shape, dtype=np.float32) * sd[:, None].astype(np.float32)
    return cand[np.arange(len(cand)), utility.argmax(axis=1)]
