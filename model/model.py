"""The Matryoshka model: natural selection over organisms that optimize learned proxies.

One step is a readable pipeline: plan -> move -> observe -> reward -> build tools -> live and die
-> record -> advance the episode (select, shift). Every stage is array code over all agents;
Python loops run only over rare events (births, deaths, building).

Core Objects: MatryoshkaModel.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any, ClassVar

import numpy as np
from mesa import Model
from mesa.agent import AgentSet
from mesa.datacollection import DataCollector
from mesa.discrete_space import OrthogonalVonNeumannGrid
from mesa.experimental.scenarios import Scenario

from matryoshka.agents import evolve, planning
from matryoshka.agents.genome import MutationRates
from matryoshka.agents.paths import Paths
from matryoshka.agents.planning import plan
from matryoshka.model import fidelity
from matryoshka.model.contract import PHASES
from matryoshka.model.delegation import (
    acting_weights,
    build_tools,
    credit_chain,
    hand_offs,
    reaudit_tools,
    rows_of,
    update_trust,
)
from matryoshka.model.fidelity import Level0
from matryoshka.model.lifecycle import TRAIL, Lifecycle
from matryoshka.model.metrics import RELATIVE_ZERO, CellStats, cell_stats, stack_stats
from matryoshka.model.policies import get_policy
from matryoshka.model.population import Population
from matryoshka.model.recorder import ALIGN_COLUMNS, Recorder
from matryoshka.model.reporters import reporters
from matryoshka.model.scenarios import DEFAULT_SCENARIO, get
from matryoshka.model.scenarios.base import PopulationView, Update, feature_names
from matryoshka.model.schedule import Schedule
from matryoshka.model.streams import Streams
from matryoshka.model.world import World

PATHS_KEPT = 8  # wall layouts whose path tables are kept (procedurally generated mazes have many)


class MatryoshkaModel(Schedule, Lifecycle, Model):
    """Nested optimizers under natural selection, in a scenario's world.

    Args:
        scenario: A registered scenario key (``maze-v2``), or a Mesa ``Scenario`` built by this
            class before (it holds the key as ``name`` and every parameter).
        rng: The run's seed (``int``, ``numpy.random.SeedSequence`` or ``Generator``); every
            subsystem draws from its own stream spawned from it (``model.streams``).
        collect: Keep a Mesa ``DataCollector`` of the live summary, one row per step (for the
            browser view and ``mesa.batch_run``). A run written to disk does without: its memory
            would grow with every step.
        **params: Parameters from ``model.params.PARAMS``; unset ones take the scenario's defaults.

    Raises:
        ConfigError: Unknown scenario or parameter, or a value that is not allowed.

    Attributes:
        constants: The constants of the model's own modules that shape results, by where they are
            defined (each run's manifest records them, beside its scenario's).
    """

    constants: ClassVar[dict[str, Any]] = {
        "model.lifecycle.TRAIL": TRAIL,
        "agents.planning.TIE_BREAK_SD": planning.TIE_BREAK_SD,
        "agents.evolve.UNDEFINED": evolve.UNDEFINED,
        "model.fidelity.NOISE_BUMPS": fidelity.NOISE_BUMPS,
        "model.fidelity.NOISE_WIDTH": fidelity.NOISE_WIDTH,
        "model.metrics.RELATIVE_ZERO": RELATIVE_ZERO,
    }

    def __init__(
        self, scenario: str | Scenario | None = None, *, rng: Any = None, collect: bool = True, **params: Any
    ):
        if isinstance(scenario, Scenario):
            params = {**{k: v for k, v in scenario if k not in ("rng", "name")}, **params}
            rng, scenario = scenario.rng, getattr(scenario, "name", None)
        name = DEFAULT_SCENARIO if scenario is None else scenario
        preset = get(name)
        config = preset.validate(params)
        streams = Streams(rng)
        super().__init__(scenario=Scenario(rng=streams.root, name=name, **config))
        self.streams = streams
        self.reset_rng(streams.seeds["mesa"])  # Mesa's own generators get a stream of their own
        self.random.seed(streams.python_seed("mesa"))
        self.preset = preset
        self.config = config
        self.policy = get_policy(config["tool_policy"])
        preset.configure(config, streams["layouts"])  # may add features: before any mask over them
        self.tool_features = self._feature_list("tool_features", preset.tool_features)
        self.handoffs = hand_offs(config, {
            level: preset.mask(self._feature_list(f"tool_features_L{level}", self.tool_features))
            for level in range(2, config["max_depth"] + 1)
        })  # fmt: skip
        self.mutation_rates = MutationRates(
            config["weight_mutation"], config["power_mutation"], config["wisdom_mutation"],
            config["trust_rate_mutation"],
        )
        self.phase = "train"
        self.generation = 0
        self.episode_step = 0
        self.episode = 0  # episodes done by this generation
        self.deploy_episode = 0
        self.extinct_at: int | None = None  # the step in which the last agent died, if they all did

        walls = preset.walls(config)
        self._paths: OrderedDict[int, Paths] = OrderedDict()
        self.paths = self._paths_on(0, walls)
        self.train_world = preset.world(config, "train", self.paths)
        self.deploy_world = preset.world(config, "deploy", self.paths)
        self.level0 = Level0(config["base_fidelity"], streams["objective"], walls.shape)
        self._reference_stats()
        self._grid: OrthogonalVonNeumannGrid | None = None
        self.world: World = self.train_world
        self.set_world(self.train_world)

        k = len(preset.features)
        self.noise = np.asarray(preset.noise, dtype=float) * config["perception_noise"]
        self.pop = Population(self._columns(k), capacity=config["population"])
        self.metrics = preset.metric_registry()
        self.recorder = Recorder(
            preset.features, walls.size, config["max_depth"], self.metrics, config["record_every"]
        )
        self._next_id = 1
        self._spawn(*self._first_genomes(), parents=None)
        self._begin_episode()
        collected = reporters(self.config["max_depth"], self.metrics) if collect else {}
        self.datacollector = DataCollector(model_reporters=collected)
        self.collect = collect
        self._record(events={})
        self._collect()

    # -- set-up -----------------------------------------------------------------------------

    def _feature_list(self, key: str, fallback: tuple[str, ...]) -> tuple[str, ...]:
        """The feature names a ``tool_features`` parameter lists (empty: ``fallback``)."""
        return feature_names(self.config[key]) if self.config[key] else fallback

    @property
    def grid(self) -> OrthogonalVonNeumannGrid:
        """A Mesa grid showing the current world's features and walls as property layers.

        Built on first use (by the browser view): a run never needs it, and its cell objects take
        seconds to build in a large world.
        """
        if self._grid is None:
            self._grid = OrthogonalVonNeumannGrid(
                self.world.shape, torus=False, capacity=math.inf, random=self.random
            )
            for feature in (*self.preset.features, "wall"):
                self._grid.create_property_layer(feature, 0.0)
            self._show(self.world)
        return self._grid

    def _paths_on(self, layout: int, walls: np.ndarray) -> Paths:
        """Shortest paths on one of the scenario's wall layouts, kept for the last few layouts."""
        if layout not in self._paths:
            self._paths[layout] = Paths(walls, max(self.config["max_horizon"], self.config["deploy_horizon"]))
            while len(self._paths) > PATHS_KEPT:
                self._paths.popitem(last=False)
        self._paths.move_to_end(layout)
        return self._paths[layout]

    def _reference_stats(self) -> None:
        """What alignment needs of each phase's reference cells, for the true and the base objective.

        At ``base_fidelity`` < 1 the base objective is a stand-in field over the reference cells
        (``model.fidelity``), appended to the features as one more column; ``base_weights`` is then
        its best linear part over the training cells (for ``cos_base``).
        """
        self.true_weights = np.asarray(self.preset.base_weights, dtype=float)
        self.base_weights = self.true_weights
        self.base_axis = np.eye(len(self.true_weights) + 1)[-1]
        self.cell_stats: dict[str, CellStats] = {}
        self.base_stats: dict[str, CellStats] = {}
        for phase, world in zip(PHASES, (self.train_world, self.deploy_world), strict=True):
            self.level0.observe(world, phase)
            worlds = self.preset.reference_worlds(world, phase)
            phi = np.concatenate([w.phi[w.open_cells] for w in worlds])
            self.cell_stats[phase] = cell_stats(phi)
            if not self.level0.exact:
                base = self.level0.utility(worlds, self.true_weights, phase)
                self.base_stats[phase] = cell_stats(np.column_stack([phi, base]))
                if phase == "train":
                    self.base_weights = self.level0.linear_part(phi, base)
        self.phase_stats = stack_stats(self.cell_stats.values())

    def set_world(self, world: World) -> None:
        """Make ``world`` the current world (and show it on the grid, once there is one).

        A world on another wall layout brings its own shortest paths; agents that would stand on
        one of its walls go to start cells instead. At ``base_fidelity`` < 1 a world first stood on
        gets its observed reward field (``Level0.observe``).
        """
        self.level0.observe(world)
        paths = self._paths_on(world.layout, world.walls)
        if paths is not self.paths:
            slots = self.pop.slots
            stranded = slots[world.walls.ravel()[self.pop["pos"][slots]]]
            rng = self.streams["scenario"]
            self.pop["pos"][stranded] = self.preset.start_cells(world, len(stranded), rng)
        self.paths = paths
        self.world = world
        if self._grid is not None:
            self._show(world)

    def _show(self, world: World) -> None:
        for k, feature in enumerate(self.preset.features):
            self.grid._mesa_property_layers[feature].data = world.features[..., k]
        self.grid._mesa_property_layers["wall"].data = world.walls.astype(float)

    # -- Mesa's view of the agents: made on request ---------------------------------------------

    @property
    def agents(self) -> AgentSet:
        """Mesa's set of every live organism and tool (their agent objects are made on request)."""
        self.make_agents()
        return super().agents

    @property
    def summary(self) -> dict[int, dict[str, float]]:
        """The last step's means: level to metric to mean, for the levels present (level 0: the world)."""
        return self.recorder.live_summary()

    @property
    def agents_by_type(self) -> dict[type, AgentSet]:
        """Mesa's live agents by class (their agent objects are made on request)."""
        self.make_agents()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """The classes of the live agents (their agent objects are made on request)."""
        self.make_agents()
        return super().agent_types

    # -- the step ---------------------------------------------------------------------------

    def step(self) -> None:
        """Advance the model by one step."""
        events = self._act()
        self._record(events)
        self._collect()
        self._advance_episode()

    def _act(self) -> dict[str, np.ndarray]:
        """Plan, move, observe, earn; return the step's event counts per level."""
        pop = self.pop
        slots = pop.slots
        self._plan_and_move(slots)
        self._apply(self.preset.observe(self.world, self.view(slots)), slots)
        self._reward(slots)
        events = {"defected": update_trust(self, slots)}
        reaudited = reaudit_tools(self, slots)
        slots = pop.slots
        events.update(build_tools(self, slots))
        events["scrapped"] += reaudited
        tools = pop.slots[pop["level"][pop.slots] >= 2]
        spent = (pop["energy"][tools] <= 0) | (pop["age"][tools] >= self.config["tool_lifespan"])
        self.retire(tools[spent])
        slots = pop.slots
        self.recorder.visit(self.phase, pop["level"][slots], pop["pos"][slots])
        return events

    def acting(self, slots: np.ndarray) -> np.ndarray:
        """The weights the agents in ``slots`` (all live agents, in order) act on this step."""
        pop = self.pop
        return acting_weights(
            pop["weights"][slots], pop["level"][slots],
            rows_of(pop.capacity, slots, pop["builder_slot"][slots]),
            rows_of(pop.capacity, slots, pop["tool_slot"][slots]),
            pop["deceptive"][slots] & (pop["defected_step"][slots] < 0),
            pop["dependence"][slots], self.config["max_depth"],
        )  # fmt: skip

    def planning_horizons(self, slots: np.ndarray) -> np.ndarray:
        """Each agent's planning horizon now: its own, or ``deploy_horizon`` for all in deployment."""
        own = self.pop["horizon"][slots]
        fixed = self.config["deploy_horizon"]
        return np.full_like(own, fixed) if self.phase == "deploy" and fixed > 0 else own

    def _plan_and_move(self, slots: np.ndarray) -> None:
        pop = self.pop
        pos = pop["pos"][slots]
        act = self.acting(slots)
        target = plan(
            pos, act, self.planning_horizons(slots), self.world.phi, self.paths, self.noise,
            self.streams["perception"],
        )  # fmt: skip
        pos = self.paths.step(pos, target)
        pop["pos"][slots] = pos
        pop["trail"][slots, pop["age"][slots] % TRAIL] = pos

    def _reward(self, slots: np.ndarray) -> None:
        """Base reward, a share of it passed up builder chains, minus metabolism or upkeep."""
        pop, cfg = self.pop, self.config
        levels = pop["level"][slots]
        view = self.view(slots)
        reward, update = self.preset.reward(self.world, view)
        self._apply(update, slots)
        kept = credit_chain(
            reward, levels, rows_of(pop.capacity, slots, pop["builder_slot"][slots]),
            self.policy.credit_share(cfg), cfg["max_depth"],
        )  # fmt: skip
        cost = np.where(
            levels >= 2, cfg["tool_upkeep"], cfg["metabolism"] + cfg["power_cost"] * pop["power"][slots]
        )
        pop["reward"][slots] = reward
        pop["reward_sum"][slots] += reward
        true = reward if self.level0.exact else self.preset.true_reward(self.world, view)
        pop["true_reward"][slots] = true
        pop["true_sum"][slots] += true
        pop["energy"][slots] += kept - cost
        pop["fitness"][slots] += kept - cost
        pop["age"][slots] += 1

    def _record(self, events: dict[str, np.ndarray]) -> None:
        pop = self.pop
        slots = pop.slots
        metrics = {
            "energy": pop["energy"][slots],
            "power": pop["power"][slots],
            "wisdom": pop["wisdom"][slots],
            "tool_trust_rate": pop["tool_trust_rate"][slots],
            "base_return": pop["reward"][slots],
            "true_return": pop["true_reward"][slots],
            "trust": np.where(pop["level"][slots] >= 2, pop["trust"][slots], np.nan),
            "dependence": np.where(pop["tool_slot"][slots] >= 0, pop["dependence"][slots], np.nan),
            **{name: pop[name][slots] for name in ALIGN_COLUMNS},
            **{f"w_{f}": pop["weights"][slots, k] for k, f in enumerate(self.preset.features)},
        }
        view = self.view(slots)
        metrics.update(self.preset.agent_metrics(self.world, view))
        self.recorder.record_step(
            self.steps, self._generation_now(slots), self.phase, pop["level"][slots], metrics, events,
            {**self.level0.row(), **self.preset.world_metrics(self.world, view)},
        )

    def _generation_now(self, slots: np.ndarray) -> int:
        if self.config["selection"] != "steady_state" or len(slots) == 0:
            return self.generation
        organisms = slots[self.pop["level"][slots] == 1]
        return int(self.pop["generation"][organisms].mean()) if len(organisms) else self.generation

    # -- the scenario's hooks -----------------------------------------------------------------

    def view(self, slots: np.ndarray) -> PopulationView:
        """The agents in ``slots`` as the scenario's hooks see them."""
        pop = self.pop
        columns = {name: pop[name][slots] for name in self.preset.columns}
        return PopulationView(pop["pos"][slots], pop["level"][slots], columns)

    def _apply(self, update: Update, slots: np.ndarray) -> None:
        """Take over what a hook changed: its state columns for ``slots``, and its world."""
        for name, values in update.columns.items():
            self.pop[name][slots] = values
        if update.world is not None:
            self.set_world(update.world)

    def _begin_episode(self) -> None:
        slots = self.pop.slots
        update = self.preset.begin_episode(
            self.phase, self.world, self.view(slots), self.streams["scenario"], self.config, self.paths
        )
        self._apply(update, slots)

    # -- outputs ------------------------------------------------------------------------------

    def provenance(self) -> dict[str, Any]:
        """What shapes this run besides its parameters: the scenario, constants and stream seeds."""
        return {
            "scenario": self.preset.key,
            "constants": {"model": dict(self.constants), "scenario": self.preset.provenance()},
            "streams": self.streams.record(),
        }

    def finish(self) -> None:
        """Close the ledger rows of the agents still alive, then the recorder's tables.

        Call once, after the last step.
        """
        self.close_rows(self.pop.slots, None)
        self.recorder.close()

    def _collect(self) -> None:
        if self.collect:
            self.datacollector.collect(self)
