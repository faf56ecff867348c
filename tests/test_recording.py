"""Per-step recording: occupancy counted in batches equals counting every step on its own."""

from __future__ import annotations

import numpy as np

from matryoshka.model import recorder as recorder_module
from matryoshka.model.contract import PHASES
from matryoshka.model.recorder import Recorder


def test_occupancy_counted_in_batches_equals_counting_each_step(monkeypatch):
    monkeypatch.setattr(recorder_module, "_VISITS_BUFFER", 50)  # count every few steps
    rng = np.random.default_rng(0)
    rec = Recorder(("a",), n_cells=12, max_level=3, metrics={})
    expected = np.zeros((len(PHASES), 4, 12), dtype=np.int64)
    for step in range(40):
        phase = PHASES[step // 25]
        levels, cells = rng.integers(1, 4, size=17), rng.integers(0, 12, size=17)
        rec.visit(phase, levels, cells)
        np.add.at(expected[PHASES.index(phase)], (levels, cells), 1)
        if step in (3, 30):  # reading in the middle counts what has gathered so far
            assert np.array_equal(rec.visits, expected)
    assert np.array_equal(rec.visits, expected)
    table = rec.occupancy_table(height=4).to_pandas()
    assert table["visits"].sum() == 40 * 17
    assert set(table["phase"]) == set(PHASES)
