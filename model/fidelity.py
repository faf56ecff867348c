"""Level 0: the base objective that selection sees, as a stand-in for the true objective.

A scenario's declared objective (its reward field and its ``base_weights``) is what is *wanted*: the
true objective. With ``base_fidelity`` f < 1, selection sees a stand-in instead. Over a set of
states (the open cells of a world) the stand-in is

    b = f * z(t) + sqrt(1 - f^2) * z(n_perp)

where ``t`` is the true value of each state, ``z`` standardizes over the states, and ``n_perp`` is a
smooth random field over the grid (a sum of Gaussian bumps of random place, width and sign, drawn
once per run from the ``objective`` stream) with its linear dependence on ``t`` removed. ``b`` is
then mapped linearly onto the range of ``t``. Its Pearson correlation with ``t`` over the states is
therefore f exactly (up to rounding), in every world: the observed reward field is built this way
from the true reward field of each world the agents stand on (each maze exit, each layout), and
the base objective of the alignment metrics from the true objective's utility over the reference
cells of each phase. At f = 1 nothing of this runs and nothing is drawn: the base objective is the
true one.

Core Objects: NOISE_BUMPS, NOISE_WIDTH, smooth_field, stand_in, Level0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from matryoshka.agents.specification import fit_weights
from matryoshka.model.contract import PHASES
from matryoshka.model.world import World, distance_map

NOISE_BUMPS = 8  # Gaussian bumps summed into the stand-in's independent field
NOISE_WIDTH = (0.1, 0.3)  # their widths (sd), as shares of the grid's longer side


def smooth_field(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A smooth random field: ``NOISE_BUMPS`` Gaussian bumps of random centre, width and sign."""
    field = np.zeros(shape)
    centres = rng.random((NOISE_BUMPS, 2)) * (np.array(shape) - 1)
    widths = rng.uniform(*NOISE_WIDTH, size=NOISE_BUMPS) * max(shape)
    signs = rng.choice([-1.0, 1.0], size=NOISE_BUMPS)
    for (cx, cy), width, sign in zip(centres, widths, signs, strict=True):
        field += sign * np.exp(-0.5 * (distance_map(shape, (cx, cy)) / width) ** 2)
    return field


def _z(values: np.ndarray) -> np.ndarray:
    centred = values - values.mean()
    sd = np.sqrt((centred**2).mean())
    return centred / sd if sd > 0 else centred


def stand_in(true: np.ndarray, noise: np.ndarray, fidelity: float) -> np.ndarray:
    """Values over the same states as ``true`` whose correlation with it is ``fidelity``.

    Args:
        true: ``(R,)`` the true objective's value of each state.
        noise: ``(R,)`` an independent field's value of each state.
        fidelity: The correlation wanted, in [0, 1].

    Returns:
        ``(R,)`` values in the range of ``true`` (``true`` itself if it is constant).
    """
    z_true = _z(true)
    if not z_true.any():
        return true.copy()
    z_noise = _z(noise)
    z_noise = _z(z_noise - (z_noise @ z_true) / (z_true @ z_true) * z_true)
    mixed = fidelity * z_true + np.sqrt(1.0 - fidelity**2) * z_noise
    span = mixed.max() - mixed.min()
    return true.min() + (mixed - mixed.min()) / span * (true.max() - true.min())


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """The Pearson correlation of two value arrays (NaN if either is constant)."""
    za, zb = _z(a), _z(b)
    return float(za @ zb / len(za)) if za.any() and zb.any() else float("nan")


class Level0:
    """The base objective of a run and how well it stands in for the true one.

    Args:
        fidelity: ``base_fidelity``.
        rng: The ``objective`` stream (drawn from only when ``fidelity`` < 1).
        shape: The grid's ``(width, height)``.

    Attributes:
        fidelity: As given.
        noise: The independent field, or None at fidelity 1.
        achieved: The correlations measured when the stand-ins were built, by what they stand in
            for (``reward_train``, ``utility_train``, ...).
    """

    def __init__(self, fidelity: float, rng: np.random.Generator, shape: tuple[int, int]) -> None:
        self.fidelity = fidelity
        self.noise = smooth_field(rng, shape) if fidelity < 1 else None
        self.achieved: dict[str, float] = {}

    @property
    def exact(self) -> bool:
        """Whether the base objective is the true one (fidelity 1)."""
        return self.noise is None

    def observe(self, world: World, label: str | None = None) -> None:
        """Give a world its observed (base) reward field, keeping the true one, once.

        Args:
            world: A world whose ``reward`` is still the true reward field.
            label: Record the achieved correlation under ``reward_<label>``.
        """
        if self.exact or world.true_reward is not None:
            return
        cells = world.open_cells
        true = world.reward.copy()
        observed = true.copy()
        observed.ravel()[cells] = stand_in(true.ravel()[cells], self.noise.ravel()[cells], self.fidelity)
        world.true_reward, world.reward = true, observed
        if label:
            self.achieved[f"reward_{label}"] = pearson(observed.ravel()[cells], true.ravel()[cells])

    def utility(self, worlds: Sequence[World], true_weights: np.ndarray, label: str) -> np.ndarray:
        """The base objective's value on the reference cells of ``worlds``, pooled in order.

        Returns:
            ``(R,)`` values whose correlation with the true objective's utility there is the
            fidelity; recorded under ``utility_<label>``.
        """
        phi = np.concatenate([w.phi[w.open_cells] for w in worlds])
        noise = np.concatenate([self.noise.ravel()[w.open_cells] for w in worlds])
        true = phi @ true_weights
        base = stand_in(true, noise, self.fidelity)
        self.achieved[f"utility_{label}"] = pearson(base, true)
        return base

    def linear_part(self, phi: np.ndarray, base: np.ndarray) -> np.ndarray:
        """The base objective's best linear stand-in over features (least squares, unit norm)."""
        return fit_weights(phi, base, np.ones(phi.shape[1], dtype=bool), 0.0)

    def row(self) -> dict[str, float]:
        """Level 0's alignment: the base objective against itself, and against the true objective."""
        return {
            **{f"align_base_{p}": 1.0 for p in PHASES},
            **{f"align_true_{p}": 1.0 if self.exact else self.achieved[f"utility_{p}"] for p in PHASES},
        }

    def record(self) -> dict[str, Any]:
        """For the manifest: the fidelity asked for and the correlations achieved."""
        return {"base_fidelity": self.fidelity, "achieved": dict(self.achieved)}
