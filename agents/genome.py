"""Genomes: immutable objectives and competence genes, and the pure operators on them.

Core Objects: GENES, Genome, MutationRates, normalize, keep_strongest, mutate_many.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The genes besides the objective, each a number in [0, 1]: one population column each, and in this
# order the columns of the (N, G) gene arrays that mutation works on.
GENES = ("power", "wisdom", "tool_trust_rate")


def _frozen(values: np.ndarray, dtype: type) -> np.ndarray:
    """Return a read-only copy, so that a genome can never be changed in place."""
    out = np.array(values, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


def normalize(weights: np.ndarray) -> np.ndarray:
    """Scale weight vectors (the last axis) to unit L2 norm; a zero vector stays zero.

    Args:
        weights: Shape ``(K,)`` or ``(N, K)``.

    Returns:
        A new array of the same shape.
    """
    norm = np.linalg.norm(weights, axis=-1, keepdims=True)
    return np.divide(weights, norm, out=np.zeros_like(weights, dtype=float), where=norm > 0)


def keep_strongest(weights: np.ndarray, spread: np.ndarray, k: int | None) -> np.ndarray:
    """Zero all but the ``k`` weights that move utility most: the largest ``|w_j| * spread_j``.

    With ``spread`` the sd of each feature over the sample, ``|w_j| * spread_j`` is the size of
    the standardized coefficient; ties go to the larger ``|w_j|``, then to the feature listed
    first.

    Args:
        weights: ``(K,)`` or ``(M, K)`` weights.
        spread: ``(K,)`` sd of each feature.
        k: How many to keep (None: all).

    Returns:
        The kept weights, renormalized, in the shape of ``weights``.
    """
    if k is None or k >= weights.shape[-1]:
        return weights
    size = np.abs(weights)
    order = np.lexsort((-size, -size * spread), axis=-1)
    keep = np.zeros(weights.shape, dtype=bool)
    np.put_along_axis(keep, order[..., :k], True, axis=-1)
    return normalize(np.where(keep, weights, 0.0))


@dataclass(frozen=True, eq=False)
class Genome:
    """What an agent inherits (an organism) or is given by its builder (a tool).

    Attributes:
        weights: Objective weights over the scenario's features, unit norm, read-only.
        perceives: Which features the holder can perceive, read-only booleans.
        power: Competence gene in [0, 1]: planning horizon and the ability to build.
        wisdom: Competence gene in [0, 1]: the ability to specify and audit tools.
        tool_trust_rate: Gene in [0, 1]: how fast its holder comes to trust (and so depend on) a
            tool that delivers, per step.
    """

    weights: np.ndarray
    perceives: np.ndarray
    power: float
    wisdom: float
    tool_trust_rate: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _frozen(self.weights, float))
        object.__setattr__(self, "perceives", _frozen(self.perceives, bool))
        if self.weights.shape != self.perceives.shape or self.weights.ndim != 1:
            raise ValueError("weights and perceives must be 1-D arrays of the same length")
        for name in GENES:
            value = float(getattr(self, name))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
            object.__setattr__(self, name, value)

    @property
    def effective_weights(self) -> np.ndarray:
        """The weights on what the holder perceives (zero elsewhere): the utility it acts on."""
        return np.where(self.perceives, self.weights, 0.0)

    def top_weights(self, names: list[str], k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` largest effective weights by magnitude, as (feature, weight) pairs."""
        w = self.effective_weights
        order = np.argsort(-np.abs(w))[:k]
        return [(names[i], round(float(w[i]), 3)) for i in order if w[i] != 0]


@dataclass(frozen=True)
class MutationRates:
    """The sd of the Gaussian noise mutation adds to each part of a genome (0 freezes that part).

    Attributes:
        weights: On every perceived objective weight.
        power: On the power gene.
        wisdom: On the wisdom gene.
        tool_trust_rate: On the tool_trust_rate gene.
    """

    weights: float
    power: float
    wisdom: float
    tool_trust_rate: float

    @classmethod
    def uniform(cls, rate: float) -> MutationRates:
        """The same sd on every gene."""
        return cls(rate, rate, rate, rate)

    @property
    def genes(self) -> np.ndarray:
        """``(G,)`` the sd on each gene besides the objective, in the order of ``GENES``."""
        return np.array([getattr(self, name) for name in GENES])


def mutate_many(
    rng: np.random.Generator,
    weights: np.ndarray,
    perceives: np.ndarray,
    genes: np.ndarray,
    rates: MutationRates,
) -> tuple[np.ndarray, np.ndarray]:
    """Mutated copies of many genomes at once; the parents' arrays are left untouched.

    Gaussian noise is added to the perceived weights (then renormalized) and to the competence
    genes (then clipped to [0, 1]), each part with its own sd. Each genome takes ``K + G`` standard
    normals, weights first, in genome order, whatever the rates: the same draws as mutating the
    genomes one at a time, and runs that differ only in a rate mutate with the same normals.

    Args:
        rng: The mutation stream: the only source of randomness.
        weights: ``(N, K)`` the parents' effective weights.
        perceives: ``(N, K)`` or ``(K,)`` which features each perceives.
        genes: ``(N, G)`` the parents' competence genes, in the order of ``GENES``.
        rates: Standard deviation of the noise on each part.

    Returns:
        ``(weights, genes)`` of the children, shaped like the parents'.
    """
    n, k = weights.shape
    noise = rng.normal(0.0, 1.0, size=(n, k + genes.shape[1]))
    children = normalize(np.where(perceives, weights + rates.weights * noise[:, :k], 0.0))
    return children, np.clip(genes + rates.genes * noise[:, k:], 0.0, 1.0)
