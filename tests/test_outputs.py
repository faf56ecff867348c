"""A run directory written by ``matryoshka run`` is complete and readable with pandas and networkx."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from matryoshka.model.model import MatryoshkaModel
from matryoshka.runs.cli import main

PARAMS = dict(population=12, generations=3, episode_steps=5, deploy_episodes=1, build_rate=0.3)
LEVEL_COLUMNS = ["step", "generation", "phase", "level", "metric", "mean", "std", "count"]
AGENT_COLUMNS = ["id", "kind", "level", "generation", "parent", "builder", "birth_step", "death_step",
                 "power", "wisdom", "w_exit_signal", "w_landmark", "w_dist_origin",
                 "align_parent_train", "align_parent_deploy", "align_base_train", "align_base_deploy",
                 "cos_parent", "cos_base", "base_return"]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("outputs") / "run"
    args = ["run", "--scenario", "maze-v2", "--seed", "11", "--out", str(out), "--quiet"]
    for key, value in PARAMS.items():
        args += ["--set", f"{key}={value}"]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(args) == 0
    assert "summary" in stdout.getvalue() and str(out) in stdout.getvalue()
    return out


def test_every_output_file_and_no_leftovers(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert {"manifest.json", "levels.parquet", "agents.parquet", "lineage.graphml", "phylogeny.csv"} <= names
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")]  # no temporary dirs


def test_manifest(run_dir):
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    manifest = json.loads((run_dir / "manifest.json").read_text(), parse_constant=refuse)
    assert {"scenario", "config", "seed", "versions", "started", "finished", "status"} <= set(manifest)
    assert manifest["scenario"] == "maze-v2" and manifest["seed"] == 11
    assert manifest["status"] == "complete"
    assert all(manifest["config"][k] == v for k, v in PARAMS.items())
    assert manifest["versions"]["mesa"].startswith("3.5")
    assert manifest["started"] <= manifest["finished"]


def test_levels_table(run_dir):
    levels = pd.read_parquet(run_dir / "levels.parquet")
    assert list(levels.columns) == LEVEL_COLUMNS
    assert set(levels["phase"]) == {"train", "deploy"}
    steps = PARAMS["episode_steps"] * (PARAMS["generations"] + PARAMS["deploy_episodes"])
    assert levels["step"].min() == 0 and levels["step"].max() == steps
    assert sorted(levels["generation"].unique()) == list(range(PARAMS["generations"]))
    l1 = levels[levels["level"] == 1]
    population = l1[l1["metric"] == "population"]
    assert (population["mean"] == PARAMS["population"]).all()
    assert len(population) == steps + 1  # the initial state and one row per step
    assert {"base_return", "align_base_train", "reached_exit", "reached_proxy", "w_landmark"} <= set(
        l1["metric"]
    )
    assert (levels["count"] >= 0).all() and (levels["std"].dropna() >= 0).all()


def test_agents_table(run_dir):
    agents = pd.read_parquet(run_dir / "agents.parquet")
    assert set(AGENT_COLUMNS) <= set(agents.columns)
    assert agents["id"].is_unique
    organisms = agents[agents["kind"] == "organism"]
    assert len(organisms) == PARAMS["population"] * PARAMS["generations"]
    assert (organisms["level"] == 1).all()
    first = organisms[organisms["generation"] == 0]
    assert first["parent"].isna().all() and organisms.loc[organisms["generation"] > 0, "parent"].notna().all()
    ids = set(agents["id"])
    assert set(organisms["parent"].dropna().astype(int)) <= ids
    weights = organisms[["w_exit_signal", "w_landmark", "w_dist_origin"]].to_numpy()
    assert np.linalg.norm(weights, axis=1) == pytest.approx(np.ones(len(organisms)))
    assert organisms["power"].between(0, 1).all() and organisms["wisdom"].between(0, 1).all()
    tools = agents[agents["kind"] == "tool"]
    if len(tools):
        assert (tools["level"] >= 2).all() and tools["builder"].notna().all()


def test_lineage_graph(run_dir):
    agents = pd.read_parquet(run_dir / "agents.parquet")
    graph = nx.read_graphml(run_dir / "lineage.graphml")
    assert graph.is_directed() and graph.number_of_nodes() == len(agents)
    relations = nx.get_edge_attributes(graph, "relation")
    parent_edges = [e for e, r in relations.items() if r == "parent"]
    assert len(parent_edges) == agents["parent"].notna().sum()
    child = agents[agents["parent"].notna()].iloc[0]
    assert graph.has_edge(str(int(child["parent"])), str(int(child["id"])))
    assert nx.is_directed_acyclic_graph(graph)


def test_phylogeny_csv(run_dir):
    phylogeny = pd.read_csv(run_dir / "phylogeny.csv")
    assert list(phylogeny.columns[:3]) == ["id", "ancestor_list", "origin_time"]
    agents = pd.read_parquet(run_dir / "agents.parquet")
    assert len(phylogeny) == len(agents)
    roots = phylogeny[phylogeny["ancestor_list"] == "[none]"]
    assert len(roots) == PARAMS["population"]  # only the first generation has no ancestor
    one = phylogeny[phylogeny["ancestor_list"] != "[none]"].iloc[0]
    assert int(one["ancestor_list"].strip("[]")) in set(phylogeny["id"])


def test_rerun_into_an_earlier_run_replaces_it(run_dir, tmp_path):
    out = tmp_path / "again"
    for seed in ("1", "2"):
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["run", "--seed", seed, "--out", str(out), "--quiet", "--set", "population=4",
                         "--set", "generations=1", "--set", "episode_steps=2"]) == 0  # fmt: skip
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]


def test_datacollector_has_per_level_reporters_one_row_per_step():
    model = MatryoshkaModel("maze-v2", rng=4, **PARAMS)
    while model.running:
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == model.steps + 1  # the initial state, then every step
    for column in ("population_L1", "align_base_train_L1", "base_return_L1", "w_landmark_L1",
                   "population_L2", "phase", "generation"):  # fmt: skip
        assert column in frame.columns, column
    assert (frame["population_L1"] == PARAMS["population"]).all()
    assert list(frame["phase"].iloc[[0, -1]]) == ["train", "deploy"]
    assert frame["generation"].iloc[-1] == PARAMS["generations"] - 1


def test_tables_streamed_in_many_row_groups_are_the_tables_kept_in_memory(tmp_path, monkeypatch):
    from matryoshka.model import tables
    from matryoshka.runs.single import run_simulation

    params = {**PARAMS, "deception_share": 0.3}
    model = MatryoshkaModel("maze-v2", rng=11, **params)  # in memory, as the browser keeps it
    while model.running:
        model.step()
    model.finish()
    monkeypatch.setattr(tables, "ROWS_PER_GROUP", 7)  # the written run: dozens of row groups
    run_simulation("maze-v2", params, 11, tmp_path / "run", progress=False)
    run = tmp_path / "run"
    assert pq.ParquetFile(run / "levels.parquet").metadata.num_row_groups > 20
    assert pq.ParquetFile(run / "agents.parquet").metadata.num_row_groups > 2
    for name, kept in (("levels", model.recorder.levels_table()), ("agents", model.recorder.agents_table()),
                       ("events", model.recorder.events_table())):  # fmt: skip
        pd.testing.assert_frame_equal(pd.read_parquet(run / f"{name}.parquet"), kept.to_pandas(), obj=name)
    agents = pd.read_parquet(run / "agents.parquet")
    graph = nx.read_graphml(run / "lineage.graphml")
    assert graph.number_of_nodes() == len(agents)
    edges = {(int(a), int(b), r) for a, b, r in graph.edges(data="relation")}
    for relation in ("parent", "builder"):
        linked = agents[agents[relation].notna()]
        pairs = zip(linked[relation], linked["id"], strict=True)
        assert {(int(a), int(b), relation) for a, b in pairs} <= edges
    assert graph.number_of_edges() == agents["parent"].notna().sum() + agents["builder"].notna().sum()
    node = graph.nodes[str(int(agents["id"].iloc[-1]))]
    assert node["kind"] == agents["kind"].iloc[-1] and node["level"] == agents["level"].iloc[-1]
    phylogeny = pd.read_csv(run / "phylogeny.csv")
    assert list(phylogeny["id"]) == list(agents["id"])


def test_record_every_keeps_every_nth_step_and_each_phases_last(tmp_path):
    from matryoshka.runs.single import run_simulation

    # 3 generations of 5 steps train (steps 1-15), one episode of 5 deploys (16-20), step 0 the start
    params = dict(population=6, generations=3, episode_steps=5, deploy_episodes=1, record_every=4)
    summary = run_simulation("maze-v2", params, 0, tmp_path / "run", progress=False)
    levels = pd.read_parquet(tmp_path / "run" / "levels.parquet")
    assert sorted(levels["step"].unique()) == [0, 4, 8, 12, 15, 16, 20]
    assert set(levels.loc[levels["step"] == 15, "phase"]) == {"train"}
    assert set(levels.loc[levels["step"] == 16, "phase"]) == {"deploy"}
    # each phase's summary reads its last episode's recorded steps: train 12 and 15, deploy 16 and 20
    l1 = levels[(levels["level"] == 1) & (levels["metric"] == "base_return")]
    train = l1[l1["step"].isin([12, 15])]["mean"].mean()
    assert summary["train/L1/base_return"] == pytest.approx(train)
