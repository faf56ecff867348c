"""The output contract: summary keys, summarisation, the registry in the manifest, import boundaries."""

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matryoshka.model.contract import (
    CORE_METRICS,
    PHASE_END,
    Metric,
    metric_registry,
    metrics_from_manifest,
    metrics_to_manifest,
    parse_summary_key,
    summarize,
    summary_key,
)
from matryoshka.model.recorder import Recorder

ROOT = Path(__file__).resolve().parents[1]


def test_summary_keys_round_trip_and_reject_other_columns():
    assert summary_key("deploy", 2, "align_parent_deploy") == "deploy/L2/align_parent_deploy"
    assert parse_summary_key("deploy/L2/align_parent_deploy") == ("deploy", 2, "align_parent_deploy")
    for column in ("run_id", "tool_policy", "later/L1/x", "train/1/x", "train/Lx/x", "train/L1"):
        assert parse_summary_key(column) is None


def test_summarize_follows_each_metrics_rule():
    # a 3-step phase, window 2: the mean of the last two steps, or the value at the last step
    rows = [(s, 0, "train", 1, m, v, 0.0, 1) for m, values in
            {"a": (9.0, 1.0, 3.0), "b": (0.0, 0.25, 0.5), "c": (1.0, 1.0, 1.0)}.items()
            for s, v in enumerate(values)]
    levels = pd.DataFrame(rows, columns=["step", "generation", "phase", "level", "metric", "mean",
                                         "std", "count"])
    metrics = metric_registry([Metric("a", "a"), Metric("b", "b", PHASE_END, share=True),
                               Metric("c", "c", summary=None)])
    assert summarize(levels, 2, metrics) == {"train/L1/a": 2.0, "train/L1/b": 0.5}


def test_the_registry_survives_the_manifest():
    registry = metric_registry(CORE_METRICS, [Metric("food", "food left", per_level=False)])
    back = metrics_from_manifest({"metrics": metrics_to_manifest(registry)})
    assert back == registry
    assert not back["food"].per_level and back["population"].headline
    legacy = metrics_from_manifest({}, features=["x"])  # runs written before the registry
    assert "w_x" in legacy and "population" in legacy
    with pytest.raises(ValueError, match="metric registry"):
        metrics_from_manifest({"metrics": {"a": {"colour": 1}}})


def test_a_bad_declaration_fails_loudly():
    with pytest.raises(ValueError, match="summary"):
        Metric("a", "a", summary="median")
    with pytest.raises(ValueError, match="declared twice"):
        metric_registry(CORE_METRICS, [Metric("population", "again")])


def test_the_recorder_refuses_an_undeclared_metric_and_keeps_world_metrics_at_level_0():
    registry = metric_registry(CORE_METRICS, [Metric("food", "food left", per_level=False)])
    recorder = Recorder(("f",), 4, 2, registry)
    levels = np.array([1, 1, 2])
    assert recorder.live_summary() == {}
    recorder.record_step(0, 0, "train", levels, {"energy": np.ones(3)}, world={"food": 7.0})
    live = recorder.live_summary()
    assert live[0] == {"food": 7.0} and live[1]["population"] == 2
    assert recorder.live_summary() is live  # made once per step, however many reporters ask
    recorder.record_step(1, 0, "train", levels[:2], {"energy": np.ones(2)}, world={"food": 6.0})
    assert recorder.live_summary()[0] == {"food": 6.0} and recorder.live_summary()[1]["population"] == 2
    assert 2 not in recorder.live_summary()
    with pytest.raises(ValueError, match="reached_exit"):
        recorder.record_step(1, 0, "train", levels, {"reached_exit": np.ones(3)})
    table = recorder.levels_table().to_pandas()
    food = table[table["metric"] == "food"][["level", "mean", "count"]]
    assert food.values.tolist() == [[0, 7.0, 1], [0, 6.0, 1]]


def _imports(folder: str) -> dict[str, set[str]]:
    """Module-level and nested project imports of each file in a folder."""
    found = {}
    for path in sorted((ROOT / folder).glob("*.py")):
        tree = ast.parse(path.read_text())
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("matryoshka"):
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names if a.name.startswith("matryoshka"))
        found[path.name] = names
    return found


def test_analysis_imports_only_the_contract_from_the_rest_of_the_project():
    for name, modules in _imports("analysis").items():
        outside = {m for m in modules if not m.startswith("matryoshka.analysis")}
        assert outside <= {"matryoshka.model.contract"}, name


def test_runs_import_analysis_only_inside_functions():
    for path in sorted((ROOT / "runs").glob("*.py")):
        for node in ast.parse(path.read_text()).body:  # module level only
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("matryoshka.analysis"), path.name
