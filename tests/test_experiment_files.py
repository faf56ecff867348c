"""The experiments shipped in runs/: each says what it asks, validates, and its values build models."""

from __future__ import annotations

from pathlib import Path

import pytest

from matryoshka.model.model import MatryoshkaModel
from matryoshka.runs.experiment import load

SHIPPED = sorted((Path(__file__).parents[1] / "runs").glob("*.toml"))
EXPECTED = {"default": 18, "competence": 120, "interventions": 40, "shift": 18, "evolution": 9,
            "approval": 18, "telephone": 120, "horizon": 60, "fidelity": 270, "layouts": 100}


def test_every_expected_experiment_is_shipped():
    assert {p.stem for p in SHIPPED} == set(EXPECTED)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_experiment_is_valid_and_says_what_it_asks(path):
    header = [line for line in path.read_text().splitlines()[:6] if line.startswith("#")]
    assert any("Question:" in line for line in header), "a leading comment says what question it answers"
    exp = load(path)
    assert exp.name == path.stem
    assert len(exp.runs()) == EXPECTED[path.stem]
    # every grid point builds a model (checks the scenario accepts it; tiny, no steps)
    for point in exp.points():
        MatryoshkaModel(exp.scenario, rng=0, **{**exp.params, **point, "population": 10})
