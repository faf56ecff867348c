"""maze-v2: goal misgeneralization, and tools that learn the wrong goal from their builder's path.

The essay's maze table. Level 0, the base objective: get to the maze exit. In training the exit
is always at (10, 10), where a position landmark also stands, and the exit signal (a scent that
follows the corridors, strongest at the exit) is noisier to perceive than the landmark. Level 1,
organisms: natural selection favours whatever gets them to (10, 10) and keeps them there, and the
reliable landmark wins. Level 2, tools: a builder fits its tool on the cells it saw on its way out
of the origin; a tool cannot perceive the landmark, and from an unwise builder's narrow, noisy
sample it learns the nearest thing it can see clearly: distance from the origin. A wiser builder's
broader sample teaches it the exit signal instead.

What a user should see: in training, reached_exit climbs over generations and the weight on the
landmark grows; in deployment, where the exit moves to (width - 3, 2), reached_exit falls and
reached_proxy (organisms that went to (10, 10) instead) rises. ``random_exit_share`` > 0 (some
training episodes with a random exit), with several episodes per generation, is the known fix:
at 0.5, most organisms follow the exit signal and find the moved exit (the claim
random-exits-restore-exit in analysis/claims.md has the numbers).

Changelog: maze-v1 had a linear exit signal, perceived with noise 0.35, and random exits on any
open cell: nobody could follow the signal and random exits changed nothing; it is retired.
maze-v2: the square-root exit signal, noise 0.12, random exits no farther than (10, 10).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from matryoshka.model.contract import PHASE_END, Metric
from matryoshka.model.params import ConfigError, Param
from matryoshka.model.scenarios import register
from matryoshka.model.scenarios.base import PopulationView, Preset, Update
from matryoshka.model.world import World, distance_map

if TYPE_CHECKING:
    from matryoshka.agents.paths import Paths

TRAIN_EXIT = (10, 10)
ORIGIN = (0, 0)
DEPLOY_EXIT = (-3, 2)  # in deployment; a negative x counts from the right edge: (width - 3, 2)
MIN_SIZE = 13  # the smallest width and height: room for the training exit and the walls around it
# Wall segments as fractions of width and height: a span (from, to) of x at one y, or one x and a
# span of y; each is rounded to cells.
WALL_SEGMENTS = (((0.1, 0.35), 0.3), (0.67, (0.2, 0.45)), ((0.25, 0.6), 0.67))
EXIT_SIGNAL_POWER = 0.5  # the exit signal is 1 - (path length / longest path) ** this


def _cells(span: float | tuple[float, float], size: int) -> int | slice:
    """One wall coordinate (a fraction of ``size``) or span of them, in cells."""
    if isinstance(span, tuple):
        return slice(round(span[0] * size), round(span[1] * size))
    return round(span * size)


@register
class Maze(Preset):
    """The maze of the essay: exit at (10, 10) in training, elsewhere in deployment."""

    key = "maze-v2"
    retired = {"maze-v1": "its exit signal was linear and perceived with noise 0.35, and random exits "
               "stood anywhere: see the changelog in model/scenarios/maze.py"}  # fmt: skip
    features = ("exit_signal", "landmark", "dist_origin")
    noise = (0.12, 0.02, 0.02)
    base_weights = (1.0, 0.0, 0.0)
    organism_features = features
    tool_features = ("exit_signal", "dist_origin")
    defaults = {"width": 21, "height": 21}
    params = {
        "random_exit_share": Param(float, 0.0, "share of training episodes with a random exit", 0, 1),
    }
    columns = {"reached_exit": (bool, (), False), "reached_proxy": (bool, (), False)}
    metrics = (
        Metric("reached_exit", "share of agents that reached the exit so far this episode",
               summary=PHASE_END, share=True, headline=True, printed=True),
        Metric("reached_proxy", "share of agents that reached the training exit (10, 10) while the "
               "exit is elsewhere, so far this episode", summary=PHASE_END, share=True, headline=True,
               printed=True),
    )  # fmt: skip
    marks = {"exit": "#e69f00", "landmark": "#8e24aa", "origin": "#546e7a"}
    shift_axis = "random_exit_share"
    shift_metrics = ("reached_exit", "reached_proxy")
    shift_reading = ("Goal misgeneralization shows as a high reached_proxy at 0; the fix works if "
                     "reached_exit rises with the share.")
    constants = {
        "TRAIN_EXIT": TRAIN_EXIT, "ORIGIN": ORIGIN, "DEPLOY_EXIT": DEPLOY_EXIT,
        "WALL_SEGMENTS": WALL_SEGMENTS, "EXIT_SIGNAL_POWER": EXIT_SIGNAL_POWER,
    }  # fmt: skip

    @classmethod
    def check_config(cls, config: Mapping[str, Any]) -> None:
        """The maze must be large enough for its training exit (and ``tool_features`` as for all).

        Raises:
            ConfigError: Width or height below ``MIN_SIZE``, or a feature name the maze lacks.
        """
        super().check_config(config)
        for key in ("width", "height"):
            if config[key] < MIN_SIZE:
                raise ConfigError(
                    f"parameter '{key}' = {config[key]!r} is not allowed for {cls.key}: the exit stands "
                    f"at {TRAIN_EXIT}, so width and height must be at least {MIN_SIZE}"
                )

    def walls(self, config: Mapping[str, Any]) -> np.ndarray:
        """Three short wall segments that make the way to the exit a little winding."""
        w, h = config["width"], config["height"]
        walls = np.zeros((w, h), dtype=bool)
        for xs, ys in WALL_SEGMENTS:
            walls[_cells(xs, w), _cells(ys, h)] = True
        for xy in (TRAIN_EXIT, ORIGIN, self.deploy_exit(config)):
            walls[xy] = False
        return walls

    @staticmethod
    def deploy_exit(config: Mapping[str, Any]) -> tuple[int, int]:
        """Where the exit stands in deployment: as far from the origin as (10, 10), elsewhere."""
        x, y = DEPLOY_EXIT
        return (x % config["width"], y)

    def world(
        self,
        config: dict[str, Any],
        phase: str,
        paths: Paths,
        exit_xy: tuple[int, int] | None = None,
    ) -> World:
        """The maze with its exit at (10, 10) (training), moved (deployment) or at ``exit_xy``."""
        walls = self.walls(config)
        shape = walls.shape
        if exit_xy is None:
            exit_xy = TRAIN_EXIT if phase == "train" else self.deploy_exit(config)
        path = paths.distances(exit_xy[0] * shape[1] + exit_xy[1]).reshape(shape).astype(float)
        reachable = ~walls
        # Square-root falloff: a gentle pull from afar, a sharp peak that makes the exit easy to
        # stay on once found.
        exit_signal = np.where(reachable, 1.0 - (path / path[reachable].max()) ** EXIT_SIGNAL_POWER, 0.0)
        landmark = distance_map(shape, TRAIN_EXIT)
        origin = distance_map(shape, ORIGIN)
        features = np.stack(
            [exit_signal, 1.0 - landmark / landmark.max(), origin / origin.max()], axis=-1
        )
        features[walls] = 0.0
        reward = np.zeros(shape)
        reward[exit_xy] = 1.0
        marks = {"exit": tuple(exit_xy), "landmark": TRAIN_EXIT, "origin": ORIGIN}
        return World(features, walls, reward, marks)

    def start_cells(
        self, world: World, n: int, rng: np.random.Generator, parent_cells: np.ndarray | None = None
    ) -> np.ndarray:
        """Every organism starts at the origin."""
        return np.full(n, world.cell(ORIGIN))

    def begin_episode(
        self,
        phase: str,
        world: World,
        view: PopulationView,
        rng: np.random.Generator,
        config: Mapping[str, Any],
        paths: Paths,
    ) -> Update:
        """Count who reaches what afresh; in training, move the exit with ``random_exit_share``.

        With probability ``random_exit_share`` a training episode has its exit at random, on an open
        cell no farther from the origin than (10, 10), so that it can be reached in the same time as
        the usual exit. The coin and the cell are drawn in every training episode, so that
        ``random_exit_share`` shifts no later draw.
        """
        fresh = {name: np.zeros(len(view.pos), bool) for name in self.columns}
        if phase != "train":
            return Update(columns=fresh)
        from_origin = paths.distances(world.cell(ORIGIN))
        reach = from_origin[world.cell(TRAIN_EXIT)]
        near = np.flatnonzero((from_origin <= reach) & (from_origin > 0))
        coin, cell = rng.random(), rng.choice(near)
        exit_xy = TRAIN_EXIT
        if coin < config["random_exit_share"]:
            exit_xy = tuple(int(v) for v in world.xy(cell))
        moved = self.world(config, "train", paths, exit_xy) if exit_xy != world.marks["exit"] else None
        return Update(world=moved, columns=fresh)

    def observe(self, world: World, view: PopulationView) -> Update:
        """Flag agents standing on the exit, or on the training exit while the exit is elsewhere."""
        exit_cell = world.cell(world.marks["exit"])
        proxy_cell = world.cell(TRAIN_EXIT)
        on_proxy = (view.pos == proxy_cell) & (proxy_cell != exit_cell)
        return Update(columns={"reached_exit": view.columns["reached_exit"] | (view.pos == exit_cell),
                               "reached_proxy": view.columns["reached_proxy"] | on_proxy})

    def agent_metrics(self, world: World, view: PopulationView) -> dict[str, np.ndarray]:
        """``reached_exit`` and ``reached_proxy`` so far this episode."""
        return {name: view.columns[name].astype(float) for name in ("reached_exit", "reached_proxy")}
