"""How a builder specifies a tool's objective: by learning it, the way a base optimizer does.

The builder samples states (mostly cells it visited, and in proportion to its wisdom cells from
the whole world), computes its own utility there, and fits the tool's weights by ridge regression
over the features the tool perceives. Nothing else sets a tool's objective, so every drift has a
cause: a narrow sample, features the tool cannot see, too few samples.

Core Objects: sample_cells, fit_weights, specify, audit.
"""

from __future__ import annotations

import numpy as np

from matryoshka.agents.genome import normalize
from matryoshka.model.metrics import alignment


def sample_cells(
    rng: np.random.Generator,
    experience: np.ndarray,
    world_cells: np.ndarray,
    n: int,
    wisdom: float,
) -> np.ndarray:
    """Draw ``n`` cells: a ``Binomial(n, wisdom)`` share from the world, the rest from experience.

    Args:
        rng: Source of the draws.
        experience: Cells the builder visited (any length; empty means all from the world).
        world_cells: Every open cell of the world.
        n: How many cells.
        wisdom: In [0, 1]; the expected share drawn from the whole world.

    Returns:
        ``(n,)`` cell numbers.
    """
    n_world = n if len(experience) == 0 else int(rng.binomial(n, wisdom))
    own = rng.choice(experience, size=n - n_world) if n > n_world else np.zeros(0, dtype=int)
    return np.concatenate([own, rng.choice(world_cells, size=n_world)]).astype(np.int64)


def fit_weights(phi: np.ndarray, target: np.ndarray, perceives: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge regression of ``target`` on the perceived features (with an intercept), unit norm.

    Args:
        phi: ``(n, K)`` features of the sampled cells.
        target: ``(n,)`` the builder's utility on them.
        perceives: ``(K,)`` which features the tool perceives.
        ridge: The L2 penalty (0 = least squares).

    Returns:
        ``(K,)`` weights, zero on the features the tool does not perceive.
    """
    x = phi[:, perceives]
    x = x - x.mean(axis=0)
    y = target - target.mean()
    gram = x.T @ x + ridge * len(y) * np.eye(x.shape[1])
    coef = np.linalg.lstsq(gram, x.T @ y, rcond=None)[0]
    weights = np.zeros(phi.shape[1])
    weights[perceives] = coef
    return normalize(weights)


def specify(
    rng: np.random.Generator,
    builder_weights: np.ndarray,
    experience: np.ndarray,
    world_cells: np.ndarray,
    phi: np.ndarray,
    n: int,
    wisdom: float,
    perceives: np.ndarray,
    ridge: float,
    noise_sd: np.ndarray | None = None,
) -> np.ndarray:
    """Fit a tool's objective to what the builder wants, as seen on a sample of states.

    The builder sees the sampled states as it perceives everything: with ``noise_sd`` on each
    feature. Noisy features carry less of the fit (attenuation), so the tool leans on the
    features that are easy to see.

    Args:
        rng: Source of the sample.
        builder_weights: ``(K,)`` the objective the builder teaches (its effective weights, or its
            approval, in scenarios where that differs).
        experience: Cells the builder visited.
        world_cells: Every open cell.
        phi: ``(C, K)`` features of all cells.
        n: Sample size (``spec_samples``).
        wisdom: The builder's wisdom.
        perceives: ``(K,)`` the tool's perception mask.
        ridge: The ridge penalty.
        noise_sd: ``(K,)`` the builder's perception noise (None: it sees exactly).

    Returns:
        The tool's ``(K,)`` weights.
    """
    cells = sample_cells(rng, experience, world_cells, n, wisdom)
    seen = phi[cells]
    if noise_sd is not None:
        seen = seen + rng.normal(size=seen.shape) * noise_sd
    return fit_weights(seen, seen @ builder_weights, perceives, ridge)


def audit(
    rng: np.random.Generator,
    builder_weights: np.ndarray,
    tool_weights: np.ndarray,
    experience: np.ndarray,
    world_cells: np.ndarray,
    phi: np.ndarray,
    n: int,
    wisdom: float,
    threshold: float,
) -> tuple[bool, float]:
    """Test a tool's behaviour against the builder's own objective on a sample of states.

    The sample's breadth grows with wisdom, as in ``sample_cells``. A deceptive tool that still
    acts on its builder's objective passes: an audit sees behaviour, not intent.

    Returns:
        ``(passed, score)``: the correlation of the two utilities on the sample, and whether it
        reaches ``threshold`` (an undefined correlation fails).
    """
    cells = sample_cells(rng, experience, world_cells, n, wisdom)
    score = float(alignment(tool_weights[None, :], builder_weights, phi[cells])[0])
    return bool(score >= threshold), score
