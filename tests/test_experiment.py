"""Experiment files: grid and zip expansion, seeds, validation errors, the effective TOML."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from matryoshka.model.params import ConfigError
from matryoshka.runs.experiment import parse
from matryoshka.runs.toml_writer import dumps

BASE = {"name": "t", "scenario": "maze-v2", "params": {"population": 20}}


def experiment(**parts):
    return parse({**BASE, **parts}, source="t.toml")


def test_grid_times_seeds_in_known_order():
    exp = experiment(
        sweep={"tool_policy": ["free", "forbid", "audit"], "power": [0.2, 1]},
        seeds={"count": 2, "root": 7},
    )
    runs = exp.runs()
    assert len(runs) == 12
    assert [r.run_id for r in runs[:3]] == ["r0000", "r0001", "r0002"]
    # grid point major, replicate minor; the last axis varies fastest
    expected = [(tp, pw, k) for tp in ("free", "forbid", "audit") for pw in (0.2, 1.0) for k in (0, 1)]
    assert [(r.params["tool_policy"], r.params["power"], r.replicate) for r in runs] == expected
    assert all(r.params["population"] == 20 for r in runs)
    assert isinstance(runs[2].params["power"], float)  # 1 coerced to the parameter's type
    assert runs[5].seed_label == "7/1"


def test_zip_groups_vary_together_and_multiply_the_grid():
    exp = experiment(
        sweep={"selection": ["generational", "neutral"]},
        zip=[{"power": [0.2, 0.8, 0.8], "wisdom": [0.8, 0.2, 0.8]}],
    )
    points = exp.points()
    assert len(points) == 6
    assert points[:3] == [
        {"selection": "generational", "power": 0.2, "wisdom": 0.8},
        {"selection": "generational", "power": 0.8, "wisdom": 0.2},
        {"selection": "generational", "power": 0.8, "wisdom": 0.8},
    ]
    assert points[3]["selection"] == "neutral"
    assert exp.columns() == ["population", "selection", "power", "wisdom"]


def test_replicate_seeds_are_spawned_from_the_root():
    exp = experiment(sweep={"tool_policy": ["free", "forbid"]}, seeds={"count": 3, "root": 2026})
    children = np.random.SeedSequence(2026).spawn(3)
    runs = exp.runs()
    for run in runs:
        child = children[run.replicate]
        assert run.seed.spawn_key == child.spawn_key
        assert np.array_equal(run.seed.generate_state(4), child.generate_state(4))
    # common random numbers: the same replicate seeds at every grid point
    assert [r.seed_label for r in runs] == ["2026/0", "2026/1", "2026/2"] * 2


def test_a_seed_list_picks_replicates():
    exp = experiment(seeds={"list": [4, 1], "root": 3})
    assert [r.replicate for r in exp.runs()] == [4, 1]
    assert np.array_equal(exp.runs()[0].seed.generate_state(2),
                          np.random.SeedSequence(3).spawn(5)[4].generate_state(2))


def test_defaults_one_point_one_seed():
    runs = parse({}, source="t.toml", default_name="t").runs()
    assert len(runs) == 1
    assert runs[0].seed_label == "0/0"
    assert runs[0].params == {}


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"sweeps": {}}, "unknown top-level key 'sweeps'. Did you mean 'sweep'?"),
        ({"scenario": "maze-v3"}, "unknown scenario 'maze-v3'. Did you mean 'maze-v2'?"),
        ({"params": {"populaton": 3}}, "[params]: unknown parameter 'populaton'. Did you mean 'population'?"),
        ({"params": {"population": 1}}, "[params]: parameter 'population' = 1 is not allowed"),
        ({"sweep": {"tool_polcy": ["free"]}}, "unknown parameter 'tool_polcy'. Did you mean 'tool_policy'?"),
        ({"sweep": {"tool_policy": ["free", "fre"]}}, "parameter 'tool_policy' = 'fre' is not allowed: "
         "expected one of 'free', 'audit', 'oversight', 'forbid'"),
        ({"sweep": {"power": []}}, "'power' = [] is not allowed: expected a non-empty list"),
        ({"sweep": {"power": 0.5}}, "'power' = 0.5 is not allowed: expected a non-empty list"),
        ({"sweep": {"power": [0.5, 0.5]}}, "'power' lists 0.5 twice"),
        ({"sweep": {"population": [10, 20]}}, "'population' is set both in [params] and in [sweep]"),
        ({"sweep": {"power": [0.1]}, "zip": [{"power": [0.2], "wisdom": [0.3]}]},
         "'power' is set both in [sweep] and in [[zip]] group 1"),
        ({"zip": [{"power": [0.2, 0.8], "wisdom": [0.8]}]},
         "[[zip]] group 1: lists of unequal length ('power' has 2, 'wisdom' has 1)"),
        ({"zip": [{"power": [0.2, 0.2], "wisdom": [0.8, 0.8]}]}, "appears twice"),
        ({"zip": [{}]}, "[[zip]] group 1 is empty"),
        ({"zip": [{"power": [0.2, 1.5], "wisdom": [0.8, 0.2]}]}, "parameter 'power' = 1.5 is not allowed"),
        ({"seeds": {"count": 0}}, "count = 0 is not allowed: expected an integer >= 1"),
        ({"seeds": {"count": 2, "list": [1]}}, "both 'count' and 'list' are set"),
        ({"seeds": {"list": [1, 1]}}, "repeats a replicate"),
        ({"seeds": {"root": -1}}, "root = -1 is not allowed"),
        ({"seeds": {"cont": 3}}, "unknown key 'cont'. Did you mean 'count'?"),
        ({"name": ""}, "'name' = '' is not allowed"),
        ({"params": [1]}, "'params' = [1] is not allowed: expected a table [params]"),
    ],
)
def test_validation_errors_name_key_value_and_what_is_allowed(parts, message):
    with pytest.raises(ConfigError) as info:
        experiment(**parts)
    assert str(info.value).startswith("experiment 't.toml'")
    assert message in str(info.value)


def test_the_effective_experiment_reads_back_the_same():
    exp = experiment(
        description='quotes " and \\ and\nnewlines',
        sweep={"tool_policy": ["free", "audit"], "build_cost": [1, 1e6]},
        zip=[{"power": [0.2, 0.8], "deploy_episodes": [1, 2]}],
        seeds={"list": [2, 0], "root": 9},
    )
    text = exp.to_toml("t.toml")
    again = parse(tomllib.loads(text), source="written")
    assert again == exp
    assert [r.seed_label for r in again.runs()] == [r.seed_label for r in exp.runs()]


def test_toml_writer_round_trip():
    data = {"a": "x\x7fy", "b": 1e-05, "c": [True, False], "t": {"k": [1, 2]}, "z": [{"p": 0.1}],
            "i": [float("inf"), -float("inf")]}
    assert tomllib.loads(dumps(data)) == data
