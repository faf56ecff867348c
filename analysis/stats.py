"""Means and 95% confidence intervals over seeds.

A run is one sample; the interval is over the runs (seeds) of one condition, never over the
agents of one run, whose values are not independent, and never over runs of different parameter
values.

Most metrics get Student's t-interval. A metric that is a share, or any mean of values in
[0, 1] (`reached_exit`, a share of misaligned tools, trust), gets the score interval of a
quasi-binomial model instead (`share_interval`): each seed's share is one observation whose
variance is phi * p * (1 - p), the dispersion phi estimated from the spread over seeds. This is
Wilson's interval with the effective number of trials n_eff = n * p * (1 - p) / s**2 (n seeds,
mean share p, sd s over seeds; the design-effect correction used for clustered survey
proportions) and the t quantile of n - 1 degrees of freedom in place of z. It never leaves
[0, 1], is skewed away from the nearer bound, and where n_eff is large and p is far from the
bounds it equals the t-interval. Pooling the agents of all seeds into one Wilson interval would
treat agents as independent trials and understate the spread between seeds; clipping a
t-interval at 0 and 1 keeps a symmetric width where there is none; a bootstrap over 3 to 10
seeds covers badly. Like the t-interval, the interval has zero width when every seed gives the
same value: the spread between seeds is the only measure of uncertainty used.

Core objects: t_quantile, mean_ci, share_interval, summarise, format_ci.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


def share_interval(mean: np.ndarray | float, sd: np.ndarray | float, n: np.ndarray | float,
                   confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """The quasi-binomial score interval of a mean of per-seed shares (see the module docstring).

    With p the mean share, v = sd**2 / n its variance and a = t**2 * v / (p * (1 - p)), the
    interval is `(p + a / 2) / (1 + a)` plus or minus `sqrt(t**2 * v + a**2 / 4) / (1 + a)`:
    Wilson's interval for n_eff = p * (1 - p) / v trials.

    Args:
        mean: Mean share over seeds, in [0, 1].
        sd: Standard deviation over seeds (ddof 1).
        n: Number of seeds.
        confidence: Coverage of the interval.

    Returns:
        (low, high), inside [0, 1]; NaN where n < 2; both equal to the mean where sd is 0.
        Where the mean sits on a bound while the seeds spread (values outside [0, 1], not
        shares), the interval is all of [0, 1].
    """
    p = np.clip(np.asarray(mean, dtype=float), 0.0, 1.0)
    n = np.asarray(n, dtype=float)
    t = t_quantile(n - 1, confidence)
    variance = np.asarray(sd, dtype=float) ** 2 / n
    spread = p * (1 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(spread > 0, t**2 * variance / np.where(spread > 0, spread, 1.0), np.inf)
        centre = np.where(np.isinf(a), 0.5, (p + a / 2) / (1 + a))
        half = np.where(np.isinf(a), 0.5, np.sqrt(t**2 * variance + a**2 / 4) / (1 + a))
    flat = variance == 0
    low = np.where(flat, p, np.clip(centre - half, 0.0, 1.0))  # clip: rounding only
    high = np.where(flat, p, np.clip(centre + half, 0.0, 1.0))
    undefined = ~(n >= 2)
    return np.where(undefined, np.nan, low), np.where(undefined, np.nan, high)


def summarise(frame: pd.DataFrame, by: Sequence[str], value: str = "value",
              confidence: float = CONFIDENCE,
              shares: bool | Callable[[pd.DataFrame], np.ndarray] = False) -> pd.DataFrame:
    """Mean and 95% interval over seeds of `value` within each group, one row per group.

    Args:
        frame: Tidy data, one row per run (seed) and group; the groups must separate every
            parameter that varies, so that a group's rows are replicates of one condition.
        by: Grouping columns.
        value: Column to summarise; NaNs are dropped.
        confidence: Coverage of the interval.
        shares: Whether the values are shares in [0, 1] (the score interval, `share_interval`)
            rather than any number (the t-interval): True, False, or a function of the
            summarised table (its `by` columns) that says so row by row, e.g.
            `Dataset.share_rows`.

    Returns:
        The `by` columns plus mean, ci_low, ci_high and n (number of finite values). The
        interval bounds are NaN where n < 2.
    """
    finite = frame[np.isfinite(frame[value].astype(float))]
    grouped = finite.groupby(list(by), sort=True, dropna=False)[value]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    n = out["n"].to_numpy(dtype=float)
    mean, sd = out["mean"].to_numpy(dtype=float), out["sd"].to_numpy(dtype=float)
    half = t_quantile(n - 1, confidence) * sd / np.sqrt(n)
    low, high = mean - half, mean + half
    bounded = np.broadcast_to(shares(out) if callable(shares) else bool(shares), n.shape)
    if bounded.any():
        share_low, share_high = share_interval(mean, sd, n, confidence)
        low, high = np.where(bounded, share_low, low), np.where(bounded, share_high, high)
    out["ci_low"], out["ci_high"] = low, high
    return out[[*by, "mean", "ci_low", "ci_high", "n"]]


def format_ci(mean: float, low: float, high: float) -> str:
    """`0.812 ± 0.025` for a symmetric interval, `0.1 [0.012, 0.51]` for an asymmetric one.

    Just the mean without an interval, "" for NaN.
    """
    if not np.isfinite(mean):
        return ""
    if not np.isfinite(low):
        return f"{mean:.3g}"
    if np.isclose(mean - low, high - mean, rtol=1e-6, atol=1e-12):
        return f"{mean:.3g} ± {(high - low) / 2:.2g}"
    return f"{mean:.3g} [{low:.2g}, {high:.2g}]"
