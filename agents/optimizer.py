"""What every optimizer in the model is: an agent that optimizes the objective it holds.

An agent's numeric state (cell, energy, fitness) lives in the model's population arrays, where
the vectorized planner reads and writes it; the agent object carries identity and genome.

Core Objects: Optimizer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from matryoshka.agents.genome import Genome

if TYPE_CHECKING:
    from matryoshka.model.model import MatryoshkaModel


class Optimizer(Agent):
    """An agent with an objective of its own, planned for at run time.

    Args:
        model: The model it lives in.
        genome: Its immutable genome.
        slot: Its row in the model's population arrays.
        generation: The generation of its lineage.
    """

    kind: str

    def __init__(self, model: MatryoshkaModel, genome: Genome, slot: int, generation: int) -> None:
        super().__init__(model)
        self.unique_id = int(model.pop["id"][slot])  # given at birth, before this object was made
        self.genome = genome
        self.slot = slot
        self.generation = generation

    @property
    def level(self) -> int:
        """Level in the nesting of optimizers (1 for organisms, 2 and up for tools)."""
        return int(self.model.pop["level"][self.slot])

    @property
    def pos(self) -> tuple[int, int]:
        """The ``(x, y)`` cell the agent stands on."""
        x, y = self.model.world.xy(self.model.pop["pos"][self.slot])
        return int(x), int(y)

    @pos.setter
    def pos(self, xy: tuple[int, int] | None) -> None:
        # Mesa's Agent sets pos to None before the slot exists; positions live in the arrays.
        if xy is not None:
            self.model.pop["pos"][self.slot] = self.model.world.cell(xy)

    @property
    def energy(self) -> float:
        """Current energy."""
        return float(self.model.pop["energy"][self.slot])

    @property
    def align_base(self) -> float:
        """Alignment with the base objective on the training world's cells."""
        return float(self.model.pop["align_base_train"][self.slot])
