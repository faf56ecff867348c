"""Run-time optimization: every agent's search for its best reachable cell, for all agents at once.

Cells are numbered ``c = x * height + y``. Shortest paths on the grid (walls respected) are
computed once per wall layout; each step then costs a few array operations over agents x cells.

Core Objects: shortest_paths, neighbourhoods, horizon, plan, step_toward.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

UNREACHABLE = np.iinfo(np.int16).max


def neighbor_table(walls: np.ndarray) -> np.ndarray:
    """Von Neumann neighbours of every cell, -1 where the edge or a wall is.

    Args:
        walls: Boolean array of shape ``(width, height)``.

    Returns:
        Int array ``(width * height, 4)``: the neighbours in the order +x, -x, +y, -y.
    """
    width, height = walls.shape
    x, y = np.divmod(np.arange(width * height), height)
    table = np.full((width * height, 4), -1, dtype=np.int64)
    for d, (dx, dy) in enumerate(((1, 0), (-1, 0), (0, 1), (0, -1))):
        nx, ny = x + dx, y + dy
        inside = (nx >= 0) & (nx < width) & (ny >= 0) & (ny < height)
        target = np.where(inside, nx * height + ny, 0)
        ok = inside & ~walls.ravel()[target] & ~walls.ravel()
        table[ok, d] = target[ok]
    return table


def shortest_paths(walls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs shortest path lengths and first steps, by breadth-first search from every cell.

    Args:
        walls: Boolean array of shape ``(width, height)``.

    Returns:
        ``(dist, next_hop)``, both ``(C, C)``: ``dist[s, t]`` is the number of steps from s to t
        (``UNREACHABLE`` if none); ``next_hop[s, t]`` is the cell to step to from s toward t
        (s itself when t is s or unreachable).
    """
    nbr = neighbor_table(walls)
    n = nbr.shape[0]
    dist = np.full((n, n), UNREACHABLE, dtype=np.int16)
    frontier = np.eye(n, dtype=bool)
    frontier[walls.ravel()] = False
    dist[frontier] = 0
    padded = np.concatenate([np.zeros((n, 1), dtype=bool), frontier], axis=1)
    d = 0
    while frontier.any():
        d += 1
        # A cell joins the frontier when any of its neighbours was on it (dist is symmetric).
        reached = padded[:, nbr + 1].any(axis=2) & (dist == UNREACHABLE)
        dist[reached] = d
        frontier = reached
        padded[:, 1:] = frontier
    next_hop = np.tile(np.arange(n)[:, None], (1, n))
    for k in range(3, -1, -1):  # the first direction in table order wins ties
        cand = nbr[:, k]
        ok = cand >= 0
        closer = np.zeros((n, n), dtype=bool)
        closer[ok] = dist[cand[ok]] == dist[ok] - 1
        next_hop[closer] = np.broadcast_to(cand[:, None], (n, n))[closer]
    return dist, next_hop


def horizon(power: np.ndarray, max_horizon: int) -> np.ndarray:
    """Planning horizon in steps: 1 at power 0, ``max_horizon`` at power 1 (halves round up)."""
    return (1 + np.floor(np.asarray(power) * (max_horizon - 1) + 0.5)).astype(np.int16)


def neighbourhoods(dist: np.ndarray, reach: int) -> np.ndarray:
    """For every cell, the cells within ``reach`` steps of it: the only ones a plan can choose.

    Args:
        dist: ``(C, C)`` shortest path lengths.
        reach: A planning horizon.

    Returns:
        ``(C, M)`` cell numbers, ``M`` the largest such neighbourhood; shorter rows are padded
        with the cell itself (choosing it means staying, which is always allowed).
    """
    within = dist <= reach
    m = int(within.sum(axis=1).max())
    order = np.argsort(~within, axis=1, kind="stable")[:, :m]
    return np.where(np.take_along_axis(within, order, axis=1), order, np.arange(len(dist))[:, None])


def plan(
    pos: np.ndarray,
    weights: np.ndarray,
    horizons: np.ndarray,
    phi: np.ndarray,
    dist: np.ndarray,
    noise_sd: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    near: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """Choose each agent's target: the reachable cell of highest perceived utility.

    Args:
        pos: ``(N,)`` current cells.
        weights: ``(N, K)`` effective objective weights (zero on features not perceived).
        horizons: ``(N,)`` how many steps each agent can look ahead.
        phi: ``(C, K)`` features of every cell.
        dist: ``(C, C)`` shortest path lengths from ``shortest_paths``.
        noise_sd: ``(K,)`` per-feature perception noise; with ``rng``, each agent perceives every
            cell's features with Gaussian noise of this sd, so its utility is noisy in
            proportion to the weight it puts on noisy features.
        rng: Source of the perception noise.
        near: ``near[h] = neighbourhoods(dist, h)`` for every horizon that occurs: then agents are
            planned in groups of equal horizon, each scoring only the cells within its reach,
            which is what keeps a step cheap. None scores every cell for every agent.

    Returns:
        ``(N,)`` target cells, each within its agent's horizon.
    """
    if near is None:
        cand = np.broadcast_to(np.arange(len(dist)), (len(pos), len(dist)))
        return _best(cand, weights, phi, noise_sd, rng, dist[pos[:, None], cand] > horizons[:, None])
    target = np.empty(len(pos), dtype=np.int64)
    for h in np.unique(horizons):
        group = np.flatnonzero(horizons == h)
        target[group] = _best(near[h][pos[group]], weights[group], phi, noise_sd, rng)
    return target


def _best(
    cand: np.ndarray,
    weights: np.ndarray,
    phi: np.ndarray,
    noise_sd: np.ndarray | None,
    rng: np.random.Generator | None,
    unreachable: np.ndarray | None = None,
) -> np.ndarray:
    """The candidate cell (``cand``, ``(N, M)``) of highest perceived utility for each agent."""
    # One feature at a time, in float32: K gathers of (N, M) beat one (N, M, K) gather.
    utility = np.zeros(cand.shape, dtype=np.float32)
    w32, phi32 = weights.astype(np.float32), phi.astype(np.float32)
    for k in range(phi.shape[1]):
        utility += w32[:, k, None] * phi32[:, k][cand]
    if noise_sd is not None and rng is not None and len(cand):
        sd = np.sqrt((weights**2) @ (noise_sd**2)) + 1e-6  # the floor breaks ties at random
        utility += rng.standard_normal(utility.shape, dtype=np.float32) * sd[:, None].astype(np.float32)
    if unreachable is not None:
        np.putmask(utility, unreachable, -np.inf)
    return cand[np.arange(len(cand)), utility.argmax(axis=1)]


def step_toward(pos: np.ndarray, target: np.ndarray, next_hop: np.ndarray) -> np.ndarray:
    """Move every agent one step along a shortest path toward its target."""
    return next_hop[pos, target]
