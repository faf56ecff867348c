"""Tools: Level >= 2 agents, built by an organism or by another tool, with objectives of their own.

Core Objects: Tool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matryoshka.agents.genome import Genome
from matryoshka.agents.optimizer import Optimizer

if TYPE_CHECKING:
    from matryoshka.model.model import MatryoshkaModel


class Tool(Optimizer):
    """An optimizer built, not born: its objective was fit by its builder.

    Args:
        model: The model it lives in.
        genome: Its genome: the fitted weights (or, if deceptive, its hidden objective), the
            features tools perceive, and the builder's competence.
        slot: Its row in the model's population arrays.
        builder: The builder's id.
        generation: The builder's generation.
        deceptive: Whether it acts on its builder's objective only until trusted.
    """

    kind = "tool"

    def __init__(
        self,
        model: MatryoshkaModel,
        genome: Genome,
        slot: int,
        builder: int,
        generation: int,
        deceptive: bool = False,
    ) -> None:
        super().__init__(model, genome, slot, generation)
        self.builder = builder
        self.deceptive = deceptive

    @property
    def trust(self) -> float:
        """How far its builder trusts it, in [0, 1]."""
        return float(self.model.pop["trust"][self.slot])
