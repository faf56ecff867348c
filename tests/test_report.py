"""The printed summaries: per level and phase, and per condition of a sweep."""

import pandas as pd

from matryoshka.model.scenarios import get
from matryoshka.runs.report import format_summary, format_sweep_summary

MAZE = get("maze-v2").metric_registry()


def test_format_summary_orders_train_first_and_shows_known_values():
    text = format_summary({"deploy/L1/population": 10.0, "train/L1/population": 12.0,
                           "train/L1/reached_exit": 0.875, "deploy/L1/reached_exit": 0.125}, MAZE)
    lines = text.splitlines()
    assert lines[1].split() == ["train", "L1", "12", "0.875"]
    assert lines[2].split() == ["deploy", "L1", "10", "0.125"]


def test_sweep_summary_averages_seeds_per_condition_and_skips_failed_runs():
    table = pd.DataFrame({
        "run_id": ["r0", "r1", "r2", "r3", "r4"],
        "status": ["complete", "complete", "complete", "complete", "failed"],
        "tool_policy": ["free", "free", "forbid", "forbid", "forbid"],
        "generations": [5] * 5,
        "train/L1/reached_exit": [0.5, 0.7, 0.9, 1.0, 0.0],
    })
    text = format_sweep_summary(table, MAZE)
    blocks = text.split("\n\n")
    assert blocks[0].startswith("tool_policy=free (2 runs)")
    assert blocks[0].splitlines()[-1].split() == ["train", "L1", "0.600"]
    assert blocks[1].startswith("tool_policy=forbid (2 runs)")
    assert blocks[1].splitlines()[-1].split() == ["train", "L1", "0.950"]
    assert "generations" not in text  # fixed parameters are not conditions
