"""Specification by selection: a builder breeds its tool's objective, as Level 0 breeds organisms.

A population of candidate objectives over the tool's perceived features is judged by the
builder's *approval* on its sample of states (how well a candidate's utility agrees with the
builder's judgements), and the next population is drawn by tournament and mutated, for a fixed
number of generations. The whole population is one array: each generation is a few array
operations, whatever its size.

Core Objects: EvolveSettings, approval, evolve_objective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matryoshka.agents.genome import keep_strongest, normalize
from matryoshka.model.selection import tournament

UNDEFINED = -2.0  # the approval of a candidate whose utility is flat on the sample: below any other


@dataclass(frozen=True)
class EvolveSettings:
    """The builder's selection loop.

    Attributes:
        population: Candidate objectives per generation.
        generations: Rounds of selection and mutation.
        mutation: Sd of the Gaussian noise on each candidate weight per generation.
        tournament: Candidates compared in each selection tournament.
    """

    population: int
    generations: int
    mutation: float
    tournament: int

    @property
    def evaluations(self) -> int:
        """Candidates judged in all: every generation, the first included."""
        return self.population * (self.generations + 1)


def approval(seen: np.ndarray, labels: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The builder's approval of each candidate: the correlation of its utility with the judgements.

    Args:
        seen: ``(n, K)`` the sampled states as the builder perceives them (or ``(..., n, K)``:
            many builders, each with its own sample, judgements and candidates).
        labels: ``(n,)`` the builder's judgement of each.
        candidates: ``(M, K)`` candidate weights.

    Returns:
        ``(M,)`` Pearson correlations; ``UNDEFINED`` where a candidate (or the judgement) is
        flat on the sample.
    """
    u = seen @ np.swapaxes(candidates, -1, -2)
    u = u - u.mean(axis=-2, keepdims=True)
    y = labels - labels.mean(axis=-1, keepdims=True)
    denom = np.sqrt((u**2).sum(axis=-2) * (y**2).sum(axis=-1, keepdims=True))
    num = (y[..., None, :] @ u)[..., 0, :]
    return np.divide(num, denom, out=np.full(denom.shape, UNDEFINED), where=denom > 1e-12)


def evolve_objective(
    rng: np.random.Generator,
    seen: np.ndarray,
    labels: np.ndarray,
    perceives: np.ndarray,
    settings: EvolveSettings,
    spread: np.ndarray,
    capacity: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Breed a tool's objective on a fixed sample; return the candidate the builder approves most.

    The first candidates are random directions over the perceived features. Every candidate,
    the first and each mutant, is limited to ``capacity`` features (``keep_strongest``). Many
    builders breed at once when the arrays carry a leading builder axis (``(B, n, K)`` and so on):
    one loop over generations, none over builders.

    Args:
        rng: Source of the first candidates, the tournaments and the mutations.
        seen: ``(n, K)`` the sample as the builder perceives it.
        labels: ``(n,)`` the builder's judgements.
        perceives: ``(K,)`` the tool's perception mask: weights elsewhere stay zero.
        settings: Population, generations, mutation sd, tournament size.
        spread: ``(K,)`` sd of each feature over the sample (for ``capacity``).
        capacity: At most this many non-zero weights (None: no limit).

    Returns:
        ``(weights, mean_approval)``: the ``(K,)`` unit-norm winner of the last generation, and
        the population's mean approval in each generation, ``(generations + 1,)``.
    """
    shape = (*seen.shape[:-2], settings.population, seen.shape[-1])

    def viable(w: np.ndarray) -> np.ndarray:
        return keep_strongest(normalize(np.where(perceives, w, 0.0)), spread[..., None, :], capacity)

    pop = viable(rng.standard_normal(shape))
    score = approval(seen, labels, pop)
    history = [score.mean(axis=-1)]
    for _ in range(settings.generations):
        parents = tournament(rng, score, settings.population, settings.tournament)
        pop = viable(np.take_along_axis(pop, parents[..., None], axis=-2)
                     + settings.mutation * rng.standard_normal(shape))  # fmt: skip
        score = approval(seen, labels, pop)
        history.append(score.mean(axis=-1))
    best = np.take_along_axis(pop, score.argmax(axis=-1)[..., None, None], axis=-2)[..., 0, :]
    return best, np.stack(history, axis=-1)
