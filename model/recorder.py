"""What a run remembers: the per-level time series, the ledger of every agent, and occupancy.

The time series, the ledger and the events are ``TableSink``s: written to Parquet in row groups as
the run goes once the run gives them files (``model.outputs.open_outputs``), so that a run's memory
does not grow with its length. Only metrics of the run's registry (``model.contract``) are
recorded; with ``record_every`` n, the time series keeps every n-th step and each phase's last.

Core Objects: Recorder, LEDGER_COLUMNS, LEVELS_SCHEMA, EVENTS_SCHEMA.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from matryoshka.model.contract import LEVELS_COLUMNS, PHASES, WORLD_LEVEL, Metric
from matryoshka.model.metrics import level_stats
from matryoshka.model.population import Population
from matryoshka.model.tables import TableSink

ALIGN_COLUMNS = (
    "align_parent_train",
    "align_parent_deploy",
    "align_base_train",
    "align_base_deploy",
    "align_root_train",
    "align_root_deploy",
    "cos_parent",
    "cos_base",
    "align_true_train",
    "align_true_deploy",
    "cos_true",
)
# Ledger columns copied from the population arrays when an agent's row is closed.
LEDGER_COLUMNS = (
    "id", "kind", "level", "generation", "parent", "builder", "birth_step", "birth_phase",
    "power", "wisdom", "tool_trust_rate", "weights", *ALIGN_COLUMNS, "reward_sum", "true_sum", "age",
    "deceptive", "scrapped", "defected_step", "trust",
)  # fmt: skip
KINDS = ("organism", "tool")
_VISITS_BUFFER = 1 << 22  # cell visits kept before they are counted (32 MB of codes)
LEVELS_SCHEMA = pa.schema(list(zip(LEVELS_COLUMNS, (
    pa.int64(), pa.int64(), pa.string(), pa.int64(), pa.string(), pa.float64(), pa.float64(), pa.int64()
), strict=True)))  # fmt: skip
EVENTS_SCHEMA = pa.schema([
    ("step", pa.int64()), ("event", pa.string()), ("id", pa.int64()), ("builder", pa.int64()),
    ("level", pa.int64()), ("detail", pa.string()),
])  # fmt: skip


class Recorder:
    """Accumulates a run's outputs while it runs.

    Args:
        feature_names: The scenario's feature names (for the ``w_<feature>`` columns).
        n_cells: Number of grid cells (for occupancy).
        max_level: Deepest level that can occur.
        metrics: The run's metric registry: the names that may be recorded.
        record_every: Keep every n-th step of the time series (and each phase's last).

    Attributes:
        levels: The time series (``levels.parquet``).
        ledger: One row per agent, written when its row closes (``agents.parquet``).
        events: Every build, scrap and defection (``events.parquet``).
        last_step: Each phase's last recorded step so far.
    """

    def __init__(
        self,
        feature_names: tuple[str, ...],
        n_cells: int,
        max_level: int,
        metrics: Mapping[str, Metric],
        record_every: int = 1,
    ) -> None:
        self.feature_names = feature_names
        self.metrics = metrics
        self.n_levels = max_level + 1
        self.record_every = record_every
        self._metric_names: list[str] = []
        self.levels = TableSink(LEVELS_SCHEMA, self._levels_rows)
        self.ledger = TableSink(self._agents_rows(self._no_agents()).schema, self._agents_rows)
        self.events = TableSink(EVENTS_SCHEMA, self._events_rows)
        self._unkept: tuple[str, dict[str, np.ndarray]] | None = None  # a step not kept (yet)
        self.last_step: dict[str, int] = {}
        self._ids_of: dict[tuple[str, ...], np.ndarray] = {}  # checked names -> their codes
        self.n_cells = n_cells
        self._visits = np.zeros((len(PHASES), self.n_levels, n_cells), dtype=np.int64)
        self._visited: list[list[np.ndarray]] = [[] for _ in PHASES]  # level * C + cell, per step
        self._pending = 0
        self._live: tuple | None = None  # what the last step's live summary is made of
        self._live_summary: dict[int, dict[str, float]] | None = None  # made of it, once asked

    def visit(self, phase: str, levels: np.ndarray, cells: np.ndarray) -> None:
        """Count one step of each agent on its cell.

        The step's ``level * C + cell`` codes are kept and counted in one ``bincount`` per phase
        when ``visits`` is read or enough have gathered: a step costs O(agents), not O(cells).
        """
        self._visited[PHASES.index(phase)].append(levels * self.n_cells + cells)
        self._pending += len(cells)
        if self._pending > _VISITS_BUFFER:
            self._count_visits()

    def _count_visits(self) -> None:
        size = self.n_levels * self.n_cells
        for phase, codes in enumerate(self._visited):
            if codes:
                counts = np.bincount(np.concatenate(codes), minlength=size)
                self._visits[phase] += counts.reshape(self.n_levels, self.n_cells)
                codes.clear()
        self._pending = 0

    @property
    def visits(self) -> np.ndarray:
        """``(phases, levels, cells)`` agent-steps so far."""
        self._count_visits()
        return self._visits

    def record_step(
        self,
        step: int,
        generation: int,
        phase: str,
        levels: np.ndarray,
        metrics: dict[str, np.ndarray],
        counts: dict[str, np.ndarray] | None = None,
        world: dict[str, float] | None = None,
    ) -> None:
        """Aggregate per-agent metrics by level and append them to the time series.

        What the step's summary holds for the live view is made only when asked (``live_summary``).

        Args:
            step: Model step.
            generation: Current generation.
            phase: ``train`` or ``deploy``.
            levels: ``(N,)`` level of each live agent.
            metrics: Metric name to ``(N,)`` values (NaN where undefined).
            counts: Event name to ``(n_levels,)`` counts this step (built, scrapped, ...).
            world: Whole-world metrics (``per_level=False``), recorded under level 0.

        Raises:
            ValueError: A metric is not in the run's registry.
        """
        names = ("population", *metrics, *(counts or ()), *(world or ()))
        ids = self._ids_of.get(names)
        if ids is None:  # a new set of names: check them once
            undeclared = set(names).difference(self.metrics)
            if undeclared:
                raise ValueError(f"metrics {sorted(undeclared)} are not in the run's metric registry")
            ids = self._ids_of[names] = self._ids(names)
        n_agent, n_count = 1 + len(metrics), len(counts or ())
        values = np.stack([np.ones(len(levels)), *metrics.values()]).reshape(n_agent, len(levels))
        mean, std, count = level_stats(levels, values, self.n_levels)
        present = count[:, 0] > 0
        mean[:, 0], std[:, 0] = count[:, 0], 0.0
        lv, mi = np.nonzero(present[:, None] & (count > 0))
        rows = [(lv, ids[mi], mean[lv, mi], std[lv, mi], count[lv, mi])]
        if counts:
            per_level = np.column_stack(list(counts.values()))  # (levels, events)
            ei, lv = np.nonzero(present | (per_level.T > 0))  # event by event, as the names go
            rows.append((lv, ids[n_agent + ei], per_level[lv, ei], 0.0 * lv, per_level[lv, ei]))
        if world:
            values = np.array(list(world.values()), dtype=float)
            lv = np.full(len(world), WORLD_LEVEL)
            rows.append((lv, ids[n_agent + n_count :], values, 0.0 * values, np.ones(len(world), np.int64)))
        lv, mi, mu, sd, n = (np.concatenate(parts) for parts in zip(*rows, strict=True))
        self._keep(step, phase, {
            "step": np.full(len(lv), step), "generation": np.full(len(lv), generation),
            "phase": np.full(len(lv), PHASES.index(phase), dtype=np.int8), "level": lv, "metric": mi,
            "mean": mu.astype(float), "std": sd.astype(float), "count": n.astype(np.int64),
        })  # fmt: skip
        self._live = (names, n_agent, n_count, mean, present, per_level if counts else None, world)
        self._live_summary = None

    def live_summary(self) -> dict[int, dict[str, float]]:
        """The last recorded step: level to metric to mean, for the levels present (level 0: the world)."""
        if self._live is None:
            return {}
        if self._live_summary is not None:  # made already for this step (reporters ask one by one)
            return self._live_summary
        names, n_agent, n_count, mean, present, per_level, world = self._live
        summary = {int(level): dict(zip(names[:n_agent], mean[level].tolist(), strict=True))
                   for level in np.flatnonzero(present)}  # fmt: skip
        if per_level is not None:
            event_names = names[n_agent : n_agent + n_count]
            for level in summary:
                summary[level].update(zip(event_names, per_level[level].astype(float).tolist(), strict=True))
        if world:
            summary[WORLD_LEVEL] = {name: float(v) for name, v in world.items()}
        self._live_summary = summary
        return summary

    def _keep(self, step: int, phase: str, rows: dict[str, np.ndarray]) -> None:
        """Keep a step's rows if it is due; hold the latest other one until it proves a phase's last."""
        if self._unkept is not None and self._unkept[0] != phase:
            self.levels.append(**self._unkept[1])
        self._unkept = None
        if step % self.record_every == 0:
            self.levels.append(**rows)
        else:
            self._unkept = (phase, rows)
        self.last_step[phase] = step

    def close(self) -> None:
        """Keep the last step, and write and close every table (call once, at the end of a run)."""
        if self._unkept is not None:
            self.levels.append(**self._unkept[1])
            self._unkept = None
        for sink in (self.levels, self.ledger, self.events):
            sink.close()

    def _ids(self, names: tuple[str, ...]) -> np.ndarray:
        """Stable integer codes for metric names."""
        for name in names:
            if name not in self._metric_names:
                self._metric_names.append(name)
        return np.array([self._metric_names.index(n) for n in names], dtype=np.int64)

    def close_rows(self, columns: dict[str, np.ndarray], death_step: int | None) -> None:
        """Append ledger rows for agents that died (or are alive at the end, ``death_step`` None)."""
        n = len(columns["id"])
        self.ledger.append(**columns, death_step=np.full(n, -1 if death_step is None else death_step))

    def event(
        self, step: int, name: str, pop: Population, slots: int | np.ndarray, detail: str | np.ndarray = ""
    ) -> None:
        """Record a rare event (built, scrapped, defected) for the agents in ``slots``, one row each.

        ``detail`` is one text for all of them or one per agent.
        """
        slots = np.atleast_1d(slots)
        n = len(slots)
        if n:
            self.events.append(step=np.full(n, step), event=np.full(n, name, dtype=object),
                               id=pop["id"][slots], builder=pop["builder"][slots], level=pop["level"][slots],
                               detail=np.broadcast_to(np.asarray(detail, dtype=object), n))  # fmt: skip

    def events_table(self) -> pa.Table:
        """Every build, scrap and defection: step, event, id, builder, level, detail."""
        return self.events.table()

    def levels_table(self) -> pa.Table:
        """The tidy time series: step, generation, phase, level, metric, mean, std, count."""
        return self.levels.table()

    def levels_tail(self, windows: Mapping[str, int]) -> pa.Table:
        """The time series of each phase's last ``windows[phase]`` steps (what a summary reads)."""
        filters = [[("phase", "==", phase), ("step", ">", last - windows[phase])]
                   for phase, last in self.last_step.items()]  # fmt: skip
        return self.levels.table(filters)

    def agents_table(self) -> pa.Table:
        """One row per agent ever, in the order their rows closed (deaths, then the survivors)."""
        return self.ledger.table()

    def open_rows(self, columns: dict[str, np.ndarray]) -> pa.Table:
        """The rows of agents still alive, as ``agents_table`` will hold them, without closing them."""
        return self._agents_rows({**columns, "death_step": np.full(len(columns["id"]), -1)})

    @staticmethod
    def _events_rows(cols: dict[str, np.ndarray]) -> pa.Table:
        return pa.table({field.name: pa.array(cols[field.name], field.type) for field in EVENTS_SCHEMA})

    def _levels_rows(self, s: dict[str, np.ndarray]) -> pa.Table:
        return pa.table(
            {
                "step": pa.array(s["step"], pa.int64()),
                "generation": pa.array(s["generation"], pa.int64()),
                "phase": pa.array(np.array(PHASES)[s["phase"].astype(int)], pa.string()),
                "level": pa.array(s["level"], pa.int64()),
                "metric": pa.array(np.array(self._metric_names)[s["metric"].astype(int)], pa.string()),
                "mean": pa.array(s["mean"], pa.float64()),
                "std": pa.array(s["std"], pa.float64()),
                "count": pa.array(s["count"], pa.int64()),
            }
        )

    def _no_agents(self) -> dict[str, np.ndarray]:
        """Empty ledger columns (for the ledger's schema)."""
        cols = {name: np.zeros(0, dtype=np.int64) for name in (*LEDGER_COLUMNS, "death_step")}
        cols["weights"] = np.zeros((0, len(self.feature_names)))
        return cols

    def _agents_rows(self, cols: dict[str, np.ndarray]) -> pa.Table:
        def nullable(values: np.ndarray) -> pa.Array:
            return pa.array(values, pa.int64(), mask=values < 0)

        age = np.maximum(cols["age"], 1)
        table = {
            "id": pa.array(cols["id"], pa.int64()),
            "kind": pa.array(np.array(KINDS)[cols["kind"]], pa.string()),
            "level": pa.array(cols["level"], pa.int64()),
            "generation": pa.array(cols["generation"], pa.int64()),
            "parent": nullable(cols["parent"]),
            "builder": nullable(cols["builder"]),
            "birth_step": pa.array(cols["birth_step"], pa.int64()),
            "death_step": nullable(cols["death_step"]),
            "phase": pa.array(np.array(PHASES)[cols["birth_phase"]], pa.string()),
            "power": pa.array(cols["power"], pa.float64()),
            "wisdom": pa.array(cols["wisdom"], pa.float64()),
            "tool_trust_rate": pa.array(cols["tool_trust_rate"], pa.float64()),
        }
        for k, name in enumerate(self.feature_names):
            table[f"w_{name}"] = pa.array(cols["weights"][:, k], pa.float64())
        for name in ALIGN_COLUMNS:
            table[name] = pa.array(cols[name], pa.float64())
        table["base_return"] = pa.array(cols["reward_sum"] / age, pa.float64())
        table["true_return"] = pa.array(cols["true_sum"] / age, pa.float64())
        table["deceptive"] = pa.array(cols["deceptive"], pa.bool_())
        table["scrapped"] = pa.array(cols["scrapped"], pa.bool_())
        table["defected_step"] = nullable(cols["defected_step"])
        table["trust"] = pa.array(cols["trust"], pa.float64())
        return pa.table(table)

    def occupancy_table(self, height: int) -> pa.Table:
        """Agent-steps per cell, by phase and level (cells with no visits left out)."""
        visits = self.visits
        ph, lv, cell = np.nonzero(visits)
        x, y = np.divmod(cell, height)
        return pa.table(
            {
                "phase": pa.array(np.array(PHASES)[ph], pa.string()),
                "level": pa.array(lv, pa.int64()),
                "x": pa.array(x, pa.int64()),
                "y": pa.array(y, pa.int64()),
                "visits": pa.array(visits[ph, lv, cell], pa.int64()),
            }
        )
