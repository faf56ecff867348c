"""Mesa DataCollector reporters of every registered metric, read from the model's live summary.

Core Objects: reporters, recorded_generation, summary_value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from matryoshka.model.contract import WORLD_LEVEL

if TYPE_CHECKING:
    from matryoshka.model.contract import Metric
    from matryoshka.model.model import MatryoshkaModel


def reporters(max_depth: int, metrics: Mapping[str, Metric]) -> dict[str, Any]:
    """One reporter per metric and level (``population_L1``), and one per whole-world metric.

    Args:
        max_depth: The deepest level agents may have.
        metrics: The run's metric registry, by name.

    Returns:
        ``model_reporters`` for a ``DataCollector``.
    """
    found: dict[str, Any] = {"phase": "phase", "generation": recorded_generation}
    for level in range(1, max_depth + 1):
        for m in metrics.values():
            if m.per_level:
                found[f"{m.name}_L{level}"] = partial(summary_value, level=level, metric=m.name)
    for m in metrics.values():
        if not m.per_level:
            found[m.name] = partial(summary_value, level=WORLD_LEVEL, metric=m.name)
    return found


def recorded_generation(model: MatryoshkaModel) -> int:
    """The generation as the time series records it (in steady state, the organisms' mean)."""
    return model._generation_now(model.pop.slots)


def summary_value(model: MatryoshkaModel, level: int, metric: str) -> float:
    """One level's mean of one metric at the last recorded step (0 agents: population 0)."""
    default = 0.0 if metric == "population" else math.nan
    return model.summary.get(level, {}).get(metric, default)
