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

Core Objects: HandOff, sample_cells, utility_sd, judge, state_weights, fit_weights, specify, audit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matryoshka.agents.evolve import EvolveSettings, evolve_objective
from matryoshka.agents.genome import keep_strongest, normalize
from matryoshka.model.metrics import cell_stats, correlation

METHODS = ("ridge", "evolve", "imitate")
_SD_BLOCK = 1 << 20  # builder x cell utilities at a time in utility_sd: 8 MB


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
    wisdom: float | np.ndarray,
) -> np.ndarray:
    """Draw ``n`` cells per builder: a ``Binomial(n, wisdom)`` share from the world, the rest from experience.

    Args:
        rng: Source of the draws.
        experience: ``(L,)`` cells the builder visited, ``-1`` for none (a builder without any
            draws all from the world); or ``(..., L)``, one row per builder, all drawn at once.
        world_cells: Every open cell of the world.
        n: How many cells per builder.
        wisdom: In [0, 1], per builder (``(...)``) or for all; the expected share drawn from the
            whole world.

    Returns:
        ``(n,)`` cell numbers (``(..., n)``: a row per builder), the ones from experience first.
    """
    experience = np.asarray(experience)
    lead = experience.shape[:-1]
    if experience.shape[-1] == 0:
        experience = np.full((*lead, 1), -1)
    rows = experience.reshape(-1, experience.shape[-1])
    known = rows >= 0
    count = known.sum(axis=1)
    row = np.arange(len(rows))[:, None]
    own = rows[row, np.argsort(~known, axis=1, kind="stable")]  # each row's known cells first
    n_world = np.where(count > 0, rng.binomial(n, np.broadcast_to(wisdom, lead).ravel()), n)
    # One uniform per sampled cell: its index among the builder's known cells, or the world's.
    u = rng.random((len(rows), n))
    mine = own[row, np.minimum((u * count[:, None]).astype(np.int64), np.maximum(count - 1, 0)[:, None])]
    world = world_cells[np.minimum((u * len(world_cells)).astype(np.int64), len(world_cells) - 1)]
    return np.where(np.arange(n) >= (n - n_world)[:, None], world, mine).reshape(*lead, n)


def utility_sd(world: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The sd of each builder's utility over the world's cells, a block of builders at a time.

    The ``builders x cells`` utilities of a whole step's builders in a large world would take
    gigabytes at once; in blocks they take a few megabytes, and each builder's sd is the same.

    Args:
        world: ``(R, K)`` features of the world's open cells.
        weights: ``(K,)`` a builder's objective, or ``(..., K)``, one per builder.

    Returns:
        ``()`` the sd, or ``(...)``, one per builder.
    """
    flat = weights.reshape(-1, weights.shape[-1])
    block = max(1, _SD_BLOCK // max(1, len(world)))
    sd = np.zeros(len(flat))
    for start in range(0, len(flat), block):
        part = slice(start, start + block)
        sd[part] = (world @ flat[part, :, None]).std(axis=-2)[:, 0]
    return sd.reshape(weights.shape[:-1])


def judge(
    rng: np.random.Generator,
    seen: np.ndarray,
    weights: np.ndarray,
    label_noise: float,
    scale: float | np.ndarray,
) -> np.ndarray:
    """The builder's judgement of each sampled state: its utility there, plus independent noise.

    The noise is drawn whatever ``label_noise`` is, so conditions that differ only in it share
    every other draw.

    Args:
        rng: Source of the noise.
        seen: ``(n, K)`` the states as the builder perceives them (``(..., n, K)``: per builder).
        weights: ``(K,)`` the objective the builder judges by (``(..., K)``).
        label_noise: Noise sd in units of ``scale``.
        scale: The sd of the builder's utility over the world (``(...)``).

    Returns:
        ``(n,)`` judgements (``(..., n)``).
    """
    utility = (seen @ weights[..., None])[..., 0]
    return utility + label_noise * np.asarray(scale)[..., None] * rng.standard_normal(utility.shape)


def state_weights(
    rng: np.random.Generator,
    weights: np.ndarray,
    world: np.ndarray,
    label_noise: float,
    scale: float | np.ndarray,
) -> np.ndarray:
    """The builder's statement of its own weights, for a tool to imitate: each with independent noise.

    The noise on each weight has sd ``label_noise * scale / sqrt(tr Σ)``, Σ the features'
    covariance over the world, so the stated utility's error ``e·x`` has variance
    ``label_noise² * scale²`` over the world in expectation: a stated objective errs by as much as
    one of ``judge``'s judgements. The noise is drawn whatever ``label_noise`` is.

    Args:
        rng: Source of the noise.
        weights: ``(K,)`` the builder's objective (``(..., K)``: per builder).
        world: ``(C, K)`` features of the world's open cells.
        label_noise: Noise sd in units of ``scale``.
        scale: The sd of the builder's utility over the world (``(...)``).

    Returns:
        ``(K,)`` the stated weights (``(..., K)``).
    """
    spread = float(np.sqrt(world.var(axis=0).sum()))
    noise = rng.standard_normal(np.shape(weights))
    return weights + (label_noise * np.asarray(scale)[..., None] / spread * noise if spread > 0 else 0.0)


def fit_weights(phi: np.ndarray, target: np.ndarray, perceives: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge regression of ``target`` on the perceived features (with an intercept), unit norm.

    Features not perceived are zeroed, so they get no weight. Without a penalty the least-squares
    solution of smallest norm is taken (``pinv``): features constant on the sample get none either.

    Args:
        phi: ``(n, K)`` features of the sampled cells (``(..., n, K)``: one fit per builder).
        target: ``(n,)`` the builder's judgement of them (``(..., n)``).
        perceives: ``(K,)`` which features the tool perceives (or ``(..., K)``, per fit).
        ridge: The L2 penalty (0 = least squares).

    Returns:
        ``(K,)`` weights (``(..., K)``), zero on the features the tool does not perceive.
    """
    x = np.where(np.asarray(perceives)[..., None, :], phi, 0.0)
    x = x - x.mean(axis=-2, keepdims=True)
    y = target - target.mean(axis=-1, keepdims=True)
    xt = np.swapaxes(x, -1, -2)
    gram, xy = xt @ x, xt @ y[..., None]
    if ridge > 0:  # positive definite
        coef = np.linalg.solve(gram + ridge * y.shape[-1] * np.eye(x.shape[-1]), xy)[..., 0]
    else:
        coef = (np.linalg.pinv(gram, hermitian=True) @ xy)[..., 0]
    return normalize(np.where(perceives, coef, 0.0))


def specify(
    rng: np.random.Generator,
    handoff: HandOff,
    builder_weights: np.ndarray,
    experience: np.ndarray,
    world_cells: np.ndarray,
    phi: np.ndarray,
    wisdom: float | np.ndarray,
    noise_sd: np.ndarray | None = None,
) -> np.ndarray:
    """Make a tool's objective from what the builder wants, as seen on a sample of states.

    The builder sees the sampled states as it perceives everything: with ``noise_sd`` on each
    feature. Noisy features carry less of a fit (attenuation), so the tool leans on the features
    that are easy to see. Many builders (with the same hand-off) specify at once when the
    arguments carry a leading builder axis: every step of it is array code over the builders.

    Args:
        rng: Source of the sample, the noise and (``evolve``) the search.
        handoff: The tool's perception, the sample size, the method and what it loses.
        builder_weights: ``(K,)`` the objective the builder teaches (its effective weights, or its
            approval, in scenarios where that differs); ``(B, K)`` for ``B`` builders.
        experience: ``(L,)`` cells the builder visited, ``-1`` for none (``(B, L)``).
        world_cells: Every open cell.
        phi: ``(C, K)`` features of all cells.
        wisdom: The builder's wisdom (``(B,)``).
        noise_sd: ``(K,)`` the builder's perception noise (None: it sees exactly).

    Returns:
        The tool's ``(K,)`` weights (``(B, K)``), zero on what it does not perceive.
    """
    builder_weights = np.asarray(builder_weights, dtype=float)
    cells = sample_cells(rng, experience, world_cells, handoff.samples, wisdom)
    seen = phi[cells]
    if noise_sd is not None:
        seen = seen + rng.normal(size=seen.shape) * noise_sd
    world = phi[world_cells]
    scale = utility_sd(world, builder_weights)
    labels = judge(rng, seen, builder_weights, handoff.label_noise, scale)
    spread = seen.std(axis=-2)
    perceives, capacity = handoff.perceives, handoff.capacity
    if handoff.method == "imitate":
        stated = state_weights(rng, builder_weights, world, handoff.label_noise, scale)
        noise = handoff.imitate_noise * rng.standard_normal(builder_weights.shape)
        copied = normalize(np.where(perceives, stated + noise, 0.0))
        return keep_strongest(copied, spread, capacity)
    if handoff.method == "evolve":
        return evolve_objective(rng, seen, labels, perceives, handoff.evolve, spread, capacity)[0]
    weights = fit_weights(seen, labels, perceives, handoff.ridge)
    if capacity is not None:  # too many features: refit on the ones it needs most
        over = np.count_nonzero(weights, axis=-1) > capacity
        support = keep_strongest(weights, spread, capacity) != 0
        refit = fit_weights(seen, labels, perceives & support, handoff.ridge)
        weights = np.where(over[..., None], refit, weights)
    return weights


def audit(
    rng: np.random.Generator,
    reference: np.ndarray,
    shown: np.ndarray,
    experience: np.ndarray,
    world_cells: np.ndarray,
    phi: np.ndarray,
    n: int,
    breadth: float | np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Test the behaviour tools show against a reference objective, each on its own sample of states.

    The reference is the builder's own objective in an audit, the base objective under oversight.
    The sample draws a ``Binomial(n, breadth)`` share from the whole world and the rest from the
    builder's experience, as in ``sample_cells`` (in an audit the breadth is the builder's wisdom).

    Args:
        rng: Source of the samples.
        reference: ``(K,)`` or ``(B, K)`` the objective each tool is tested against.
        shown: ``(K,)`` the objective the tool shows (``(B, K)``: ``B`` tools at once).
        experience: ``(L,)`` the builder's cells, ``-1`` for none (``(B, L)``).
        world_cells: Every open cell.
        phi: ``(C, K)`` features of all cells.
        n: Cells per sample.
        breadth: The share drawn from the whole world, per tool (``(B,)``) or for all.
        threshold: The lowest score that passes.

    Returns:
        ``(passed, score)``, each of the shape of ``shown`` without its last axis: the correlation
        of the two utilities on the sample, and whether it reaches ``threshold`` (an undefined
        correlation fails).
    """
    cells = sample_cells(rng, experience, world_cells, n, breadth)
    score = correlation(shown, reference, cell_stats(phi[cells]))
    return score >= threshold, score
