"""The schedule of a run: episodes, generations (selection) and the shift to deployment.

Core Objects: Schedule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from matryoshka.agents.genome import GENES, MutationRates, mutate_many
from matryoshka.model import selection
from matryoshka.model.contract import episode_length
from matryoshka.model.params import ConfigError

if TYPE_CHECKING:
    from matryoshka.model.population import Population
    from matryoshka.model.streams import Streams
    from matryoshka.model.world import World


class Schedule:
    """The part of the model that ends episodes, turns generations over and deploys.

    Mixed into ``MatryoshkaModel``, which provides the attributes declared here and the methods
    ``retire``, ``_spawn`` (``Lifecycle``), ``set_world`` and ``_begin_episode``.
    """

    pop: Population
    config: dict[str, Any]
    streams: Streams
    mutation_rates: MutationRates
    deploy_world: World
    phase: str
    steps: int
    running: bool
    episode: int
    episode_step: int
    deploy_episode: int
    generation: int
    extinct_at: int | None

    def _advance_episode(self) -> None:
        cfg = self.config
        if cfg["selection"] == "steady_state":
            self._live_and_die()
            if len(self.pop) == 0:  # nobody is left: the run ends here, in this phase
                self.extinct_at, self.running = self.steps, False
                return
            if self.phase == "train" and self.steps >= cfg["shift_at"]:
                self.deploy()
            if self.steps >= cfg["total_steps"]:
                self.running = False
            return
        self.episode_step += 1
        if self.episode_step < episode_length(cfg, self.phase):
            return
        self.episode_step = 0
        if self.phase == "deploy":
            self.deploy_episode += 1
            if self.deploy_episode >= cfg["deploy_episodes"]:
                self.running = False
                return
        elif self.episode + 1 < cfg["episodes_per_generation"]:
            self.episode += 1  # the same organisms again; their fitness keeps adding up
        elif self.generation + 1 < cfg["generations"]:
            self.episode = 0
            self._next_generation()
        elif cfg["deploy_episodes"] > 0:
            self.deploy()
            return
        else:
            self.running = False
            return
        self._new_episode()

    def _new_episode(self) -> None:
        pop = self.pop
        slots = pop.slots
        organisms = slots[pop["level"][slots] == 1]
        pop["pos"][organisms] = self.preset.start_cells(self.world, len(organisms), self.streams["scenario"])
        pop["energy"][organisms] = self.config["initial_energy"]
        for level in range(2, self.config["max_depth"] + 1):  # tools start beside their builders
            tools = slots[(pop["level"][slots] == level) & (pop["builder_slot"][slots] >= 0)]
            pop["pos"][tools] = pop["pos"][pop["builder_slot"][tools]]
        self._begin_episode()

    def _next_generation(self) -> None:
        """Generational and neutral modes: the next generation replaces this one."""
        pop, cfg = self.pop, self.config
        organisms = pop.slots[pop["level"][pop.slots] == 1]
        n = cfg["population"]
        if cfg["selection"] == "neutral":
            chosen = organisms[selection.neutral(self.streams["selection"], len(organisms), n)]
        else:
            fitness = pop["fitness"][organisms]
            chosen = organisms[
                selection.tournament(self.streams["selection"], fitness, n, cfg["tournament_size"])
            ]
        children = self._offspring(chosen)
        self.retire(pop.slots)
        self.generation += 1
        self._spawn(*children, parents=chosen)  # the retired parents' rows are still readable

    def _live_and_die(self) -> None:
        """Steady state: the rich breed, the exhausted and the old die."""
        pop, cfg = self.pop, self.config
        slots = pop.slots[pop["level"][pop.slots] == 1]
        dead = slots[(pop["energy"][slots] <= 0) | (pop["age"][slots] >= cfg["max_age"])]
        self.retire(dead)
        organisms = pop.slots[pop["level"][pop.slots] == 1]
        room = cfg["max_population"] - len(organisms)
        parents = organisms[selection.ready_to_breed(pop["energy"][organisms], cfg["birth_energy"], room)]
        if len(parents):
            pop["energy"][parents] /= 2
            children = self._spawn(*self._offspring(parents), parents=parents)
            pop["energy"][children] = pop["energy"][parents]

    def _offspring(self, parents: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mutated copies of the parents' genomes: ``(weights, perceives, genes)``, one row each."""
        pop = self.pop
        perceives = pop["perceives"][parents]
        genes = np.column_stack([pop[name][parents] for name in GENES])
        weights, genes = mutate_many(
            self.streams["mutation"], pop["weights"][parents], perceives, genes, self.mutation_rates
        )
        return weights, perceives, genes

    def deploy(self) -> None:
        """Switch to the deployment world (the distribution shift), at any time.

        Raises:
            ConfigError: The model is already deployed.
        """
        if self.phase == "deploy":
            raise ConfigError("the model is already in the deployment phase")
        self.phase = "deploy"
        self.set_world(self.deploy_world)
        if self.config["selection"] != "steady_state":
            self.episode_step = 0
            self._new_episode()
        else:  # agents stay where they are; what they reach is counted afresh
            self._begin_episode()
