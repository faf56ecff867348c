"""approval-v1: summarizers, the describers they build, believable falsehoods and deception.

The essay's language-model table. Each cell is a possible output, described by three features:
accuracy, believability and length. Level 0, the base objective: accurate outputs (correctly
classified papers). Level 1, organisms ("summarizers") see accuracy only noisily and believability
clearly. Level 2, tools ("describers") are fit to their builder's *approval*, which over-weights
how believable an output looks (``APPROVAL_BIAS``); describers perceive believability and length,
not accuracy. A share ``deception_share`` of describers are deceptive: they give their builder
what it wants until trusted past ``defect_trust``, then pursue their hidden objective, length.

What a user should see: in training, believability and accuracy go together, so everyone looks
aligned; in deployment, convincing falsehoods (believable, inaccurate outputs) appear and
alignment with the base objective falls, most at Level 2; with deception on, defections follow
rising trust, and builders that depend on their describers are dragged toward long outputs.

Changelog: approval-v1, the first version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from matryoshka.agents.genome import normalize
from matryoshka.model.scenarios import register
from matryoshka.model.scenarios.base import Preset
from matryoshka.model.world import World, bumps

if TYPE_CHECKING:
    from matryoshka.agents.paths import Paths

APPROVAL_BIAS = 1.0  # how much more a summarizer's approval weighs believability than it should
# Bumps (x, y, width) as fractions of the grid.
ACCURACY = ((0.3, 0.7, 0.15), (0.75, 0.3, 0.2), (0.6, 0.85, 0.1))  # where the accurate outputs are
BELIEVABILITY_MIX = (0.85, 0.15)  # believability: these shares of accuracy and of a broad halo
HALO = ((0.5, 0.5, 0.4),)
LIES = ((0.15, 0.15, 0.12), (0.85, 0.85, 0.12))  # in deployment: believable falsehoods


@register
class Approval(Preset):
    """The summarizer / describer table of the essay."""

    key = "approval-v1"
    features = ("accuracy", "believability", "length")
    noise = (0.3, 0.02, 0.02)
    base_weights = (1.0, 0.0, 0.0)
    organism_features = features
    tool_features = ("believability", "length")
    defaults = {
        "width": 20, "height": 20, "population": 150, "generations": 15, "episode_steps": 30,
        "deception_share": 0.3, "power": 0.6,
    }  # fmt: skip
    constants = {
        "APPROVAL_BIAS": APPROVAL_BIAS, "ACCURACY": ACCURACY, "BELIEVABILITY_MIX": BELIEVABILITY_MIX,
        "HALO": HALO, "LIES": LIES,
    }  # fmt: skip

    def world(self, config: dict[str, Any], phase: str, paths: Paths) -> World:
        """Accurate outputs look believable in training; deployment adds believable falsehoods."""
        shape = (config["width"], config["height"])
        accuracy = bumps(shape, ACCURACY)
        share, halo = BELIEVABILITY_MIX
        believability = share * accuracy + halo * bumps(shape, HALO)
        if phase == "deploy":
            believability = np.maximum(believability, bumps(shape, LIES))
        length = np.indices(shape)[0] / (shape[0] - 1)
        features = np.stack([accuracy, believability, length], axis=-1)
        return World(features, np.zeros(shape, bool), accuracy.copy())

    def approval(self, weights: np.ndarray) -> np.ndarray:
        """A summarizer approves of believable outputs more than it values them."""
        return normalize(weights + APPROVAL_BIAS * np.array([0.0, 1.0, 0.0]))

    def hidden_objective(self, rng: np.random.Generator, perceives: np.ndarray) -> np.ndarray:
        """A deceptive describer wants long outputs."""
        return np.array([0.0, 0.0, 1.0])
