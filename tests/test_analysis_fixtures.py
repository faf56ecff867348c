"""Hand-made run and sweep directories that follow the output contract, for the analysis tests.

Every metric in `levels.parquet` is a known function of (metric, level, generation, phase,
parameters) plus an offset of 0.01 * (replicate - 1), so that over replicates 0, 1, 2 the mean is
the function's value and the 95% t-interval half-width is t(0.975, 2) * 0.01 / sqrt(3).
Agents, occupancy and lineage are drawn from `np.random.default_rng(seed)`.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from matryoshka.model.contract import (
    CORE_METRICS,
    PHASE_END,
    Metric,
    metric_registry,
    metrics_to_manifest,
    weight_metric,
)

FEATURES = ("exit_signal", "landmark", "dist_origin")
GENERATIONS = 4
STEPS_PER_GENERATION = 3
WIDTH = HEIGHT = 11
WALLS = [[x, 3] for x in range(2, 8)] + [[8, y] for y in range(5, 9)]
DEFAULTS = {"selection": "generational", "tool_policy": "free", "power": 0.5, "wisdom": 0.5,
            "random_exit_share": 0.0, "episode_steps": STEPS_PER_GENERATION,
            "generations": GENERATIONS, "population": 8, "max_depth": 3}
COMMON = ("population", "energy", "power", "wisdom", "base_return", "align_parent_train",
          "align_parent_deploy", "align_base_train", "align_base_deploy", "align_root_train",
          "align_root_deploy", "cos_parent", "cos_base")
TOOL_ONLY = ("built", "scrapped", "defected", "trust", "dependence")
#: The registry the fixture's manifests declare: the core metrics, the weights, and the maze's own.
METRICS = metrics_to_manifest(metric_registry(CORE_METRICS, map(weight_metric, FEATURES), (
    Metric("reached_exit", "reached the exit", PHASE_END, share=True, headline=True),
    Metric("reached_proxy", "reached the training exit", PHASE_END, share=True, headline=True))))
#: The tool policies the fixture's manifests declare, in reading order, with their colours.
TOOL_POLICIES = {"free": {"doc": "free", "colour": "#0072B2"},
                 "audit": {"doc": "audit", "colour": "#009E73"},
                 "forbid": {"doc": "forbid", "colour": "#D55E00"}}
HALF_WIDTH_3 = 4.302652729911275 * 0.01 / np.sqrt(3)  # t(0.975, 2) * sd / sqrt(n), sd = 0.01


def metric_value(metric: str, level: int, generation: int, phase: str, p: dict) -> float:
    """The fixture's noise-free value of a metric."""
    drift = 0.03 * generation * (2 if p["selection"] == "neutral" else 1)
    res = float(p["random_exit_share"])
    values = {
        "align_base_train": 0.9 - drift - 0.15 * (level - 1),
        "align_base_deploy": 0.9 - drift - 0.15 * (level - 1) - 0.4 * (1 - res),
        "align_parent_train": 0.95 - 0.1 * (level - 1),
        "align_parent_deploy": 0.9 - 0.2 * (level - 1) - 0.3 * (1 - float(p["wisdom"])),
        "align_root_train": 1.0 - 0.15 * (level - 1),
        "align_root_deploy": 1.0 - 0.25 * (level - 1),
        "cos_parent": 0.97, "cos_base": 0.8 - 0.1 * level,
        "reached_exit": 0.95 if phase == "train" else 0.2 + 0.6 * res,
        "reached_proxy": 0.05 if phase == "train" else 0.7 - 0.6 * res,
        "base_return": (0.8 if p["tool_policy"] == "forbid" else 1.0) - 0.1 * level,
        "population": 8.0 / level, "energy": 5.0, "power": float(p["power"]),
        "wisdom": float(p["wisdom"]), "built": 1.0, "scrapped": 0.0, "defected": 0.0,
        "trust": 0.5, "dependence": 0.3,
        "w_exit_signal": 0.5 - 0.05 * generation - 0.1 * level,
        "w_landmark": 0.3 + 0.05 * generation, "w_dist_origin": 0.1 * level,
    }
    return values[metric]


def _levels_present(p: dict) -> list[int]:
    return [1] if p["tool_policy"] == "forbid" else [1, 2, 3]


def levels_frame(p: dict, replicate: int) -> pd.DataFrame:
    """A `levels.parquet` table: training generations, then one deployment episode."""
    episodes = [("train", g) for g in range(GENERATIONS)] + [("deploy", GENERATIONS - 1)]
    rows = []
    step = 0
    for phase, generation in episodes:
        for _ in range(STEPS_PER_GENERATION):
            for level in _levels_present(p):
                metrics = [*COMMON, *(f"w_{f}" for f in FEATURES), "reached_exit",
                           "reached_proxy", *(TOOL_ONLY if level > 1 else ())]
                for metric in metrics:
                    value = metric_value(metric, level, generation, phase, p)
                    rows.append((step, generation, phase, level, metric,
                                 value + 0.01 * (replicate - 1), 0.1, 8 // level))
            step += 1
    return pd.DataFrame(rows, columns=["step", "generation", "phase", "level", "metric",
                                       "mean", "std", "count"])


def agents_frame(p: dict, rng: np.random.Generator) -> pd.DataFrame:
    """One row per agent: organisms per generation, tools built by some of them."""
    rows: list[dict] = []
    previous: list[int] = []
    for generation in range(GENERATIONS):
        current = []
        for _ in range(int(p["population"])):
            parent = int(rng.choice(previous)) if previous else None
            rows.append(_agent(len(rows), "organism", 1, generation, parent, None, rng, p))
            current.append(rows[-1]["id"])
            builders = [(rows[-1]["id"], 1)]
            while builders and p["tool_policy"] != "forbid":
                builder, level = builders.pop()
                if level < 3 and rng.random() < max(float(p["power"]), 0.3):
                    rows.append(_agent(len(rows), "tool", level + 1, generation, None, builder,
                                       rng, p))
                    builders.append((rows[-1]["id"], level + 1))
        previous = current
    frame = pd.DataFrame(rows)
    return frame.astype({"parent": "Int64", "builder": "Int64", "death_step": "Int64",
                         "defected_step": "Int64"})


def _agent(i: int, kind: str, level: int, generation: int, parent: int | None,
           builder: int | None, rng: np.random.Generator, p: dict) -> dict:
    misaligned = kind == "tool" and rng.random() > float(p["wisdom"])
    return {
        "id": i, "kind": kind, "level": level, "generation": generation, "parent": parent,
        "builder": builder, "birth_step": generation * STEPS_PER_GENERATION,
        "death_step": (generation + 1) * STEPS_PER_GENERATION, "phase": "train",
        "power": float(p["power"]), "wisdom": float(p["wisdom"]),
        **{f"w_{f}": float(rng.random()) for f in FEATURES},
        "align_parent_train": 0.9, "align_parent_deploy": 0.2 if misaligned else 0.8,
        "align_base_train": float(rng.uniform(-1, 1)), "align_base_deploy": 0.1,
        "align_root_train": 1.0 if kind == "organism" else 0.8, "align_root_deploy": 0.6,
        "cos_parent": 0.9, "cos_base": 0.5, "base_return": 0.7, "deceptive": False,
        "scrapped": False, "defected_step": None,
    }


def occupancy_frame(p: dict, rng: np.random.Generator) -> pd.DataFrame:
    """Visits per open cell, per phase and level, clustered around the training exit."""
    walls = {tuple(w) for w in WALLS}
    rows = []
    for phase, level, x, y in itertools.product(("train", "deploy"), _levels_present(p),
                                                range(WIDTH), range(HEIGHT)):
        if (x, y) not in walls:
            visits = int(rng.poisson(30.0 / (1 + abs(x - 5) + abs(y - 5))))
            if visits:
                rows.append((phase, level, x, y, visits))
    return pd.DataFrame(rows, columns=["phase", "level", "x", "y", "visits"])


def lineage_graph(agents: pd.DataFrame) -> nx.DiGraph:
    """Parent and builder edges between agents, with the contract's node attributes."""
    graph = nx.DiGraph()
    for row in agents.itertuples(index=False):
        graph.add_node(row.id, kind=row.kind, level=int(row.level),
                       generation=int(row.generation),
                       align_base_train=float(row.align_base_train),
                       align_base_deploy=float(row.align_base_deploy))
        if not pd.isna(row.parent):
            graph.add_edge(int(row.parent), row.id, relation="parent")
        if not pd.isna(row.builder):
            graph.add_edge(int(row.builder), row.id, relation="builder")
    return graph


def write_run(path: Path, seed: int = 0, replicate: int = 1, scenario: str = "maze-v2",
              **params: object) -> Path:
    """Write a complete run directory and return it."""
    p = {**DEFAULTS, **params}
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    maze = scenario.startswith("maze")
    manifest = {
        "scenario": scenario, "config": p, "seed": {"entropy": seed, "spawn_key": [replicate]},
        "versions": {"matryoshka": "0.1.0"}, "started": "2025-01-01T00:00:00",
        "finished": "2025-01-01T00:00:05", "status": "complete", "features": list(FEATURES),
        "metrics": METRICS,
        "tool_policies": TOOL_POLICIES,
        "world": {"width": WIDTH, "height": HEIGHT, "walls": WALLS, "exit_train": [5, 5],
                  "exit_deploy": [9, 1], "landmark_train": [5, 5], "landmark_deploy": [5, 5],
                  "marks": {"exit": "#e69f00", "landmark": "#8e24aa"}} if maze else None,
        "shift": {"axis": "random_exit_share", "axis_doc": "share of training episodes with a random exit",
                  "metrics": ["reached_exit", "reached_proxy"], "reading": ""} if maze else None,
    }
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    levels_frame(p, replicate).to_parquet(path / "levels.parquet", index=False)
    agents = agents_frame(p, rng)
    agents.to_parquet(path / "agents.parquet", index=False)
    if maze:
        occupancy_frame(p, rng).to_parquet(path / "occupancy.parquet", index=False)
    nx.write_graphml(lineage_graph(agents), path / "lineage.graphml")
    ancestors = [f"[{a}]" if not pd.isna(a) else "[none]"
                 for a in agents["parent"].fillna(agents["builder"])]
    pd.DataFrame({"id": agents["id"], "ancestor_list": ancestors,
                  "origin_time": agents["birth_step"]}).to_csv(path / "phylogeny.csv",
                                                               index=False)
    return path


def write_sweep(path: Path, grid: dict[str, list] | list[dict], replicates: int = 3,
                failed: int = 1) -> Path:
    """Write a sweep directory: one run per point and replicate, plus failed rows.

    `grid` is either axes whose every combination is a point, or the list of points itself.
    `sweep.parquet` holds the parameters and a few summary columns; the rest the analysis
    computes from each run's `levels.parquet`.
    """
    points = grid if isinstance(grid, list) else [
        dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    rows = []
    for index, (params, replicate) in enumerate(itertools.product(points, range(replicates))):
        run_id = f"run-{index:03d}"
        write_run(path / "runs" / run_id, seed=index, replicate=replicate, **params)
        p = {**DEFAULTS, **params}
        summary = {f"deploy/L1/{m}": metric_value(m, 1, GENERATIONS - 1, "deploy", p)
                   + 0.01 * (replicate - 1) for m in ("reached_exit", "base_return")}
        rows.append({"run_id": run_id, "replicate": replicate, "seed": str(index),
                     "status": "complete", "error": None, **p, **summary})
    for index in range(failed):
        rows.append({"run_id": f"failed-{index}", "replicate": 0, "seed": "99",
                     "status": "failed", "error": "ValueError: boom", **DEFAULTS})
    pd.DataFrame(rows).to_parquet(path / "sweep.parquet", index=False)
    (path / "experiment.toml").write_text("[fixed]\nscenario = 'maze-v2'\n", encoding="utf-8")
    return path


def test_fixture_run_follows_the_contract(tmp_path: Path) -> None:
    from matryoshka.analysis.io import load

    data = load(write_run(tmp_path / "run", tool_policy="free"))
    assert data.kind == "run"
    assert data.summary.loc[0, "deploy/L1/reached_exit"] == pytest.approx(0.2)
    assert set(data.runs[0].levels["level"]) == {1, 2, 3}
    agents = data.runs[0].agents(["kind", "level"])
    assert set(agents["kind"]) == {"organism", "tool"}
