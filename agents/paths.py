"""Shortest paths on a wall layout, as far as planning looks, and distance fields on demand.

Cells are numbered ``c = x * height + y``. Planning only ever needs the cells within an agent's
horizon and the first step toward one of them, so instead of all-pairs tables (``C x C``) a
``Paths`` holds, for every cell, the path length to each cell of the diamond of offsets within the
longest horizon (``C x M``, M = 2H(H + 1) + 1 for horizon H), from which it derives, lazily and
only for the horizons that occur, each cell's neighbourhood, and the first step of a shortest path.
Whole distance fields, for the few cells a scenario needs (exits, landmarks, the origin), come
from a breadth-first search on demand.

Core Objects: Paths, neighbor_table, UNREACHABLE, DIRECTIONS.
"""

from __future__ import annotations

import numpy as np

UNREACHABLE = np.iinfo(np.int32).max  # distance to a cell that no path reaches
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))  # +x, -x, +y, -y: the first one wins ties
_FAR = 255  # local distance beyond the reach of the table
# (cell, offset) pairs per block while the table is built: its temporaries take some 40 bytes a
# pair, so a block of this many stays near 80 MB however long the horizon
_CHUNK_PAIRS = 1 << 21
_CACHED_FIELDS = 16  # distance fields kept; scenarios ask for a few cells again and again


def neighbor_table(walls: np.ndarray) -> np.ndarray:
    """Von Neumann neighbours of every cell, -1 where the edge or a wall is.

    Args:
        walls: Boolean array of shape ``(width, height)``.

    Returns:
        Int array ``(width * height, 4)``: the neighbours in the order of ``DIRECTIONS``.
    """
    width, height = walls.shape
    x, y = np.divmod(np.arange(width * height), height)
    table = np.full((width * height, 4), -1, dtype=np.int64)
    for d, (dx, dy) in enumerate(DIRECTIONS):
        nx, ny = x + dx, y + dy
        inside = (nx >= 0) & (nx < width) & (ny >= 0) & (ny < height)
        target = np.where(inside, nx * height + ny, 0)
        ok = inside & ~walls.ravel()[target] & ~walls.ravel()
        table[ok, d] = target[ok]
    return table


class Paths:
    """Path lengths within ``reach`` steps of every cell, neighbourhoods and first steps.

    Args:
        walls: ``(width, height)`` booleans; paths never enter a wall.
        reach: The longest planning horizon that can occur (at most 254).

    Attributes:
        shape: ``(width, height)``.
        reach: As given.
        offsets: ``(M, 2)`` the ``(dx, dy)`` within ``reach`` of ``(0, 0)`` (Manhattan), in the
            order of cell numbers (``dx`` first, then ``dy``).
        local: ``(M + 1, C)`` uint8 path length from each cell to the cell at each offset, 255
            where that is a wall, off the grid or farther than ``reach``; the last row is always
            255 (what offsets outside the diamond read).
    """

    def __init__(self, walls: np.ndarray, reach: int) -> None:
        if not 0 <= reach < _FAR:
            raise ValueError(f"reach must lie in [0, {_FAR - 1}], got {reach}")
        self.walls = np.asarray(walls, dtype=bool)
        self.shape: tuple[int, int] = self.walls.shape
        self.reach = reach
        self.nbr = neighbor_table(self.walls)
        d = np.arange(-reach, reach + 1)
        dx, dy = np.meshgrid(d, d, indexing="ij")
        keep = np.abs(dx) + np.abs(dy) <= reach
        self.offsets = np.column_stack([dx[keep], dy[keep]])
        m = len(self.offsets)
        # _index[dx + reach + 1, dy + reach + 1]: the offset's column, or m (always far) outside.
        self._index = np.full((2 * reach + 3, 2 * reach + 3), m, dtype=np.int64)
        self._index[self.offsets[:, 0] + reach + 1, self.offsets[:, 1] + reach + 1] = np.arange(m)
        self._cell_offset = self.offsets[:, 0] * self.shape[1] + self.offsets[:, 1]
        self._centre = int(self._index[reach + 1, reach + 1])
        # _pred[e, o]: the column of offset o - e, the offset of the cell a step e reaches o from
        # (and the target's offset seen from the neighbour in direction e); m outside the diamond.
        self._pred = np.stack([
            np.append(self._column(self.offsets[:, 0] - ex, self.offsets[:, 1] - ey), m)
            for ex, ey in DIRECTIONS
        ])  # fmt: skip
        self.local = self._local_distances()
        self._near: dict[int, np.ndarray] = {}
        self._fields: dict[int, np.ndarray] = {}

    @property
    def n_cells(self) -> int:
        """Number of cells, walls included."""
        return self.walls.size

    @property
    def horizons(self) -> tuple[int, ...]:
        """The horizons whose neighbourhood tables exist: those that have occurred."""
        return tuple(sorted(self._near))

    def _column(self, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """Column of ``local`` for offsets ``(dx, dy)`` (the always-far column outside the diamond)."""
        r = self.reach + 1  # the border of _index lies outside the diamond, so clipping reads m
        return self._index[np.clip(dx + r, 0, 2 * r), np.clip(dy + r, 0, 2 * r)]

    def _local_distances(self) -> np.ndarray:
        """Breadth-first search from every cell at once, out to ``reach``, in blocks of cells."""
        width, height = self.shape
        m = len(self.offsets)
        open_cell = ~self.walls.ravel()
        pred = self._pred
        radius = np.abs(self.offsets).sum(axis=1)
        local = np.full((m + 1, self.n_cells), _FAR, dtype=np.uint8)
        chunk = max(1, _CHUNK_PAIRS // (m + 1))  # source cells per block
        for start in range(0, self.n_cells, chunk):
            src = np.arange(start, min(start + chunk, self.n_cells))
            block = local[:, start : start + chunk]  # a view: filled in place
            sx, sy = np.divmod(src, height)
            tx, ty = sx + self.offsets[:, :1], sy + self.offsets[:, 1:]
            inside = (tx >= 0) & (tx < width) & (ty >= 0) & (ty < height)
            valid = inside & open_cell[np.where(inside, tx * height + ty, 0)] & open_cell[src]
            frontier = np.zeros((m + 1, len(src)), dtype=bool)
            frontier[self._centre] = open_cell[src]
            block[self._centre][open_cell[src]] = 0
            for d in range(1, self.reach + 1):
                cols = np.flatnonzero(radius <= d)  # nothing lies farther than d steps in d steps
                reached = frontier[pred[0][cols]] | frontier[pred[1][cols]]
                reached |= frontier[pred[2][cols]]
                reached |= frontier[pred[3][cols]]
                reached &= valid[cols] & (block[cols] == _FAR)
                block[cols] = np.where(reached, np.uint8(d), block[cols])
                frontier[:] = False
                frontier[cols] = reached
        return local

    def near(self, horizon: int) -> np.ndarray:
        """For every cell, the cells within ``horizon`` steps of it: the only ones a plan can choose.

        Built on first use and kept, so that only horizons that occur take memory.

        Args:
            horizon: A planning horizon, at most ``reach``.

        Returns:
            ``(C, M_h)`` cell numbers in increasing order, ``M_h`` the largest such neighbourhood;
            shorter rows are padded with the cell itself (choosing it means staying, which is
            always allowed).
        """
        table = self._near.get(horizon)
        if table is None:
            if not 0 <= horizon <= self.reach:
                raise ValueError(f"horizon {horizon} is beyond the reach of these paths ({self.reach})")
            cols = np.flatnonzero(np.abs(self.offsets).sum(axis=1) <= horizon)
            within = self.local[cols] <= horizon  # (M_h, C)
            cells = np.arange(self.n_cells, dtype=np.int32)
            columns = np.repeat(cells[None, :], int(np.count_nonzero(within, axis=0).max()), axis=0)
            flat = columns.reshape(-1)
            filled = np.zeros(self.n_cells, dtype=np.int64)
            for col, mask in zip(cols, within, strict=True):  # offsets in order: rows stay sorted
                src = np.flatnonzero(mask)
                flat[filled[src] * self.n_cells + src] = src + self._cell_offset[col]
                filled[src] += 1
            table = np.ascontiguousarray(columns.T)
            self._near[horizon] = table
        return table

    def step(self, pos: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Move every agent one step along a shortest path toward its target.

        Of the neighbours one step closer to the target, the first in ``DIRECTIONS`` order is
        taken; an agent on its target, or whose target is out of reach, stays.

        Args:
            pos: ``(N,)`` current cells.
            target: ``(N,)`` targets, each within ``reach`` steps of its agent's cell.

        Returns:
            ``(N,)`` the next cells.
        """
        height = self.shape[1]
        (sx, sy), (tx, ty) = np.divmod(pos, height), np.divmod(target, height)
        col = self._column(tx - sx, ty - sy)
        closer = self.local[col, pos].astype(np.int16) - 1
        out = np.asarray(pos).copy()
        undecided = (closer >= 0) & (closer < _FAR - 1)
        for k in range(len(DIRECTIONS)):
            n = self.nbr[pos, k]
            hit = undecided & (n >= 0) & (self.local[self._pred[k, col], n] == closer)
            out[hit] = n[hit]
            undecided &= ~hit
        return out

    def distances(self, cell: int) -> np.ndarray:
        """Path length from ``cell`` to every cell, by breadth-first search (kept for reuse).

        Args:
            cell: A cell number.

        Returns:
            ``(C,)`` int32 path lengths, ``UNREACHABLE`` for walls and cells no path reaches (all
            of them if ``cell`` is a wall). Read-only.
        """
        cell = int(cell)
        field = self._fields.get(cell)
        if field is None:
            field = np.full(self.n_cells, UNREACHABLE, dtype=np.int32)
            frontier = np.array([cell]) if not self.walls.ravel()[cell] else np.zeros(0, dtype=np.int64)
            field[frontier] = 0
            claim = np.zeros(self.n_cells, dtype=np.int64)  # which entry of a frontier a cell is
            d = 0
            while len(frontier):
                d += 1
                nxt = self.nbr[frontier].ravel()
                nxt = nxt[nxt >= 0]
                nxt = nxt[field[nxt] == UNREACHABLE]
                claim[nxt] = np.arange(len(nxt))  # of repeated cells the last entry wins
                frontier = nxt[claim[nxt] == np.arange(len(nxt))]
                field[frontier] = d
            field.setflags(write=False)
            if len(self._fields) >= _CACHED_FIELDS:
                del self._fields[next(iter(self._fields))]
            self._fields[cell] = field
        return field
