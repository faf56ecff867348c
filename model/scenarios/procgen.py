"""maze-procgen-v1: how the generalization gap depends on the number of distinct training worlds.

It reproduces the set-up of Cobbe et al. (2018, "Quantifying generalization in reinforcement
learning"): agents trained on N procedurally generated levels and tested on levels they never saw
generalize worse the fewer the training levels, and the gap closes only with many of them. Here a
level is a maze layout (``model.layouts``: a randomized depth-first search with extra openings,
and an exit on a random cell 10 to 20 steps from the origin). Each training episode draws one of
``train_layouts`` layouts; deployment runs on ``deploy_layouts`` layouts none of which was seen in
training. Base objective: reach the exit. Features: ``exit_signal`` (a scent along the corridors,
peaked at the exit, noisy to perceive) and ``dist_origin`` (how far from the start, easy to
perceive); with ``position_features``, six coarse position features as well (``pos_x0`` ...
``pos_y2``: closeness to three bands across and three bands down the grid), with which a genome can
point at a region of the grid, and so remember where exits were. Tools perceive ``exit_signal``
and ``dist_origin`` only.

What to look for: the gap between training and deployment ``reached_exit`` (the last training
episode against the deployment episodes) as ``train_layouts`` grows. With one layout a lineage can
do well by heading where that layout's exit is; with position features it can even name the
region. Only the exit signal is right in every layout, and it is noisy: with many layouts,
selection has to find it, and what is learnt in training then carries over. Alignment with the
base objective is measured over the open cells of every layout of the phase, pooled.

Generational modes draw a layout every episode; in ``steady_state`` the world changes layout only
at the shift (agents standing on a wall of the new layout are moved to the origin).

Changelog: maze-procgen-v1 is the first version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from matryoshka.agents.paths import UNREACHABLE, Paths
from matryoshka.model.contract import CORE_METRICS, PHASE_END, Metric, metric_registry, weight_metric
from matryoshka.model.layouts import Layout, draw_layouts
from matryoshka.model.params import ConfigError, Param
from matryoshka.model.scenarios import register
from matryoshka.model.scenarios.base import PopulationView, Preset, Update
from matryoshka.model.world import World, distance_map

ORIGIN = (0, 0)
OPENINGS = 0.15  # share of the inner walls left by the maze search that are knocked through
EXIT_REACH = 20  # the exit stands between EXIT_REACH // 2 and EXIT_REACH steps from the origin
EXIT_SIGNAL_POWER = 0.5  # the exit signal is 1 - (path length / longest path) ** this, as in maze-v2
POSITION_BANDS = 3  # coarse position features: this many bands across and this many down
POSITION_NOISE = 0.02  # perception noise (sd) on each position feature


POSITION_FEATURES = tuple(f"pos_{axis}{b}" for axis in "xy" for b in range(POSITION_BANDS))


def band_features(shape: tuple[int, int]) -> np.ndarray:
    """The coarse position features (``POSITION_FEATURES``): closeness to each band's centre line.

    Returns:
        ``(width, height, 2 * POSITION_BANDS)`` values in [0, 1], the x bands first.
    """
    fields = []
    for axis in range(2):
        coord = np.indices(shape)[axis] / (shape[axis] - 1)
        for b in range(POSITION_BANDS):
            centre = (b + 0.5) / POSITION_BANDS
            fields.append(np.exp(-0.5 * ((coord - centre) * POSITION_BANDS * 2) ** 2))
    return np.stack(fields, axis=-1)


@register
class MazeProcgen(Preset):
    """Mazes drawn from the run's random stream: a few or many in training, unseen ones in deployment."""

    key = "maze-procgen-v1"
    features = ("exit_signal", "dist_origin")
    noise = (0.12, 0.02)
    base_weights = (1.0, 0.0)
    fidelity_states = "the open cells of each layout"
    organism_features = features
    tool_features = ("exit_signal", "dist_origin")
    defaults = {"width": 21, "height": 21}
    params = {
        "train_layouts": Param(int, 1, "distinct training layouts (each episode draws one)", 1, 10_000),
        "deploy_layouts": Param(int, 1, "deployment layouts, none of them seen in training", 1, 1000),
        "position_features": Param(bool, False, "add coarse x/y position features that genomes can weight"),
    }
    columns = {"reached_exit": (bool, (), False)}
    metrics = (
        Metric("reached_exit", "share of agents that reached the exit so far this episode",
               summary=PHASE_END, share=True, headline=True, printed=True),
    )  # fmt: skip
    marks = {"exit": "#e69f00", "origin": "#546e7a"}
    shift_axis = "train_layouts"
    shift_metrics = ("reached_exit",)
    shift_reading = ("The generalization gap is the drop from the last training episode to deployment; "
                     "it closes if deployment catches up with training as the layouts grow in number.")
    constants = {
        "ORIGIN": ORIGIN, "OPENINGS": OPENINGS, "EXIT_REACH": EXIT_REACH,
        "EXIT_SIGNAL_POWER": EXIT_SIGNAL_POWER, "POSITION_BANDS": POSITION_BANDS,
        "POSITION_NOISE": POSITION_NOISE,
    }  # fmt: skip

    def __init__(self) -> None:
        self.layouts: dict[str, list[Layout]] = {"train": [], "deploy": []}
        self._worlds: dict[tuple[str, int], World] = {}
        self._deploy_episodes = 0

    @classmethod
    def check_config(cls, config: Mapping[str, Any]) -> None:
        """Rooms and walls alternate, so both sides are odd (and ``tool_features`` as for all).

        Raises:
            ConfigError: An even width or height, or a feature name the scenario lacks.
        """
        super().check_config(config)
        for key in ("width", "height"):
            if config[key] % 2 == 0:
                raise ConfigError(
                    f"parameter '{key}' = {config[key]!r} is not allowed for {cls.key}: rooms and "
                    "walls alternate, so width and height must be odd"
                )

    def configure(self, config: Mapping[str, Any], rng: np.random.Generator) -> None:
        """Draw the run's layouts and, with ``position_features``, add the position features.

        Raises:
            ConfigError: The grid is too small for that many distinct layouts.
        """
        shape = (config["width"], config["height"])
        counts = (config["train_layouts"], config["deploy_layouts"])
        train, deploy = draw_layouts(rng, shape, counts, OPENINGS, ORIGIN, EXIT_REACH)
        self.layouts = {"train": train, "deploy": deploy}
        if config["position_features"]:
            n = len(POSITION_FEATURES)
            self.features = (*type(self).features, *POSITION_FEATURES)
            self.noise = (*type(self).noise, *(POSITION_NOISE,) * n)
            self.base_weights = (*type(self).base_weights, *(0.0,) * n)
            self.organism_features = self.features

    @classmethod
    def metric_registry(cls) -> dict[str, Metric]:
        """As every scenario's, with the weight metrics of the position features a run may add."""
        weights = map(weight_metric, (*cls.features, *POSITION_FEATURES))
        return metric_registry(CORE_METRICS, weights, cls.metrics)

    def walls(self, config: Mapping[str, Any]) -> np.ndarray:
        """The first training layout's walls (each episode may stand on another layout)."""
        return self.layouts["train"][0].walls.copy()

    def world(self, config: Mapping[str, Any], phase: str, paths: Paths) -> World:
        """The world on the first layout of ``phase`` (each layout measures its own paths)."""
        return self.layout_world(phase, 0)

    def layout_world(self, phase: str, index: int) -> World:
        """The world on layout ``index`` of ``phase`` (built once, then reused)."""
        if (phase, index) not in self._worlds:
            self._worlds[phase, index] = self._build(phase, index)
        return self._worlds[phase, index]

    def _build(self, phase: str, index: int) -> World:
        layout = self.layouts[phase][index]
        walls = np.array(layout.walls)
        shape = walls.shape
        path = Paths(walls, 0).distances(layout.exit[0] * shape[1] + layout.exit[1]).reshape(shape)
        open_ = path < UNREACHABLE
        path = np.where(open_, path, 0).astype(float)
        exit_signal = np.where(open_, 1.0 - (path / path[open_].max()) ** EXIT_SIGNAL_POWER, 0.0)
        origin = distance_map(shape, ORIGIN)
        fields = [exit_signal, origin / origin.max()]
        if len(self.features) > len(type(self).features):
            fields += list(np.moveaxis(band_features(shape), -1, 0))
        features = np.stack(fields, axis=-1)
        features[walls] = 0.0
        reward = np.zeros(shape)
        reward[layout.exit] = 1.0
        number = index if phase == "train" else len(self.layouts["train"]) + index
        marks = {"exit": layout.exit, "origin": ORIGIN}
        return World(features, walls, reward, marks, layout=number)

    def reference_worlds(self, world: World, phase: str) -> list[World]:
        """Every layout of ``phase``: alignment is measured over their open cells, pooled."""
        return [self.layout_world(phase, i) for i in range(len(self.layouts[phase]))]

    def start_cells(
        self, world: World, n: int, rng: np.random.Generator, parent_cells: np.ndarray | None = None
    ) -> np.ndarray:
        """Every organism starts at the origin, which is open in every layout (births: the parent's cell)."""
        return parent_cells if parent_cells is not None else np.full(n, world.cell(ORIGIN))

    def begin_episode(
        self,
        phase: str,
        world: World,
        view: PopulationView,
        rng: np.random.Generator,
        config: Mapping[str, Any],
        paths: Paths,
    ) -> Update:
        """Count who reaches the exit afresh, and stand the world on this episode's layout.

        A training episode draws one of the training layouts at random (a draw every episode,
        even with one layout); deployment episodes go through the deployment layouts in turn.
        """
        if phase == "train":
            index = int(rng.integers(len(self.layouts["train"])))
        else:
            index = self._deploy_episodes % len(self.layouts["deploy"])
            self._deploy_episodes += 1
        chosen = self.layout_world(phase, index)
        return Update(world=None if chosen is world else chosen,
                      columns={"reached_exit": np.zeros(len(view.pos), bool)})  # fmt: skip

    def observe(self, world: World, view: PopulationView) -> Update:
        """Flag agents standing on the exit."""
        here = view.pos == world.cell(world.marks["exit"])
        return Update(columns={"reached_exit": view.columns["reached_exit"] | here})

    def agent_metrics(self, world: World, view: PopulationView) -> dict[str, np.ndarray]:
        """``reached_exit`` so far this episode."""
        return {"reached_exit": view.columns["reached_exit"].astype(float)}

    def record(self) -> dict[str, Any]:
        """The layouts: the exit and a digest of the walls of each."""
        return {
            f"layouts_{phase}": [{"exit": list(layout.exit),
                                  "walls_sha1": hashlib.sha1(layout.walls.tobytes()).hexdigest()}
                                 for layout in layouts]
            for phase, layouts in self.layouts.items()
        }  # fmt: skip
