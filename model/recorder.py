"""What a run remembers: the per-level time series, the ledger of every agent, and occupancy.

Rows are kept as column chunks (numpy arrays) and turned into tables only when written. Only
metrics of the run's registry (``model.contract``) are recorded.

Core Objects: Recorder, LEDGER_COLUMNS.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from matryoshka.model.contract import LEVELS_COLUMNS, PHASES, WORLD_LEVEL, Metric
from matryoshka.model.metrics import level_stats
from matryoshka.model.population import Population

ALIGN_COLUMNS = (
    "align_parent_train",
    "align_parent_deploy",
    "align_base_train",
    "align_base_deploy",
    "align_root_train",
    "align_root_deploy",
    "cos_parent",
    "cos_base",
)
# Ledger columns copied from the population arrays when an agent's row is closed.
LEDGER_COLUMNS = (
    "id", "kind", "level", "generation", "parent", "builder", "birth_step", "birth_phase",
    "power", "wisdom", "weights", *ALIGN_COLUMNS, "reward_sum", "age", "deceptive", "scrapped",
    "defected_step", "trust",
)  # fmt: skip
KINDS = ("organism", "tool")
_VISITS_BUFFER = 1 << 22  # cell visits kept before they are counted (32 MB of codes)


class Recorder:
    """Accumulates a run's outputs while it runs.

    Args:
        feature_names: The scenario's feature names (for the ``w_<feature>`` columns).
        n_cells: Number of grid cells (for occupancy).
        max_level: Deepest level that can occur.
        metrics: The run's metric registry: the names that may be recorded.
    """

    def __init__(
        self, feature_names: tuple[str, ...], n_cells: int, max_level: int, metrics: Mapping[str, Metric]
    ) -> None:
        self.feature_names = feature_names
        self.metrics = metrics
        self.n_levels = max_level + 1
        self._series: dict[str, list[np.ndarray]] = defaultdict(list)
        self._metric_names: list[str] = []
        self._ledger: dict[str, list[np.ndarray]] = defaultdict(list)
        self._events: list[tuple[int, str, int, int, int, str]] = []
        self._ids_of: dict[tuple[str, ...], np.ndarray] = {}  # checked names -> their codes
        self.n_cells = n_cells
        self._visits = np.zeros((len(PHASES), self.n_levels, n_cells), dtype=np.int64)
        self._visited: list[list[np.ndarray]] = [[] for _ in PHASES]  # level * C + cell, per step
        self._pending = 0

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
    ) -> dict[int, dict[str, float]]:
        """Aggregate per-agent metrics by level and append them to the time series.

        Args:
            step: Model step.
            generation: Current generation.
            phase: ``train`` or ``deploy``.
            levels: ``(N,)`` level of each live agent.
            metrics: Metric name to ``(N,)`` values (NaN where undefined).
            counts: Event name to ``(n_levels,)`` counts this step (built, scrapped, ...).
            world: Whole-world metrics (``per_level=False``), recorded under level 0.

        Returns:
            Level to metric to mean, for the levels present (the live summary).

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
        s = self._series
        s["step"].append(np.full(len(lv), step))
        s["generation"].append(np.full(len(lv), generation))
        s["phase"].append(np.full(len(lv), PHASES.index(phase), dtype=np.int8))
        s["level"].append(lv)
        s["metric"].append(mi)
        s["mean"].append(mu.astype(float))
        s["std"].append(sd.astype(float))
        s["count"].append(n.astype(np.int64))
        agent_names = names[:n_agent]
        summary = {int(level): dict(zip(agent_names, mean[level].tolist(), strict=True))
                   for level in np.flatnonzero(present)}  # fmt: skip
        if counts:
            event_names = names[n_agent : n_agent + n_count]
            for level in summary:
                summary[level].update(zip(event_names, per_level[level].astype(float).tolist(), strict=True))
        if world:
            summary[WORLD_LEVEL] = {name: float(v) for name, v in world.items()}
        return summary

    def _ids(self, names: tuple[str, ...]) -> np.ndarray:
        """Stable integer codes for metric names."""
        for name in names:
            if name not in self._metric_names:
                self._metric_names.append(name)
        return np.array([self._metric_names.index(n) for n in names], dtype=np.int64)

    def close_rows(self, columns: dict[str, np.ndarray], death_step: int | None) -> None:
        """Append ledger rows for agents that died (or are alive at the end, ``death_step`` None)."""
        n = len(columns["id"])
        for name, values in columns.items():
            self._ledger[name].append(np.asarray(values))
        self._ledger["death_step"].append(np.full(n, -1 if death_step is None else death_step))

    def event(self, step: int, name: str, pop: Population, slot: int, detail: str = "") -> None:
        """Record a rare event (built, scrapped, defected) for the agent in ``slot``."""
        builder = int(pop["builder"][slot])
        self._events.append((step, name, int(pop["id"][slot]), builder, int(pop["level"][slot]), detail))

    def events_table(self) -> pa.Table:
        """Every build, scrap and defection: step, event, id, builder, level, detail."""
        columns = list(zip(*self._events, strict=True)) or [()] * 6
        names = ("step", "event", "id", "builder", "level", "detail")
        types = (pa.int64(), pa.string(), pa.int64(), pa.int64(), pa.int64(), pa.string())
        return pa.table({n: pa.array(c, t) for n, c, t in zip(names, columns, types, strict=True)})

    def levels_table(self) -> pa.Table:
        """The tidy time series: step, generation, phase, level, metric, mean, std, count."""
        s = {k: np.concatenate(v) if v else np.zeros(0) for k, v in self._series.items()}
        if not s:
            s = {k: np.zeros(0, dtype=int) for k in LEVELS_COLUMNS[:5]}
            s.update(mean=np.zeros(0), std=np.zeros(0), count=np.zeros(0, dtype=int))
        return pa.table(
            {
                "step": pa.array(s["step"], pa.int64()),
                "generation": pa.array(s["generation"], pa.int64()),
                "phase": pa.array(np.array(PHASES)[s["phase"].astype(int)], pa.string()),
                "level": pa.array(s["level"], pa.int64()),
                "metric": pa.array(np.array(self._metric_names or [""])[s["metric"].astype(int)]),
                "mean": pa.array(s["mean"], pa.float64()),
                "std": pa.array(s["std"], pa.float64()),
                "count": pa.array(s["count"], pa.int64()),
            }
        )

    def agents_table(self) -> pa.Table:
        """One row per agent ever, in order of id."""
        cols = {k: np.concatenate(v) for k, v in self._ledger.items()}
        order = np.argsort(cols["id"], kind="stable")
        cols = {k: v[order] for k, v in cols.items()}

        def nullable(values: np.ndarray) -> pa.Array:
            return pa.array(values, pa.int64(), mask=values < 0)

        age = np.maximum(cols["age"], 1)
        table = {
            "id": pa.array(cols["id"], pa.int64()),
            "kind": pa.array(np.array(KINDS)[cols["kind"]]),
            "level": pa.array(cols["level"], pa.int64()),
            "generation": pa.array(cols["generation"], pa.int64()),
            "parent": nullable(cols["parent"]),
            "builder": nullable(cols["builder"]),
            "birth_step": pa.array(cols["birth_step"], pa.int64()),
            "death_step": nullable(cols["death_step"]),
            "phase": pa.array(np.array(PHASES)[cols["birth_phase"]]),
            "power": pa.array(cols["power"], pa.float64()),
            "wisdom": pa.array(cols["wisdom"], pa.float64()),
        }
        for k, name in enumerate(self.feature_names):
            table[f"w_{name}"] = pa.array(cols["weights"][:, k], pa.float64())
        for name in ALIGN_COLUMNS:
            table[name] = pa.array(cols[name], pa.float64())
        table["base_return"] = pa.array(cols["reward_sum"] / age, pa.float64())
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
