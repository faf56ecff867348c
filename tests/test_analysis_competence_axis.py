"""The competence-axis figure: hand-made sweeps along competence, and the whole system's return."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_analysis_fixtures import HALF_WIDTH_3, levels_frame, write_sweep

from matryoshka.analysis import competence, competence_axis
from matryoshka.analysis.io import load
from matryoshka.analysis.section import NotApplicable


def test_system_return_adds_every_level_per_organism() -> None:
    # Fixture levels (replicate 1, no offset): base_return 1 - 0.1 L over 8 // L agents, so
    # (0.9 x 8 + 0.8 x 4 + 0.7 x 2) / 8 organisms = 1.475 per step in both phases.
    p = {"tool_policy": "free", "selection": "generational", "random_exit_share": 0.0,
         "power": 0.5, "wisdom": 0.5}
    got = competence.system_return(levels_frame(p, replicate=1), {"episode_steps": 3})
    assert got == pytest.approx({"system_return_train": 1.475, "system_return_deploy": 1.475})
    alone = competence.system_return(levels_frame({**p, "tool_policy": "forbid"}, 1),
                                          {"episode_steps": 3})
    assert alone["system_return_train"] == pytest.approx(0.7)  # 0.8 - 0.1: organisms only


def test_one_line_per_wisdom_lag_along_competence(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "sweep", {"competence": [0.2, 0.6, 1.0], "wisdom_lag": [0.0, 0.4]},
                        failed=0)
    section = competence_axis.analyse(load(sweep), tmp_path / "out")
    assert [f.name for f in section.figures] == ["competence_axis.png", "competence_axis.svg"]
    table = pd.read_csv(tmp_path / "out" / "competence_axis.csv")
    assert set(table["wisdom_lag"]) == {0.0, 0.4} and set(table["competence"]) == {0.2, 0.6, 1.0}
    assert (table["n"] == 3).all()
    returns = table[table["measure"] == "system_return_train"]
    # Replicates 0, 1, 2 shift every metric by -0.01, 0, +0.01: the mean is the replicate-1 value.
    assert returns["mean"].to_numpy() == pytest.approx(1.475, abs=0.01)
    assert (returns["ci_high"] - returns["mean"]).max() < 2 * HALF_WIDTH_3
    shares = table[table["measure"].str.startswith("share")]
    assert ((shares["ci_low"] >= 0) & (shares["ci_high"] <= 1)).all()


def test_needs_competence_as_an_axis(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "sweep", {"power": [0.2, 0.8]}, failed=0)
    with pytest.raises(NotApplicable, match="needs a sweep with competence as an axis"):
        competence_axis.analyse(load(sweep), tmp_path / "out")
