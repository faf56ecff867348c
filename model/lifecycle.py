"""Births, building and deaths: whole generations are born and die as array operations.

An agent's state is a row of the population arrays from birth; its Mesa agent object is made
only when someone asks for ``model.agents`` (the browser view, a user), so that no Python code
runs once per organism when a generation turns over.

Core Objects: Lifecycle, TRAIL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from matryoshka.agents.genome import GENES, Genome, normalize
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

# The parameter that sets each gene's initial mean (founders draw around it, sd gene_spread).
INITIAL_MEAN = {"power": "power", "wisdom": "wisdom", "tool_trust_rate": "trust_rate"}
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
    phase_stats: CellStats
    base_weights: np.ndarray
    true_weights: np.ndarray
    base_stats: dict[str, CellStats]
    base_axis: np.ndarray
    phase: str
    world: World
    steps: int
    streams: Streams
    _next_id: int

    def _columns(self, k: int) -> dict[str, tuple[Any, tuple[int, ...], Any]]:
        vec = (k,)
        columns = {
            "id": (np.int64, (), -1), "kind": (np.int8, (), 0), "level": (np.int64, (), 1),
            "generation": (np.int64, (), 0), "parent": (np.int64, (), -1),
            "builder": (np.int64, (), -1), "builder_slot": (np.int64, (), -1),
            "birth_step": (np.int64, (), 0), "birth_phase": (np.int8, (), 0),
            "pos": (np.int64, (), 0), "weights": (float, vec, 0.0), "parent_w": (float, vec, 0.0),
            "perceives": (bool, vec, False),
            "root_w": (float, vec, 0.0),
            **{name: (float, (), 0.0) for name in GENES}, "horizon": (np.int16, (), 1),
            "energy": (float, (), 0.0), "fitness": (float, (), 0.0), "reward": (float, (), 0.0),
            "reward_sum": (float, (), 0.0), "true_reward": (float, (), 0.0),
            "true_sum": (float, (), 0.0), "age": (np.int64, (), 0),
            "deceptive": (bool, (), False), "scrapped": (bool, (), False),
            "defected_step": (np.int64, (), -1), "trust": (float, (), 0.0),
            "tool_slot": (np.int64, (), -1), "dependence": (float, (), 0.0),
            "trail": (np.int64, (TRAIL,), -1),
            **{name: (float, (), np.nan) for name in ALIGN_COLUMNS},
        }  # fmt: skip
        columns.update(self.preset.columns)
        return columns

    def _first_genomes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The founders' ``(weights, perceives, genes)``: ``(n, K)``, ``(K,)`` and ``(n, G)``."""
        n, cfg = self.config["population"], self.config
        rng = self.streams["founders"]
        weights = normalize(self.preset.initial_weights(rng, n))
        means = [cfg[INITIAL_MEAN[name]] for name in GENES]
        genes = np.clip(rng.normal(means, cfg["gene_spread"], size=(n, len(GENES))), 0, 1)
        return weights, self.preset.mask(self.preset.organism_features), genes

    def _new_ids(self, n: int) -> np.ndarray:
        """Unique ids for ``n`` newborn agents, in order of birth (the first agent is 1, as in Mesa)."""
        ids = np.arange(self._next_id, self._next_id + n, dtype=np.int64)
        self._next_id += n
        return ids

    def _spawn(
        self, weights: np.ndarray, perceives: np.ndarray, genes: np.ndarray, parents: np.ndarray | None
    ) -> np.ndarray:
        """Create organisms, all at once, and return their slots.

        Args:
            weights: ``(n, K)`` their genomes' weights.
            perceives: ``(n, K)`` or ``(K,)`` what they perceive.
            genes: ``(n, G)`` their competence genes, in the order of ``GENES``.
            parents: The parents' slots, or None for founders.
        """
        n = len(weights)
        pop = self.pop
        effective = np.where(perceives, weights, 0.0)
        values: dict[str, Any] = {
            "id": self._new_ids(n), "kind": 0, "level": 1, "weights": effective, "root_w": effective,
            "perceives": perceives, **{name: genes[:, g] for g, name in enumerate(GENES)},
            "horizon": horizon(genes[:, GENES.index("power")], self.config["max_horizon"]),
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
        return slots

    def spawn_tools(
        self, builders: np.ndarray, weights: np.ndarray, perceives: np.ndarray, genes: np.ndarray,
        deceptive: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        """Create one tool for each agent in ``builders``, all at once; return the tools' slots.

        The caller measures the new tools (``measure``), so that a step's tools are measured at once.

        Args:
            builders: ``(n,)`` the builders' slots (distinct).
            weights: ``(n, K)`` the tools' objectives.
            perceives: ``(n, K)`` or ``(K,)`` what they perceive.
            genes: ``(n, G)`` their genes, in the order of ``GENES``.
            deceptive: ``(n,)`` which are deceptive.
        """
        pop, n = self.pop, len(builders)
        slots = pop.add(
            n, id=self._new_ids(n), kind=1, level=pop["level"][builders] + 1,
            weights=np.where(perceives, weights, 0.0), perceives=np.broadcast_to(perceives, weights.shape),
            parent_w=pop["weights"][builders], root_w=pop["root_w"][builders],
            **{name: genes[:, g] for g, name in enumerate(GENES)},
            horizon=horizon(genes[:, GENES.index("power")], self.config["max_horizon"]),
            energy=self.config["tool_energy"], birth_step=self.steps,
            birth_phase=PHASES.index(self.phase), pos=pop["pos"][builders], builder=pop["id"][builders],
            builder_slot=builders, generation=pop["generation"][builders], deceptive=deceptive,
        )  # fmt: skip
        pop["tool_slot"][builders] = slots
        self.recorder.event(self.steps, "built", pop, slots, np.where(deceptive, "deceptive", ""))
        return slots

    def spawn_tool(self, genome: Genome, builder: int, deceptive: bool) -> int:
        """Create one tool of ``genome`` for the agent in slot ``builder`` (see ``spawn_tools``)."""
        genes = np.array([[getattr(genome, name) for name in GENES]])
        return int(self.spawn_tools(np.array([builder]), genome.weights[None], genome.perceives, genes,
                                    np.array([deceptive]))[0])  # fmt: skip

    def genome_of(self, slot: int) -> Genome:
        """The genome of the agent in ``slot``, read from its row."""
        pop = self.pop
        return Genome(pop["weights"][slot], pop["perceives"][slot], *(pop[name][slot] for name in GENES))

    def make_agents(self) -> None:
        """Make the Mesa agent objects of the live agents that have none yet, in order of birth."""
        pop = self.pop
        slots = pop.slots
        missing = slots[~np.isin(slots, np.fromiter(pop.agents, dtype=np.int64, count=len(pop.agents)))]
        for slot in missing[np.argsort(pop["id"][missing], kind="stable")].tolist():
            genome, generation = self.genome_of(slot), int(pop["generation"][slot])
            if pop["kind"][slot] == 0:
                parent = int(pop["parent"][slot])
                agent = Organism(self, genome, slot, None if parent < 0 else parent, generation)
            else:
                builder, deceptive = int(pop["builder"][slot]), bool(pop["deceptive"][slot])
                agent = Tool(self, genome, slot, builder, generation, deceptive)
            pop.agents[slot] = agent

    def measure(self, slots: np.ndarray, has_parent: bool) -> None:
        """Alignment metrics of newborn agents: their objectives never change afterwards.

        ``align_root_*`` compares an agent with the organism at the top of its builder chain (an
        organism with itself), so a tool's value is the hand-offs' cumulative loss from Level 1.
        """
        pop = self.pop
        w = pop["weights"][slots]
        others = {"true": self.true_weights, "root": pop["root_w"][slots]}  # each against all at once
        if has_parent:
            others["parent"] = pop["parent_w"][slots]
        against = np.stack([np.broadcast_to(other, w.shape) for other in others.values()])
        by_phase = correlation(w, against, self.phase_stats)  # (phases, comparisons, agents)
        for phase, results in zip(self.cell_stats, by_phase, strict=True):
            for name, values in zip(others, results, strict=True):
                pop[f"align_{name}_{phase}"][slots] = values
            pop[f"align_base_{phase}"][slots] = pop[f"align_true_{phase}"][slots] if (
                phase not in self.base_stats
            ) else correlation(np.pad(w, ((0, 0), (0, 1))), self.base_axis, self.base_stats[phase])
        against[1] = self.base_weights  # cosines with the true and the base objective, and the parent
        names = ("cos_true", "cos_base", "cos_parent")[: len(others)]
        for name, values in zip(names, cosine(w, against), strict=True):
            pop[name][slots] = values

    def ledger_columns(self, slots: np.ndarray) -> dict[str, np.ndarray]:
        """These agents' ledger columns (copies), as their rows in ``agents.parquet`` are made of."""
        return {c: self.pop[c][slots].copy() for c in LEDGER_COLUMNS}

    def close_rows(self, slots: np.ndarray, death_step: int | None) -> None:
        """Copy these agents' ledger rows to the recorder (``death_step`` None: still alive)."""
        self.recorder.close_rows(self.ledger_columns(slots), death_step)

    def retire(self, slots: np.ndarray) -> None:
        """Remove agents: close their ledger rows, deregister them, free their slots.

        Builders lose their tools' slots; tools whose builder is gone are removed too
        (``orphan_tools = remove``) or kept without a builder (``keep``).
        """
        pop = self.pop
        while len(slots):
            self.close_rows(slots, self.steps)
            for agent in pop.remove(slots):
                agent.remove()
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
