"""Rules between parameters: checked when parameters are parsed, before anything runs or is written.

Each rule is refused three ways: by ``validate`` (the model and every parser call it), by
``matryoshka run`` and by ``matryoshka sweep`` on an experiment with one offending grid point; the
commands exit with code 2, print one ``error:`` line and write nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.params import ConfigError, validate
from matryoshka.runs.cli import EXIT_BAD_INPUT, main

TINY = {"population": 6, "generations": 1, "episode_steps": 3, "deploy_episodes": 1}

# (scenario, fixed parameters, the parameter the rule is about, an allowed value of it, a refused
# one, message fragments)
RULES = {
    "shift after the end": (
        "evolution-v1", {"selection": "steady_state", "total_steps": 20}, "shift_at", 20, 21,
        ["'shift_at' = 21", "'total_steps' = 20", "shift_at <= total_steps"],
    ),
    "maze too small for its exit": (
        "maze-v2", {}, "height", 13, 12, ["'height' = 12", "maze-v2", "(10, 10)", "at least 13"],
    ),
    "tools perceive a feature the scenario lacks": (
        "approval-v1", {}, "tool_features", "believability", "believability,exit_signal",
        ["'tool_features' = 'believability,exit_signal'", "approval-v1", "accuracy, believability, length"],
    ),
    "tools of one level perceive nothing nameable": (
        "maze-v2", {}, "tool_features_L3", "landmark", ",",
        ["'tool_features_L3' = ','", "exit_signal, landmark, dist_origin"],
    ),
}  # fmt: skip


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    """Run the command line; assert exit code 2, one error line and nothing written."""
    before = set(tmp_path.rglob("*"))
    assert main(args) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err + captured.out
    assert set(tmp_path.rglob("*")) == before, "something was written"
    return lines[0]


@pytest.mark.parametrize("rule", sorted(RULES))
def test_validate_refuses(rule):
    scenario, fixed, key, good, bad, fragments = RULES[rule]
    assert MatryoshkaModel(scenario, rng=1, **TINY, **fixed, **{key: good}).config[key] == good
    with pytest.raises(ConfigError) as err:
        MatryoshkaModel(scenario, rng=1, **TINY, **fixed, **{key: bad})
    for fragment in fragments:
        assert fragment in str(err.value)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_run_refuses_before_writing(rule, tmp_path, capsys):
    scenario, fixed, key, _, bad, fragments = RULES[rule]
    sets = [f"--set={k}={v}" for k, v in {**TINY, **fixed, key: bad}.items()]
    line = refused(tmp_path, capsys, ["run", "--scenario", scenario, "--out", str(tmp_path / "run"),
                                      "--quiet", *sets])  # fmt: skip
    for fragment in fragments:
        assert fragment in line


def toml_value(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_a_sweep_with_one_bad_point_stops_before_the_first_run(rule, tmp_path, capsys):
    scenario, fixed, key, good, bad, fragments = RULES[rule]
    params = "\n".join(f"{k} = {toml_value(v)}" for k, v in {**TINY, **fixed}.items())
    path = tmp_path / "bad.toml"
    path.write_text(f'scenario = "{scenario}"\n[params]\n{params}\n[sweep]\n'
                    f"{key} = [{toml_value(good)}, {toml_value(bad)}]\n")  # fmt: skip
    line = refused(tmp_path, capsys, ["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    assert f"grid point {{'{key}': {bad!r}}}" in line
    for fragment in fragments:
        assert fragment in line


def test_the_shift_may_come_at_the_last_step_and_only_steady_state_has_one():
    assert validate({"selection": "steady_state", "shift_at": 50, "total_steps": 50})["shift_at"] == 50
    assert validate({"selection": "generational", "shift_at": 90, "total_steps": 50})["shift_at"] == 90
