"""Cells as distinct feature rows with counts, and how many of them lie below a linear threshold.

A tool's trust asks every step how many of the world's open cells its builder values less than
the tool's cell: for T tools and R cells, T x R utilities. Two things make that cheap in a large
world. Cells that share a feature row are counted once, weighed by how many they are. And the
rows are ordered along a Z-order (Morton) curve through feature space and cut into groups of
about sqrt(U) rows, each held in a box: a linear utility's range over a box follows from the
box's centre and half-widths, so a group wholly below or wholly above a threshold is counted, or
not, at once, and only the groups a threshold crosses are compared row by row. The count stays
exact: a group is decided only with a margin far wider than any rounding in the utilities.

Core Objects: FeatureCounts, feature_counts, z_order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

_BLOCK = 1 << 20  # thresholds x rows (or x groups) compared at a time: 8 MB of utilities
_BOXED_ROWS = 1024  # fewer distinct rows than this are always compared one by one
_BOXED_PAIRS = 1 << 23  # thresholds x rows from which grouping in boxes pays for its loop over groups
_SLACK = 1e-9  # a box decides only this far (relative to the utilities' scale) from a threshold
_MORTON_BITS = 63  # bits of a Z-order key, shared among the features


@dataclass(frozen=True)
class _Boxes:
    """Consecutive groups of rows: ``[starts[g], ends[g])``, each in a box of ``centre +- radius``."""

    starts: np.ndarray
    ends: np.ndarray
    centre: np.ndarray
    radius: np.ndarray
    counts: np.ndarray  # cells in each group
    scale: np.ndarray  # (K,) the largest |feature| of any row


@dataclass(frozen=True)
class FeatureCounts:
    """A set of cells as its distinct feature rows and how many cells have each.

    Attributes:
        rows: ``(U, K)`` the rows.
        counts: ``(U,)`` how many cells have each row (float, to weigh sums with a product).
        total: How many cells there are in all.
        ordered: The rows are in Z-order (``feature_counts``), so groups of them can be boxed.
    """

    rows: np.ndarray
    counts: np.ndarray
    total: int
    ordered: bool = False

    def count_below(
        self, weights: np.ndarray, thresholds: np.ndarray, block: int = _BLOCK, boxed: bool | None = None
    ) -> np.ndarray:
        """How many cells each linear utility ``weights[t] . x`` puts strictly below ``thresholds[t]``.

        Args:
            weights: ``(T, K)`` one utility's weights per row.
            thresholds: ``(T,)``.
            block: At most this many utilities at a time (at least one row of weights' worth).
            boxed: Decide whole groups of rows by their boxes (None: when the rows are in Z-order
                and there are enough of them, and of weights, for it to pay). The counts are the
                same either way.

        Returns:
            ``(T,)`` cell counts, as floats.
        """
        weights, thresholds = np.asarray(weights, dtype=float), np.asarray(thresholds, dtype=float)
        if boxed is None:
            boxed = (self.ordered and len(self.rows) >= _BOXED_ROWS
                     and len(weights) * len(self.rows) >= _BOXED_PAIRS)  # fmt: skip
        if boxed and self._boxes is not None:
            return self._count_in_boxes(weights, thresholds, block)
        below = np.zeros(len(weights))
        step = max(1, block // max(1, len(self.rows)))
        for start in range(0, len(weights), step):
            part = slice(start, start + step)
            below[part] = ((weights[part] @ self.rows.T) < thresholds[part, None]) @ self.counts
        return below

    def _count_in_boxes(self, weights: np.ndarray, thresholds: np.ndarray, block: int) -> np.ndarray:
        """``count_below`` by groups: whole groups from their boxes, crossed ones row by row."""
        boxes = self._boxes
        below = np.zeros(len(weights))
        slack = _SLACK * (1.0 + np.abs(weights) @ boxes.scale)
        step = max(1, block // len(boxes.starts))
        low, high = thresholds - slack, thresholds + slack
        for start in range(0, len(weights), step):
            part = slice(start, start + step)
            w = weights[part]
            centre, spread = w @ boxes.centre.T, np.abs(w) @ boxes.radius.T  # (t, groups)
            whole = centre + spread < low[part, None]
            crossed = ~whole & (centre - spread < high[part, None])
            below[part] = whole @ boxes.counts
            for g in np.flatnonzero(crossed.any(axis=0)):
                which, rows = np.flatnonzero(crossed[:, g]), slice(boxes.starts[g], boxes.ends[g])
                under = (w[which] @ self.rows[rows].T) < thresholds[start + which, None]
                below[start + which] += under @ self.counts[rows]
        return below

    @cached_property
    def _boxes(self) -> _Boxes | None:
        """The rows' groups of about sqrt(U) rows and their boxes (None if a feature is not finite)."""
        if len(self.rows) == 0 or not np.isfinite(self.rows).all():
            return None
        size = max(1, int(np.sqrt(len(self.rows))))
        starts = np.arange(0, len(self.rows), size)
        low, high = np.minimum.reduceat(self.rows, starts), np.maximum.reduceat(self.rows, starts)
        return _Boxes(starts, np.append(starts[1:], len(self.rows)), (low + high) / 2, (high - low) / 2,
                      np.add.reduceat(self.counts, starts), np.abs(self.rows).max(axis=0))  # fmt: skip


def z_order(rows: np.ndarray) -> np.ndarray:
    """A Z-order (Morton) key per row of finite features: each scaled to its range, bits interleaved.

    Rows close in feature space mostly get close keys, so consecutive rows in key order form
    small boxes.
    """
    k = rows.shape[1]
    bits = max(1, min(21, _MORTON_BITS // max(1, k)))
    low, span = rows.min(axis=0), np.ptp(rows, axis=0)
    level = ((rows - low) / np.where(span > 0, span, 1.0) * (2**bits - 1)).astype(np.uint64)
    key = np.zeros(len(rows), dtype=np.uint64)
    for bit in range(bits):
        for j in range(k):
            key |= ((level[:, j] >> np.uint64(bit)) & np.uint64(1)) << np.uint64(bit * k + j)
    return key


def feature_counts(phi: np.ndarray) -> FeatureCounts:
    """The distinct rows of ``phi`` (``(R, K)``), in Z-order, and how often each occurs."""
    rows, counts = np.unique(phi, axis=0, return_counts=True)
    ordered = bool(len(rows)) and bool(np.isfinite(rows).all())
    if ordered:
        order = np.argsort(z_order(rows), kind="stable")
        rows, counts = rows[order], counts[order]
    return FeatureCounts(rows, counts.astype(float), len(phi), ordered)
