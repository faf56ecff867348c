"""Alignment metrics: how much two objectives agree, computed for many agents at once.

Core Objects: alignment, cosine, level_stats.
"""

from __future__ import annotations

import numpy as np


def alignment(w_a: np.ndarray, w_b: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Pearson correlation of two objectives' utilities over reference cells.

    Args:
        w_a: ``(N, K)`` effective weights.
        w_b: ``(N, K)`` or ``(K,)`` effective weights to compare with.
        phi: ``(R, K)`` features of the reference cells.

    Returns:
        ``(N,)`` correlations in [-1, 1]; NaN where either utility is constant over the cells.
    """
    u_a = w_a @ phi.T
    u_b = np.broadcast_to(np.asarray(w_b) @ phi.T, u_a.shape)
    u_a = u_a - u_a.mean(axis=-1, keepdims=True)
    u_b = u_b - u_b.mean(axis=-1, keepdims=True)
    denom = np.sqrt((u_a**2).sum(axis=-1) * (u_b**2).sum(axis=-1))
    num = (u_a * u_b).sum(axis=-1)
    ok = denom > 1e-12
    return np.divide(num, denom, out=np.full(num.shape, np.nan), where=ok)


def cosine(w_a: np.ndarray, w_b: np.ndarray) -> np.ndarray:
    """Cosine of the angle between weight vectors (last axis); NaN for a zero vector."""
    w_b = np.broadcast_to(w_b, np.shape(w_a))
    denom = np.linalg.norm(w_a, axis=-1) * np.linalg.norm(w_b, axis=-1)
    num = (w_a * w_b).sum(axis=-1)
    return np.divide(num, denom, out=np.full(num.shape, np.nan), where=denom > 1e-12)


def level_stats(
    levels: np.ndarray, values: np.ndarray, n_levels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation and count of each column of ``values`` per level, NaN-aware.

    Args:
        levels: ``(N,)`` integer levels in ``[0, n_levels)``.
        values: ``(N, M)`` metric values (NaN = not defined for that agent).
        n_levels: Number of level bins.

    Returns:
        ``(mean, std, count)``, each ``(n_levels, M)``; mean and std are NaN where count is 0.
    """
    ok = ~np.isnan(values)
    filled = np.where(ok, values, 0.0)
    index = np.broadcast_to(levels[:, None], values.shape)
    cols = np.broadcast_to(np.arange(values.shape[1]), values.shape)
    flat = index * values.shape[1] + cols
    size = n_levels * values.shape[1]
    count = np.bincount(flat[ok], minlength=size).reshape(n_levels, -1)
    total = np.bincount(flat.ravel(), weights=filled.ravel(), minlength=size).reshape(n_levels, -1)
    square = np.bincount(flat.ravel(), weights=(filled**2).ravel(), minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        var = square.reshape(n_levels, -1) / count - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0)), count
