"""How a builder specifies a tool's objective: by learning it, the way a base optimizer does.

The builder samples states (mostly cells it visited, and in proportion to its wisdom cells from
the whole world), sees them through its own perception noise, judges each one by its own utility
(with ``label_noise`` on that judgement), and makes the tool's objective over the features the
tool perceives, by one of three methods (``HandOff.method``):

- ``ridge``: a closed-form ridge regression of its judgements on the features;
- ``evolve``: a small selection loop over candidate objectives, selected by its approval of them
  on the sample (``agents.evolve``): each level is a base optimizer for the next;
- ``imitate``: a copy of its own weights, as the builder states them, with noise. No states are
  judged; label noise is noise on the stated weights, scaled so that the stated objective errs
  over the world by as much, in expectation, as one judgement does (``state_weights``). The
  sample enters through capacity.

A tool of limited ``capacity`` keeps only the features it needs most. Nothing else sets a tool's
objective, so every drift has a cause: a narrow sample, features the tool cannot see, noisy
observations and judgements, too few samples, too little capacity, a weak search.

Core Objects: HandOff, sample_cells, judge, state_weights, fit_weights, specify, audit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matryoshka.agents.evolve import EvolveSettings, evolve_objective
from matryoshka.agents.genome import keep_strongest, normalize
from matryoshka.model.metrics import alignment

METHODS = ("ridge", "evolve", "imitate")


@dataclass(frozen=True, eq=False)
class HandOff:
    """Everything that shapes one hand-off, from a builder to a tool of a given level.

    Attributes:
        perceives: ``(K,)`` which features the tool perceives.
        samples: How many states the builder samples (for the fit and for an audit).
        method: ``ridge``, ``evolve`` or ``imitate``.
        ridge: The ridge penalty (``ridge``).
        label_noise: Sd of the noise on each of the builder's judgements, in units of the sd of
            its utility over the world's open cells (on the stated weights, for ``imitate``).
        capacity: At most this many features with a non-zero weight (None: no limit).
        imitate_noise: Sd of the noise on each copied weight (``imitate``).
        evolve: The selection loop's settings (``evolve``).
    """

    perceives: np.ndarray
    samples: int
    method: str = "ridge"
    ridge: float = 0.01
    label_noise: float = 0.0
    capacity: int | None = None
    imitate_noise: float = 0.0
    evolve: EvolveSettings | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.method == "evolve" and self.evolve is None:
            raise ValueError("the evolve method needs EvolveSettings")

    @property
    def evaluations(self) -> int:
        """Candidate objectives the builder judges on its sample (0 unless ``evolve``)."""
        return self.evolve.evaluations if self.method == "evolve" and self.evolve else 0


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


def judge(
    rng: np.random.Generator, seen: np.ndarray, weights: np.ndarray, label_noise: float, scale: float
) -> np.ndarray:
    """The builder's judgement of each sampled state: its utility there, plus independent noise.

    The noise is drawn whatever ``label_noise`` is, so conditions that differ only in it share
    every other draw.

    Args:
        rng: Source of the noise.
        seen: ``(n, K)`` the states as the builder perceives them.
        weights: ``(K,)`` the objective the builder judges by.
        label_noise: Noise sd in units of ``scale``.
        scale: The sd of the builder's utility over the world.

    Returns:
        ``(n,)`` judgements.
    """
    return seen @ weights + label_noise * scale * rng.standard_normal(len(seen))


def state_weights(
    rng: np.random.Generator, weights: np.ndarray, world: np.ndarray, label_noise: float, scale: float
) -> np.ndarray:
    """The builder's statement of its own weights, for a tool to imitate: each with independent noise.

    The noise on each weight has sd ``label_noise * scale / sqrt(tr Σ)``, Σ the features'
    covariance over the world, so the stated utility's error ``e·x`` has variance
    ``label_noise² * scale²`` over the world in expectation: a stated objective errs by as much as
    one of ``judge``'s judgements. The noise is drawn whatever ``label_noise`` is.

    Args:
        rng: Source of the noise.
        weights: ``(K,)`` the builder's objective.
        world: ``(C, K)`` features of the world's open cells.
        label_noise: Noise sd in units of ``scale``.
        scale: The sd of the builder's utility over the world.

    Returns:
        ``(K,)`` the stated weights.
    """
    spread = float(np.sqrt(world.var(axis=0).sum()))
    noise = rng.standard_normal(len(weights))
    return weights + (label_noise * scale / spread * noise if spread > 0 else 0.0)


def fit_weights(phi: np.ndarray, target: np.ndarray, perceives: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge regression of ``target`` on the perceived features (with an intercept), unit norm.

    Args:
        phi: ``(n, K)`` features of the sampled cells.
        target: ``(n,)`` the builder's judgement of them.
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
    handoff: HandOff,
    builder_weights: np.ndarray,
    experience: np.ndarray,
    world_cells: np.ndarray,
    phi: np.ndarray,
    wisdom: float,
    noise_sd: np.ndarray | None = None,
) -> np.ndarray:
    """Make a tool's objective from what the builder wants, as seen on a sample of states.

    The builder sees the sampled states as it perceives everything: with ``noise_sd`` on each
    feature. Noisy features carry less of a fit (attenuation), so the tool leans on the features
    that are easy to see.

    Args:
        rng: Source of the sample, the noise and (``evolve``) the search.
        handoff: The tool's perception, the sample size, the method and what it loses.
        builder_weights: ``(K,)`` the objective the builder teaches (its effective weights, or its
            approval, in scenarios where that differs).
        experience: Cells the builder visited.
        world_cells: Every open cell.
        phi: ``(C, K)`` features of all cells.
        wisdom: The builder's wisdom.
        noise_sd: ``(K,)`` the builder's perception noise (None: it sees exactly).

    Returns:
        The tool's ``(K,)`` weights, zero on what it does not perceive.
    """
    cells = sample_cells(rng, experience, world_cells, handoff.samples, wisdom)
    seen = phi[cells]
    if noise_sd is not None:
        seen = seen + rng.normal(size=seen.shape) * noise_sd
    world = phi[world_cells]
    scale = float(np.std(world @ builder_weights))
    labels = judge(rng, seen, builder_weights, handoff.label_noise, scale)
    spread = seen.std(axis=0)
    perceives, capacity = handoff.perceives, handoff.capacity
    if handoff.method == "imitate":
        stated = state_weights(rng, builder_weights, world, handoff.label_noise, scale)
        noise = handoff.imitate_noise * rng.standard_normal(len(builder_weights))
        copied = normalize(np.where(perceives, stated + noise, 0.0))
        return keep_strongest(copied, spread, capacity)
    if handoff.method == "evolve":
        return evolve_objective(rng, seen, labels, perceives, handoff.evolve, spread, capacity)[0]
    weights = fit_weights(seen, labels, perceives, handoff.ridge)
    if capacity is not None and np.count_nonzero(weights) > capacity:
        support = keep_strongest(weights, spread, capacity) != 0
        weights = fit_weights(seen, labels, perceives & support, handoff.ridge)
    return weights


def audit(
    rng: np.random.Generator,
    reference: np.ndarray,
    shown: np.ndarray,
    experience: np.ndarray,
    world_cells: np.ndarray,
    phi: np.ndarray,
    n: int,
    breadth: float,
    threshold: float,
) -> tuple[bool, float]:
    """Test the behaviour a tool shows against a reference objective on a sample of states.

    The reference is the builder's own objective in an audit, the base objective under oversight.
    The sample draws a ``Binomial(n, breadth)`` share from the whole world and the rest from the
    builder's experience, as in ``sample_cells`` (in an audit the breadth is the builder's wisdom).

    Returns:
        ``(passed, score)``: the correlation of the two utilities on the sample, and whether it
        reaches ``threshold`` (an undefined correlation fails).
    """
    cells = sample_cells(rng, experience, world_cells, n, breadth)
    score = float(alignment(shown[None, :], reference, phi[cells])[0])
    return bool(score >= threshold), score
