"""Tables that grow while a run runs, written to Parquet in row groups as they grow.

A run's per-step tables and its ledger of agents grow with its length. A ``TableSink`` gathers
their rows as numpy column chunks and turns every ``ROWS_PER_GROUP`` rows into one Arrow row
group: kept in memory until the sink is given a file (a model stepped in the browser or a test),
written to that file from then on (a run), so that memory holds at most one row group however
long the run.

Core Objects: TableSink, TableListener, ROWS_PER_GROUP, JOIN_EVERY.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROWS_PER_GROUP = 65_536
# Chunks gathered before they are joined: a few rows each (a step's deaths, one event), each
# numpy array's own overhead would otherwise outweigh its rows many times over.
JOIN_EVERY = 256


class TableListener(Protocol):
    """Something else written from a table's row groups as they are written (the lineage)."""

    def write(self, table: pa.Table) -> None:
        """Write what follows from one row group."""

    def close(self) -> None:
        """Finish writing."""


class TableSink:
    """The rows of one table, gathered in column chunks and written in row groups.

    Args:
        schema: The table's schema (an empty table has it too).
        build: Turns the gathered columns, concatenated, into a table with ``schema``.
        rows_per_group: Rows gathered before they become a row group (default ``ROWS_PER_GROUP``).
    """

    def __init__(
        self,
        schema: pa.Schema,
        build: Callable[[dict[str, np.ndarray]], pa.Table],
        rows_per_group: int | None = None,
    ) -> None:
        self.schema = schema
        self._build = build
        self.rows_per_group = rows_per_group or ROWS_PER_GROUP
        self._chunks: dict[str, list[np.ndarray]] = defaultdict(list)
        self._rows = 0
        self._appends = 0
        self._groups: list[pa.Table] = []
        self._path: Path | None = None
        self._writer: pq.ParquetWriter | None = None
        self._listeners: list[TableListener] = []

    def append(self, **columns: Sequence[Any] | np.ndarray) -> None:
        """Add rows: every column a sequence of the same length."""
        for name, values in columns.items():
            self._chunks[name].append(np.asarray(values))
        self._rows += len(next(iter(columns.values())))
        self._appends += 1
        if self._rows >= self.rows_per_group:
            self.flush()
        elif self._appends % JOIN_EVERY == 0:
            for chunks in self._chunks.values():
                chunks[:] = [np.concatenate(chunks)]

    def flush(self) -> None:
        """Turn the rows gathered so far into a row group."""
        if not self._rows:
            return
        table = self._build({name: np.concatenate(chunks) for name, chunks in self._chunks.items()})
        self._chunks.clear()
        self._rows = self._appends = 0
        self._write(table)

    def _write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._groups.append(table)
            return
        self._writer.write_table(table, row_group_size=max(len(table), 1))
        for listener in self._listeners:
            listener.write(table)

    def open(self, path: Path, listeners: Iterable[TableListener] = ()) -> None:
        """Write to ``path`` from now on, the row groups kept so far first."""
        self._path = Path(path)
        self._writer = pq.ParquetWriter(self._path, self.schema)
        self._listeners = list(listeners)
        groups, self._groups = self._groups, []
        for table in groups:
            self._write(table)

    def close(self) -> None:
        """Write what is left and close the file and the listeners (a sink in memory keeps it)."""
        self.flush()
        if self._writer is not None:
            self._writer.close()
            for listener in self._listeners:
                listener.close()

    def table(self, filters: list[list[tuple[str, str, Any]]] | None = None) -> pa.Table:
        """Every row so far (in memory), or of the closed file; ``filters`` as ``pq.read_table`` takes."""
        if self._path is not None:
            return pq.read_table(self._path, filters=filters, schema=self.schema)
        self.flush()
        table = pa.concat_tables([self.schema.empty_table(), *self._groups])
        return table.filter(pq.filters_to_expression(filters)) if filters else table
