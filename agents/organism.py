"""Organisms: Level-1 agents, born from a parent, that optimize the proxy in their genome.

Core Objects: Organism.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matryoshka.agents.genome import Genome
from matryoshka.agents.optimizer import Optimizer

if TYPE_CHECKING:
    from matryoshka.model.model import MatryoshkaModel


class Organism(Optimizer):
    """A mesa-optimizer: inherits an objective and competence genes, plans at run time.

    Args:
        model: The model it lives in.
        genome: Its immutable genome.
        slot: Its row in the model's population arrays.
        parent: The parent's id, or None for the first generation.
        generation: Parent's generation + 1 (0 for the first).
    """

    kind = "organism"

    def __init__(
        self,
        model: MatryoshkaModel,
        genome: Genome,
        slot: int,
        parent: int | None = None,
        generation: int = 0,
    ) -> None:
        super().__init__(model, genome, slot, generation)
        self.parent = parent
