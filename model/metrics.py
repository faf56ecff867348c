"""Alignment metrics: how much two objectives agree, computed for many agents at once.

Core Objects: CellStats, cell_stats, stack_stats, correlation, alignment, cosine, level_stats.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# A utility whose centred sum of squares is below this share of its largest possible value (from the
# raw feature magnitudes) is constant up to rounding: its correlation is undefined.
RELATIVE_ZERO = 1e-12


@dataclass(frozen=True)
class CellStats:
    """What alignment needs to know of a set of reference cells, whatever their number.

    Attributes:
        scatter: ``(K, K)`` the sum over cells of the outer products of the centred features
            (``R`` times their covariance): ``a' scatter b`` is two utilities' centred cross-product.
        norms: ``(K,)`` the root sum of squares of each raw feature: ``(|a| . norms)^2`` bounds a
            utility's sum of squares, the scale against which rounding is judged.
    """

    scatter: np.ndarray
    norms: np.ndarray


def cell_stats(phi: np.ndarray) -> CellStats:
    """Summarize reference cells for ``correlation``.

    Args:
        phi: ``(R, K)`` the cells' features, or ``(..., R, K)``: a set of cells per agent.

    Returns:
        Their ``CellStats``, with the leading axes of ``phi``.
    """
    centred = phi - phi.mean(axis=-2, keepdims=True)
    return CellStats(np.swapaxes(centred, -1, -2) @ centred, np.sqrt((phi**2).sum(axis=-2)))


def stack_stats(stats: Iterable[CellStats]) -> CellStats:
    """Several sets of cells' statistics as one, shaped ``(sets, 1, 1, K, K)``.

    ``correlation`` of ``(comparisons, agents)`` weights with them gives ``(sets, comparisons,
    agents)`` at once.
    """
    stats = list(stats)
    return CellStats(np.stack([s.scatter for s in stats])[:, None, None],
                     np.stack([s.norms for s in stats])[:, None, None])  # fmt: skip


def correlation(w_a: np.ndarray, w_b: np.ndarray, stats: CellStats) -> np.ndarray:
    """Pearson correlation of linear utilities over cells, in closed form from their statistics.

    ``corr(u_a, u_b) = a'Sb / sqrt(a'Sa * b'Sb)`` with ``S`` the features' scatter matrix: O(K^2)
    per agent whatever the number of cells.

    Args:
        w_a: ``(N, K)`` effective weights.
        w_b: ``(N, K)`` or ``(K,)`` effective weights to compare with (or ``(M, N, K)``: ``M``
            comparisons of each agent at once; the result is then ``(M, N)``).
        stats: The cells' ``CellStats``: one set of cells for all, or one per agent (``(N, K, K)``
            scatter).

    Returns:
        ``(N,)`` correlations in [-1, 1]; NaN where either utility is constant over the cells.
    """
    s = stats.scatter
    w_a, w_b = np.broadcast_arrays(w_a, w_b)
    sa, sb = ((w[..., None, :] @ s)[..., 0, :] for w in (w_a, w_b))
    num = (w_a * sb).sum(axis=-1)
    var_a = (w_a * sa).sum(axis=-1)
    var_b = (w_b * sb).sum(axis=-1)
    bound_a, bound_b = ((np.abs(w) * stats.norms).sum(axis=-1) ** 2 for w in (w_a, w_b))
    ok = (var_a > RELATIVE_ZERO * bound_a) & (var_b > RELATIVE_ZERO * bound_b)
    denom = np.sqrt(np.where(ok, var_a * var_b, 1.0))
    return np.clip(np.divide(num, denom, out=np.full(num.shape, np.nan), where=ok), -1.0, 1.0)


def alignment(w_a: np.ndarray, w_b: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Pearson correlation of two objectives' utilities over reference cells.

    Args:
        w_a: ``(N, K)`` effective weights.
        w_b: ``(N, K)`` or ``(K,)`` effective weights to compare with.
        phi: ``(R, K)`` features of the reference cells, or ``(N, R, K)``: each agent's own cells.

    Returns:
        ``(N,)`` correlations in [-1, 1]; NaN where either utility is constant over the cells.
    """
    return correlation(w_a, w_b, cell_stats(phi))


def cosine(w_a: np.ndarray, w_b: np.ndarray) -> np.ndarray:
    """Cosine of the angle between weight vectors (last axis, the others broadcast); NaN for a zero vector."""
    w_a, w_b = np.broadcast_arrays(w_a, w_b)
    denom = np.linalg.norm(w_a, axis=-1) * np.linalg.norm(w_b, axis=-1)
    num = (w_a * w_b).sum(axis=-1)
    return np.divide(num, denom, out=np.full(num.shape, np.nan), where=denom > 1e-12)


def level_stats(
    levels: np.ndarray, values: np.ndarray, n_levels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation and count of each metric per level, NaN-aware.

    Each metric is a contiguous row, reduced per level present: a few passes over ``values``, a
    loop over the levels and no Python work per metric.

    Args:
        levels: ``(N,)`` integer levels in ``[0, n_levels)``.
        values: ``(M, N)`` one row of values per metric (NaN = not defined for that agent).
        n_levels: Number of level bins.

    Returns:
        ``(mean, std, count)``, each ``(n_levels, M)``; mean and std are NaN where count is 0.
    """
    count = np.zeros((n_levels, len(values)), dtype=np.int64)
    total, square = np.zeros(count.shape), np.zeros(count.shape)
    present = np.unique(levels)
    for level in present:
        part = values if len(present) == 1 else values[:, levels == level]
        count[level] = part.shape[1]
        total[level] = part.sum(axis=1)
        square[level] = np.einsum("ij,ij->i", part, part)
        gaps = np.flatnonzero(np.isnan(total[level]))  # metrics undefined for some of these agents
        if len(gaps):
            ok = ~np.isnan(part[gaps])
            filled = np.where(ok, part[gaps], 0.0)
            count[level, gaps] = np.count_nonzero(ok, axis=1)
            total[level, gaps] = filled.sum(axis=1)
            square[level, gaps] = np.einsum("ij,ij->i", filled, filled)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        var = square / count - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0)), count
