"""Births, building and deaths: the rare events, where Python loops over agents are fine.

Core Objects: Lifecycle, TRAIL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from matryoshka.agents.genome import Genome, normalize
from matryoshka.agents.organism import Organism
from matryoshka.agents.planning import horizon
from matryoshka.agents.tool import Tool
from matryoshka.model.contract import PHASES
from matryoshka.model.metrics import CellStats, correlation, cosine
from matryoshka.model.recorder import ALIGN_COLUMNS, LEDGER_COLUMNS

if TYPE_CHECKING:
    from matryoshka.model.population import Population
    from matryoshka.model.recorder import Recorder
    from matryoshka.model.scenarios.base import Preset
    from matryoshka.model.streams import Streams
    from matryoshka.model.world import World

TRAIL = 32  # cells of experience each agent remembers, for specifying tools


class Lifecycle:
    """The part of the model that creates and removes agents and keeps their rows in step.

    Mixed into ``MatryoshkaModel``, which provides the attributes declared here.
    """

    pop: Population
    preset: Preset
    recorder: Recorder
    config: dict[str, Any]
    cell_stats: dict[str, CellStats]
    base_weights: np.ndarray
    phase: str
    world: World
    steps: int
    streams: Streams

    def _columns(self, k: int) -> dict[str, tuple[Any, tuple[int, ...], Any]]:
        vec = (k,)
        columns = {
            "id": (np.int64, (), -1), "kind": (np.int8, (), 0), "level": (np.int64, (), 1),
            "generation": (np.int64, (), 0), "parent": (np.int64, (), -1),
            "builder": (np.int64, (), -1), "builder_slot": (np.int64, (), -1),
            "birth_step": (np.int64, (), 0), "birth_phase": (np.int8, (), 0),
            "pos": (np.int64, (), 0), "weights": (float, vec, 0.0), "parent_w": (float, vec, 0.0),
            "root_w": (float, vec, 0.0),
            "power": (float, (), 0.0), "wisdom": (float, (), 0.0), "horizon": (np.int16, (), 1),
            "energy": (float, (), 0.0), "fitness": (float, (), 0.0), "reward": (float, (), 0.0),
            "reward_sum": (float, (), 0.0), "age": (np.int64, (), 0),
            "deceptive": (bool, (), False), "scrapped": (bool, (), False),
            "defected_step": (np.int64, (), -1), "trust": (float, (), 0.0),
            "tool_slot": (np.int64, (), -1), "dependence": (float, (), 0.0),
            "trail": (np.int64, (TRAIL,), -1),
            **{name: (float, (), np.nan) for name in ALIGN_COLUMNS},
        }  # fmt: skip
        columns.update(self.preset.columns)
        return columns

    def _first_genomes(self) -> list[Genome]:
        n, cfg = self.config["population"], self.config
        rng = self.streams["founders"]
        weights = normalize(self.preset.initial_weights(rng, n))
        genes = np.clip(rng.normal([cfg["power"], cfg["wisdom"]], cfg["gene_spread"], size=(n, 2)), 0, 1)
        perceives = self.preset.mask(self.preset.organism_features)
        return [Genome(weights[i], perceives, *genes[i]) for i in range(n)]

    def _spawn(self, genomes: list[Genome], parents: np.ndarray | None) -> np.ndarray:
        """Create organisms with these genomes; ``parents`` are the parents' slots (or None)."""
        n = len(genomes)
        pop = self.pop
        weights = np.array([g.effective_weights for g in genomes]).reshape(n, -1)
        power = np.array([g.power for g in genomes])
        values: dict[str, Any] = {
            "kind": 0, "level": 1, "weights": weights, "root_w": weights, "power": power,
            "wisdom": np.array([g.wisdom for g in genomes]),
            "horizon": horizon(power, self.config["max_horizon"]),
            "energy": self.config["initial_energy"], "birth_step": self.steps,
            "birth_phase": PHASES.index(self.phase),
            "pos": self.preset.start_cells(
                self.world, n, self.streams["scenario"], self._parent_cells(parents)
            ),
        }  # fmt: skip
        if parents is not None:
            values.update(
                parent=pop["id"][parents],
                parent_w=pop["weights"][parents],
                generation=pop["generation"][parents] + 1,
            )
        slots = pop.add(n, **values)
        self.measure(slots, has_parent=parents is not None)
        for slot, genome in zip(slots, genomes, strict=True):
            parent = int(pop["parent"][slot])
            agent = Organism(self, genome, int(slot), None if parent < 0 else parent,
                             int(pop["generation"][slot]))  # fmt: skip
            pop["id"][slot] = agent.unique_id
            pop.agents[slot] = agent
        return slots

    def spawn_tool(self, genome: Genome, builder: int, deceptive: bool) -> int:
        """Create a tool built by the agent in slot ``builder``; return the tool's slot.

        The caller measures the new tool (``measure``), so that a step's tools are measured at once.
        """
        pop = self.pop
        slot = int(pop.add(
            1, kind=1, level=pop["level"][builder] + 1, weights=genome.effective_weights[None],
            parent_w=pop["weights"][builder][None], root_w=pop["root_w"][builder][None],
            power=genome.power, wisdom=genome.wisdom,
            horizon=horizon(np.array([genome.power]), self.config["max_horizon"]),
            energy=self.config["tool_energy"], birth_step=self.steps,
            birth_phase=PHASES.index(self.phase), pos=pop["pos"][builder], builder=pop["id"][builder],
            builder_slot=builder, generation=pop["generation"][builder], deceptive=deceptive,
        )[0])  # fmt: skip
        agent = Tool(self, genome, slot, int(pop["id"][builder]), int(pop["generation"][slot]), deceptive)
        pop["id"][slot] = agent.unique_id
        pop.agents[slot] = agent
        pop["tool_slot"][builder] = slot
        self.recorder.event(self.steps, "built", pop, slot, "deceptive" if deceptive else "")
        return slot

    def measure(self, slots: np.ndarray, has_parent: bool) -> None:
        """Alignment metrics of newborn agents: their objectives never change afterwards.

        ``align_root_*`` compares an agent with the organism at the top of its builder chain (an
        organism with itself), so a tool's value is the hand-offs' cumulative loss from Level 1.
        """
        pop = self.pop
        w = pop["weights"][slots]
        for phase, s in self.cell_stats.items():
            pop[f"align_base_{phase}"][slots] = correlation(w, self.base_weights, s)
            pop[f"align_root_{phase}"][slots] = correlation(w, pop["root_w"][slots], s)
            if has_parent:
                pop[f"align_parent_{phase}"][slots] = correlation(w, pop["parent_w"][slots], s)
        pop["cos_base"][slots] = cosine(w, self.base_weights)
        if has_parent:
            pop["cos_parent"][slots] = cosine(w, pop["parent_w"][slots])

    def close_rows(self, slots: np.ndarray, death_step: int | None) -> None:
        """Copy these agents' ledger rows to the recorder (``death_step`` None: still alive)."""
        self.recorder.close_rows({c: self.pop[c][slots].copy() for c in LEDGER_COLUMNS}, death_step)

    def retire(self, slots: np.ndarray) -> None:
        """Remove agents: close their ledger rows, deregister them, free their slots.

        Builders lose their tools' slots; tools whose builder is gone are removed too
        (``orphan_tools = remove``) or kept without a builder (``keep``).
        """
        pop = self.pop
        while len(slots):
            self.close_rows(slots, self.steps)
            for slot in slots.tolist():
                pop.agents[slot].remove()
            pop.remove(slots)
            lost = np.isin(pop["tool_slot"], slots)
            pop["tool_slot"][lost] = -1
            pop["dependence"][lost] = 0.0
            orphans = np.flatnonzero(pop.alive & np.isin(pop["builder_slot"], slots))
            pop["builder_slot"][orphans] = -1
            slots = orphans if self.config["orphan_tools"] == "remove" else orphans[:0]

    def _parent_cells(self, parents: np.ndarray | None) -> np.ndarray | None:
        """Where births in steady state happen: the parents' cells (else None: the scenario decides)."""
        if parents is None or self.config["selection"] != "steady_state":
            return None
        return self.pop["pos"][parents]

    def genome_of(self, slot: int) -> Genome:
        """The genome of the agent in ``slot``."""
        return self.pop.agents[slot].genome
