"""Every swept axis is a condition: never pooled, split over figures when there are many."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from test_analysis_fixtures import write_sweep

from matryoshka.analysis.cli import main
from matryoshka.analysis.dataset import Dataset, Page
from matryoshka.analysis.io import load


@pytest.fixture(scope="module")
def unseen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep over an axis no analysis knows by name: spec_samples 4 and 64, 3 seeds each."""
    root = write_sweep(tmp_path_factory.mktemp("unseen"), {"spec_samples": [4, 64]}, failed=0)
    assert main([str(root)]) == 0
    return root


@pytest.mark.parametrize("name", ["drift", "telephone", "wants", "summary"])
def test_an_unseen_axis_gets_one_line_per_value_with_three_seeds(unseen: Path, name: str) -> None:
    table = pd.read_csv(unseen / "figures" / f"{name}.csv")
    assert sorted(table["spec_samples"].unique()) == [4, 64]
    assert (table["n"] == 3).all()
    # One figure: two conditions fit.
    assert (unseen / "figures" / f"{name}.png").is_file() or name == "summary"


def test_summary_has_one_row_per_condition_phase_and_level_with_n_seeds(unseen: Path) -> None:
    markdown = (unseen / "figures" / "summary.md").read_text(encoding="utf-8")
    assert "| spec_samples | n | phase | level |" in markdown
    assert "| 4 | 3 | train | 1 |" in markdown and "| 64 | 3 | deploy | 1 |" in markdown
    summary = pd.read_csv(unseen / "figures" / "summary.csv")
    row = summary[(summary["metric"] == "reached_exit") & (summary["phase"] == "train")
                  & (summary["level"] == 1)]
    assert list(row["spec_samples"]) == [4, 64] and list(row["n"]) == [3, 3]


def _dataset(points: list[dict], runs: tuple = ()) -> Dataset:
    rows = [{"run_id": f"r{i}", "replicate": 0, **p} for i, p in enumerate(points)]
    return Dataset(Path("."), "sweep", runs, pd.DataFrame(rows), tuple(points[0]))


def test_pages_keep_the_last_axes_in_a_figure_and_split_the_first() -> None:
    data = _dataset([{"a": a, "b": b, "c": c} for a in (1, 2) for b in ("x", "y", "z")
                     for c in (0.1, 0.2)])
    pages = data.pages(per_page=6)
    # b x c has 6 combinations: they fit, so a varies between the two figures.
    assert [p.fixed for p in pages] == [{"a": 1}, {"a": 2}]
    assert pages[0].conditions[:2] == [{"a": 1, "b": "x", "c": 0.1}, {"a": 1, "b": "x", "c": 0.2}]
    assert pages[1].inner(pages[1].conditions[0]) == {"b": "x", "c": 0.1}
    assert pages[1].title("Drift") == "Drift\n(a=2; figure 2 of 2)"
    assert data.pages(per_page=12)[0] == Page({}, data.conditions(), 1, 1)
    # One axis with more values than fit is cut into consecutive runs of values.
    many = _dataset([{"share": v / 10} for v in range(8)])
    assert [len(p.conditions) for p in many.pages(per_page=6)] == [6, 2]
    assert _dataset([{"share": 0.0}]).pages() == [Page({}, [{}], 1, 1)]


def test_conditions_are_in_reading_order() -> None:
    # The tool policies are in the order the runs' manifests declare them.
    declared = SimpleNamespace(manifest={"tool_policies": {
        name: {"doc": name, "colour": "#000000"} for name in ("free", "audit", "forbid")}})
    data = _dataset([{"tool_policy": t, "n": v} for t in ("forbid", "free", "audit")
                     for v in (10, 2)], runs=(declared,))
    assert data.conditions(["tool_policy"]) == [{"tool_policy": t}
                                                for t in ("free", "audit", "forbid")]
    assert [c["n"] for c in data.conditions(["n"])] == [2, 10]


def test_runs_sharing_a_condition_and_a_seed_are_flagged(tmp_path: Path) -> None:
    root = write_sweep(tmp_path / "twins", {"wisdom": [0.2, 0.8]}, replicates=2, failed=0)
    table = pd.read_parquet(root / "sweep.parquet")
    table["replicate"] = 0  # as if the replicate column were lost
    table.to_parquet(root / "sweep.parquet", index=False)
    assert any("share a condition and a replicate" in note for note in load(root).notes)
