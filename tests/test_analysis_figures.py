"""Every figure and table from hand-made run and sweep directories, and an offline report."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from test_analysis_fixtures import write_run, write_sweep

from matryoshka.analysis import (
    competence,
    drift,
    interventions,
    lineage,
    occupancy,
    shift,
    tables,
    telephone,
)
from matryoshka.analysis.cli import main
from matryoshka.analysis.entry import run_analyses
from matryoshka.analysis.io import load
from matryoshka.analysis.report import write_report

FIGURES = ("drift", "telephone", "wants", "competence", "competence_axis", "interventions", "shift",
           "lineage", "occupancy")


#: A power x wisdom grid, then one point each with neutral selection, no tools, random exits, and
#: two more competence values.
FULL = [{"power": p, "wisdom": w} for p in (0.2, 0.8) for w in (0.2, 0.8)] + [
    {"selection": "neutral"}, {"tool_policy": "forbid"}, {"random_exit_share": 0.5},
    {"competence": 0.2}, {"competence": 0.8}]


@pytest.fixture(scope="module")
def full_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A sweep with every axis, so that every analysis applies."""
    points = [{"selection": "generational", "tool_policy": "free", "power": 0.2, "wisdom": 0.2,
               "random_exit_share": 0.0, "competence": 0.5, **point} for point in FULL]
    root = write_sweep(tmp_path_factory.mktemp("full"), points, replicates=2)
    return root, _printed(root)


def _printed(root: Path) -> str:
    from contextlib import redirect_stdout
    from io import StringIO

    buffer = StringIO()
    with redirect_stdout(buffer):
        assert main([str(root)]) == 0
    return buffer.getvalue()


def _referenced(report: Path) -> list[str]:
    return re.findall(r'(?:src|href)="([^"#][^"]*)"', report.read_text(encoding="utf-8"))


def test_every_figure_from_a_full_sweep(full_sweep: tuple[Path, str]) -> None:
    root, printed = full_sweep
    out = root / "figures"
    for name in FIGURES:
        assert (out / f"{name}.csv").stat().st_size > 0
        pngs = _pages(out, name)
        assert pngs, name
        for png in pngs:
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert "<svg" in png.with_suffix(".svg").read_text(encoding="utf-8")[:2000]
    assert "skipped" not in printed
    assert "1 of 19 runs did not complete" in printed
    assert printed.strip().splitlines()[-1] == f"report: {out / 'report.html'}"


def _pages(out: Path, name: str) -> list[Path]:
    """A figure's PNG, or its pages' PNGs (`name-1.png`, ...) when it was split."""
    single = out / f"{name}.png"
    return [single] if single.is_file() else sorted(out.glob(f"{name}-[0-9]*.png"))


def test_nine_conditions_are_split_over_figures_never_pooled(
        full_sweep: tuple[Path, str]) -> None:
    root, _ = full_sweep
    out = root / "figures"
    # Nine conditions: more than one figure shows, so drift and wants are split over figures.
    assert [p.name for p in _pages(out, "drift")][:2] == ["drift-1.png", "drift-2.png"]
    assert len(_pages(out, "wants")) >= 2
    drift_table = pd.read_csv(out / "drift.csv")
    keys = ["selection", "tool_policy", "power", "wisdom", "random_exit_share", "competence"]
    assert len(drift_table[keys].drop_duplicates()) == len(FULL)
    assert (drift_table["n"] == 2).all()  # two seeds per condition, never more
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary[keys].drop_duplicates()) == len(FULL)
    assert (summary["n"] == 2).all()


def test_report_shows_every_figure_and_references_only_existing_files(
        full_sweep: tuple[Path, str]) -> None:
    root, _ = full_sweep
    report = root / "figures" / "report.html"
    links = _referenced(report)
    for name in FIGURES:
        assert {p.name for p in _pages(report.parent, name)} <= set(links)
    assert "summary.md" in links and "summary.csv" in links
    for link in links:
        assert not link.startswith(("http:", "https:", "//", "/")), link
        assert (report.parent / link).is_file(), link
    text = report.read_text(encoding="utf-8")
    assert "<script" not in text
    assert text.count("<table") == len(FIGURES) + 1


def test_lone_run_skips_the_sweep_analyses_with_one_line_each(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The figures a lone run does get are drawn in test_analysis_real and for the sweep above.
    run = write_run(tmp_path / "run")
    out = tmp_path / "figures"
    data = load(run)
    sections, skipped = run_analyses(
        data, out, [(m.NAME, m.analyse) for m in (competence, interventions, shift, tables)])
    printed = capsys.readouterr().out
    assert [line.split(":")[0] for line in printed.splitlines() if "skipped" in line] == [
        "skipped competence", "skipped interventions", "skipped shift"]
    assert "needs a sweep with power and wisdom as axes (axes here: none)" in printed
    report = write_report(data, out, sections, skipped)
    text = report.read_text(encoding="utf-8")
    assert "Not applicable to this data" in text and "one run (run)" in text
    assert all((out / link).is_file() for link in _referenced(report))


def test_run_without_tools_or_world_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run", scenario="evolution-v1", tool_policy="forbid")
    run_analyses(load(run), tmp_path / "figures",
                 [(m.NAME, m.analyse) for m in (telephone, occupancy, drift)])
    printed = capsys.readouterr().out
    assert "skipped telephone: only Level 1 has alignment data" in printed
    assert "skipped occupancy:" in printed and "manifest.json has no world layout" in printed
    table = pd.read_csv(tmp_path / "figures" / "drift.csv")
    assert set(table["level"]) == {1}


# runpy warns that analysis.wants is already imported (by analysis.cli, above); harmless here.
@pytest.mark.filterwarnings("ignore:'matryoshka.analysis.wants' found in sys.modules:RuntimeWarning")
def test_out_option_and_single_analysis_module(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run")
    monkeypatch.setattr(sys, "argv", ["wants", str(run), "--out", str(tmp_path / "figs")])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module("matryoshka.analysis.wants", run_name="__main__", alter_sys=True)
    assert exit_.value.code == 0
    assert (tmp_path / "figs" / "wants.png").stat().st_size > 0
    assert not (tmp_path / "figs" / "drift.png").exists()
    assert "wants: wrote" in capsys.readouterr().out


def test_lineage_keeps_lines_of_descent_under_the_cap() -> None:
    graph = nx.DiGraph()
    graph.add_node(0, generation=0, level=1, kind="organism")
    frontier = [0]
    next_id = 1
    for generation in range(1, 9):  # a full binary tree: 511 organisms
        children = []
        for parent in frontier:
            for _ in range(2):
                graph.add_node(next_id, generation=generation, level=1, kind="organism")
                graph.add_edge(parent, next_id, relation="parent")
                children.append(next_id)
                next_id += 1
        frontier = children
    root, nodes = lineage.pick_lineage(graph, max_nodes=60)
    assert root == 0
    assert len(nodes) == 60
    tree = graph.subgraph(nodes)
    assert nx.is_arborescence(tree)
    assert max(graph.nodes[n]["generation"] for n in nodes) == 8
    positions = lineage.tree_layout(nx.DiGraph(tree), root)
    assert positions[root][1] == 0.0
    assert len({p for p in positions.values()}) == len(nodes)
