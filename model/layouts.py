"""Procedurally generated maze layouts: a family of worlds drawn from the run's random stream.

A layout is a wall grid carved by a randomized depth-first search (the recursive backtracker) on a
coarse grid of rooms at even coordinates, with a share of the remaining inner walls knocked
through so that there are loops, plus an exit cell. Every open cell is reachable from the start:
the search visits every room and opening a wall only joins rooms.

Core Objects: Layout, carve, place_exit, draw_layouts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matryoshka.agents.paths import UNREACHABLE, Paths
from matryoshka.model.params import ConfigError

STEPS = ((1, 0), (-1, 0), (0, 1), (0, -1))
GIVE_UP = 500  # draws in a row that bring nothing new before the family is declared too small


@dataclass(frozen=True, eq=False)
class Layout:
    """One world of the family.

    Attributes:
        walls: ``(width, height)`` booleans, read-only.
        exit: The exit cell ``(x, y)``.
    """

    walls: np.ndarray
    exit: tuple[int, int]

    def __post_init__(self) -> None:
        walls = np.array(self.walls, dtype=bool, copy=True)
        walls.setflags(write=False)
        object.__setattr__(self, "walls", walls)

    @property
    def key(self) -> bytes:
        """What makes two layouts the same: their walls and their exit."""
        return self.walls.tobytes() + np.asarray(self.exit, dtype=np.int64).tobytes()


def carve(rng: np.random.Generator, shape: tuple[int, int], openings: float) -> np.ndarray:
    """Carve a maze: a randomized depth-first search over the rooms, then extra openings.

    Rooms stand at even ``(x, y)``; the cell between two neighbouring rooms is a wall unless the
    search passed through it, or (with probability ``openings`` each) it is knocked through after.

    Args:
        rng: Source of the draws.
        shape: ``(width, height)``, both odd.
        openings: Share of the inner walls left by the search that are opened.

    Returns:
        ``(width, height)`` booleans, True on walls; ``(0, 0)`` is open.
    """
    width, height = shape
    rooms = ((width + 1) // 2, (height + 1) // 2)
    walls = np.ones(shape, dtype=bool)
    walls[::2, ::2] = False
    visited = np.zeros(rooms, dtype=bool)
    visited[0, 0] = True
    stack = [(0, 0)]
    while stack:
        i, j = stack[-1]
        fresh = [(i + di, j + dj) for di, dj in STEPS
                 if 0 <= i + di < rooms[0] and 0 <= j + dj < rooms[1] and not visited[i + di, j + dj]]
        if not fresh:
            stack.pop()
            continue
        ni, nj = fresh[int(rng.integers(len(fresh)))]
        walls[i + ni, j + nj] = False  # the cell between rooms (2i, 2j) and (2ni, 2nj)
        visited[ni, nj] = True
        stack.append((ni, nj))
    x, y = np.indices(shape)
    between = walls & ((x % 2) != (y % 2))  # inner walls that separate two rooms
    walls[between] = rng.random(int(between.sum())) >= openings
    return walls


def place_exit(
    rng: np.random.Generator, walls: np.ndarray, start: tuple[int, int], reach: int
) -> tuple[int, int]:
    """Put the exit on a random open cell between ``reach // 2`` and ``reach`` steps from the start.

    In a small maze whose farthest cell is nearer than ``reach``, the band shrinks to end there.
    """
    dist = Paths(walls, 0).distances(start[0] * walls.shape[1] + start[1])
    far = int(dist[dist < UNREACHABLE].max())
    high = min(reach, far)
    band = np.flatnonzero((dist >= max(1, high // 2)) & (dist <= high))
    cell = int(rng.choice(band))
    return cell // walls.shape[1], cell % walls.shape[1]


def draw_layouts(
    rng: np.random.Generator,
    shape: tuple[int, int],
    counts: tuple[int, int],
    openings: float,
    start: tuple[int, int],
    reach: int,
) -> tuple[list[Layout], list[Layout]]:
    """Draw distinct training layouts, then deployment layouts that differ from all of them.

    Args:
        rng: The run's layout stream: same seed, same layouts.
        shape: ``(width, height)``, both odd.
        counts: ``(training, deployment)`` numbers of layouts.
        openings: See ``carve``.
        start: Where organisms start; every open cell is reachable from it.
        reach: See ``place_exit``.

    Returns:
        ``(training, deployment)`` lists of layouts, all distinct.

    Raises:
        ConfigError: The grid is too small to hold that many distinct layouts.
    """
    seen: set[bytes] = set()
    drawn: list[list[Layout]] = [[], []]
    for part, wanted in enumerate(counts):
        misses = 0
        while len(drawn[part]) < wanted and misses < GIVE_UP:
            walls = carve(rng, shape, openings)
            layout = Layout(walls, place_exit(rng, walls, start, reach))
            misses = misses + 1 if layout.key in seen else 0
            if not misses:
                seen.add(layout.key)
                drawn[part].append(layout)
        if len(drawn[part]) < wanted:
            key = ("train_layouts", "deploy_layouts")[part]
            raise ConfigError(
                f"parameter '{key}' = {wanted!r} is not allowed on a {shape[0]} x {shape[1]} grid: "
                f"only {len(drawn[part])} distinct layouts were found; use fewer or a larger grid"
            )
    return drawn[0], drawn[1]
