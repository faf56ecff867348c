"""Column arrays over all live agents: the state the vectorized hot path reads and writes.

Mesa agents carry identity; their numeric state lives here, one row (a *slot*) per agent, so that a
step is a few array operations rather than a loop over agents. Freed slots are reused.

Core Objects: Population.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


class Population:
    """Growable structure-of-arrays with an ``alive`` mask.

    Args:
        columns: Column name to ``(dtype, trailing shape, fill value)``.
        capacity: Initial number of slots.
    """

    def __init__(self, columns: Mapping[str, tuple[Any, tuple[int, ...], Any]], capacity: int = 64):
        self._spec = dict(columns)
        self.capacity = 0
        self.alive = np.zeros(0, dtype=bool)
        self.cols: dict[str, np.ndarray] = {}
        # The Mesa agents made so far, by slot: they are made on request, not at birth. A dict, not
        # an object array: agents refer back to the model, and the garbage collector sees
        # reference cycles through dicts but not through numpy arrays.
        self.agents: dict[int, Any] = {}
        self._grow(max(capacity, 1))

    def _grow(self, capacity: int) -> None:
        extra = capacity - self.capacity
        self.alive = np.concatenate([self.alive, np.zeros(extra, dtype=bool)])
        for name, (dtype, shape, fill) in self._spec.items():
            new = np.full((extra, *shape), fill, dtype=dtype)
            self.cols[name] = np.concatenate([self.cols[name], new]) if name in self.cols else new
        self.capacity = capacity

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def __len__(self) -> int:
        return int(self.alive.sum())

    @property
    def slots(self) -> np.ndarray:
        """Indices of the live slots, in increasing order."""
        return np.flatnonzero(self.alive)

    def add(self, n: int, **values: Any) -> np.ndarray:
        """Take ``n`` free slots, reset them to the fill values, then set the given columns.

        Args:
            n: How many slots.
            **values: Column values, scalars or arrays of length ``n``.

        Returns:
            The slots taken, in increasing order.
        """
        free = np.flatnonzero(~self.alive)
        if len(free) < n:
            self._grow(max(2 * self.capacity, self.capacity + n))
            free = np.flatnonzero(~self.alive)
        slots = free[:n]
        for name, (_, _, fill) in self._spec.items():
            self.cols[name][slots] = values.get(name, fill)
        unknown = set(values) - set(self._spec)
        if unknown:
            raise KeyError(f"unknown population columns: {sorted(unknown)}")
        self.alive[slots] = True
        return slots

    def remove(self, slots: np.ndarray) -> list[Any]:
        """Free the given slots; return the agents that had been made for them."""
        self.alive[slots] = False
        made = self.agents.keys() & set(np.asarray(slots).tolist())
        return [self.agents.pop(slot) for slot in sorted(made)]
