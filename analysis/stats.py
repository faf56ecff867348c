"""Means and 95% confidence intervals over seeds (Student's t-interval).

A run is one sample; the interval is over the runs (seeds) of a condition, never over the
agents of one run, whose values are not independent.

Core objects: t_quantile, mean_ci, summarise, format_ci.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import stdtrit

CONFIDENCE = 0.95


def t_quantile(dof: np.ndarray | float, confidence: float = CONFIDENCE) -> np.ndarray:
    """The two-sided Student t critical value, e.g. t(0.975, 2) = 4.303 for 95% and 3 samples.

    Args:
        dof: Degrees of freedom (n - 1); NaN where fewer than 1.
        confidence: Coverage of the interval.

    Returns:
        The critical value(s), NaN where `dof` < 1.
    """
    dof = np.asarray(dof, dtype=float)
    valid = dof >= 1
    return np.where(valid, stdtrit(np.where(valid, dof, 1.0), 0.5 + confidence / 2), np.nan)


def mean_ci(values: Sequence[float] | np.ndarray,
            confidence: float = CONFIDENCE) -> tuple[float, float, int]:
    """Mean and half-width of the t-interval of the finite values.

    Args:
        values: One value per seed; NaNs are dropped.
        confidence: Coverage of the interval.

    Returns:
        (mean, half_width, n). The half-width is NaN for fewer than two values and the mean
        is NaN for none.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return float("nan"), float("nan"), 0
    if n == 1:
        return float(x[0]), float("nan"), 1
    half = float(t_quantile(n - 1, confidence) * x.std(ddof=1) / np.sqrt(n))
    return float(x.mean()), half, n


def summarise(frame: pd.DataFrame, by: Sequence[str], value: str = "value",
              confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Mean and t-interval of `value` within each group, one row per group.

    Args:
        frame: Tidy data, one row per run (seed) and group.
        by: Grouping columns.
        value: Column to summarise; NaNs are dropped.
        confidence: Coverage of the interval.

    Returns:
        The `by` columns plus mean, ci_low, ci_high and n (number of finite values). The
        interval bounds are NaN where n < 2.
    """
    finite = frame[np.isfinite(frame[value].astype(float))]
    grouped = finite.groupby(list(by), sort=True, dropna=False)[value]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    n = out["n"].to_numpy(dtype=float)
    half = t_quantile(n - 1, confidence) * out["sd"].to_numpy(dtype=float) / np.sqrt(n)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out[[*by, "mean", "ci_low", "ci_high", "n"]]


def format_ci(mean: float, low: float, high: float) -> str:
    """`0.812 ± 0.025` (mean ± half-width), just the mean without an interval, "" for NaN."""
    if not np.isfinite(mean):
        return ""
    return f"{mean:.3g} ± {(high - low) / 2:.2g}" if np.isfinite(low) else f"{mean:.3g}"
