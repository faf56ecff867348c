"""A model's outputs as tidy pandas frames, for working with a model in Python or a notebook.

Core Objects: Frames, frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from matryoshka.model.model import MatryoshkaModel


@dataclass(frozen=True)
class Frames:
    """What a model has recorded so far, with the columns of its run directory's tables.

    Attributes:
        levels: The time series of ``levels.parquet``: one row per step, level and metric
            (``step``, ``generation``, ``phase``, ``level``, ``metric``, ``mean``, ``std``, ``count``).
        agents: The ledger of ``agents.parquet``: one row per agent so far, in order of ``id``;
            an agent still alive has no ``death_step``.
        events: ``events.parquet``: every build, scrap and defection.
    """

    levels: pd.DataFrame
    agents: pd.DataFrame
    events: pd.DataFrame


def frames(model: MatryoshkaModel) -> Frames:
    """Tidy frames of a model built in Python, at any step (before or after ``model.finish()``).

    Args:
        model: A model whose tables are in memory (one not given files by ``run_simulation``).

    Returns:
        Its time series, its agents and its events.
    """
    recorder = model.recorder
    alive = recorder.open_rows(model.ledger_columns(model.pop.slots))
    agents = pa.concat_tables([recorder.agents_table(), alive]).to_pandas()
    # After ``finish`` the survivors' rows are closed too: keep each agent once, as closed.
    agents = agents.drop_duplicates("id", keep="first").sort_values("id", ignore_index=True)
    return Frames(recorder.levels_table().to_pandas(), agents, recorder.events_table().to_pandas())
