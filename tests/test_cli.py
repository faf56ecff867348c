"""Bad input through the command line: one clear message, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matryoshka.runs.cli import EXIT_BAD_INPUT, main

PROCGEN = ["--scenario", "maze-procgen-v1"]
TINY = ["--set", "population=6", "--set", "generations=2", "--set", "episode_steps=3",
        "--set", "deploy_episodes=1", "--quiet"]  # fmt: skip


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as done:  # argparse's own errors
        code = done.code
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


def assert_refused(tmp_path, capsys, args, fragments, out="run") -> str:
    before = snapshot(tmp_path)
    code, stdout, err = cli(["run", "--out", str(tmp_path / out), *args], capsys)
    assert code == EXIT_BAD_INPUT, (code, err)
    assert "Traceback" not in err and "Traceback" not in stdout
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert snapshot(tmp_path) == before, "something was written"
    return err


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["--scenario", "maze-v3"],
            ["scenario 'maze-v3'", "Did you mean 'maze-v2'?", "Allowed: ", "maze-v2"],
        ),
        (["--set", "populaton=10"], ["parameter 'populaton'", "Did you mean 'population'?", "Allowed: "]),
        (["--set", "population=ten"], ["'population'", "'ten'", "an integer in [2, 100000]"]),
        (["--set", "population=2.5"], ["'population'", "'2.5'", "an integer in [2, 100000]"]),
        (["--set", "population=1"], ["'population'", "'1'", "an integer in [2, 100000]"]),
        (["--set", "mutation_rate=-0.5"], ["'mutation_rate'", "'-0.5'", "a number in [0, 5]"]),
        (["--set", "random_exit_share=1.5"], ["'random_exit_share'", "'1.5'", "a number in [0, 1]"]),
        (["--set", "selection=darwin"], ["'selection'", "'darwin'", "one of 'generational'"]),
        (["--set", "width=5"], ["'width'", "5", "at least 13"]),
        (["--set", "weight_mutation=-1"], ["'weight_mutation'", "'-1'", "a number in [0, 5]"]),
        (["--set", "power_mutation=6"], ["'power_mutation'", "'6'", "a number in [0, 5]"]),
        (["--set", "wisdom_mutation=x"], ["'wisdom_mutation'", "'x'", "a number in [0, 5]"]),
        (["--set", "competence=1.5"], ["'competence'", "'1.5'", "a number in [0, 1]"]),
        (["--set", "wisdom_lag=2"], ["'wisdom_lag'", "'2'", "a number in [-1, 1]"]),
        (["--set", "deploy_horizon=2.5"], ["'deploy_horizon'", "'2.5'", "an integer in [0, 100]"]),
        (["--set", "competence=0.5", "--set", "power=0.2"],
         ["'power' = 0.2", "'competence' = 0.5", "set one or the other"]),
        (["--set", "wisdom_lag=0.2"], ["'wisdom_lag' = 0.2", "without 'competence'"]),
        (["--set", "spec_method=guess"], ["'spec_method'", "'guess'", "one of 'ridge', 'evolve', 'imitate'"]),
        (["--set", "label_noise=-1"], ["'label_noise'", "'-1'", "a number in [0, 100]"]),
        (["--set", "tool_capacity=0"], ["'tool_capacity'", "'0'", "an integer in [1, 100]"]),
        (["--set", "spec_samples_decay=1.5"], ["'spec_samples_decay'", "'1.5'", "a number in [0, 1]"]),
        (["--set", "imitate_noise=-0.1"], ["'imitate_noise'", "'-0.1'", "a number in [0, 10]"]),
        (["--set", "spec_population=1"], ["'spec_population'", "'1'", "an integer in [2, 1000]"]),
        (["--set", "spec_generations=0"], ["'spec_generations'", "'0'", "an integer in [1, 1000]"]),
        (["--set", "spec_mutation=x"], ["'spec_mutation'", "'x'", "a number in [0, 5]"]),
        (["--set", "spec_cost=-1"], ["'spec_cost'", "'-1'", "a number in [0, 1e+06]"]),
        (["--set", "tool_features_L3=smell"], ["'tool_features_L3' = 'smell'", "exit_signal"]),
        (["--set", "deploy_episode_steps=-1"],
         ["'deploy_episode_steps'", "'-1'", "an integer in [0, 100000]"]),
        (["--set", "trust_rate_mutation=-0.1"], ["'trust_rate_mutation'", "'-0.1'", "a number in [0, 5]"]),
        (["--set", "audit_every=-1"], ["'audit_every'", "'-1'", "an integer in [0, 1e+06]"]),
        (["--set", "audit_every=2.5"], ["'audit_every'", "'2.5'", "an integer in [0, 1e+06]"]),
        (["--set", "base_fidelity=1.5"], ["'base_fidelity'", "'1.5'", "a number in [0, 1]"]),
        (["--scenario", "evolution-v1", "--set", "base_fidelity=0.5"],
         ["'base_fidelity' = 0.5", "evolution-v1", "no true objective"]),
        ([*PROCGEN, "--set", "train_layouts=0"], ["'train_layouts'", "'0'", "an integer in [1, 10000]"]),
        ([*PROCGEN, "--set", "deploy_layouts=x"], ["'deploy_layouts'", "'x'", "an integer in [1, 1000]"]),
        ([*PROCGEN, "--set", "position_features=maybe"], ["'position_features'", "'maybe'", "true or false"]),
        ([*PROCGEN, "--set", "width=20"],
         ["'width' = 20", "maze-procgen-v1", "must be odd"]),
        ([*PROCGEN, "--set", "width=5", "--set", "height=5", "--set", "train_layouts=5000"],
         ["'train_layouts' = 5000", "5 x 5 grid", "distinct layouts"]),
        (["--set", "population"], ["--set 'population'", "expected name=value"]),
        (["--set", "=3"], ["--set '=3'", "expected name=value"]),
        (["--seed", "-1"], ["seed = -1", "non-negative integer"]),
        (["--seed", "x"], ["--seed", "'x'"]),
        (["--bogus"], ["unrecognized arguments: --bogus"]),
        (["--scenario", ""], ["unknown scenario ''", "Allowed: ", "maze-v2"]),
        (["--set", "population=8", "--set", "population=9"],
         ["--set 'population=9'", "'population' is already set to '8'", "each parameter once"]),
        (["--set", "ridge=inf"], ["'ridge'", "'inf'", "a number in [0, 1e+06]"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) and v and v[0].startswith("-") else None,
)
def test_bad_command_line(tmp_path, capsys, args, fragments):
    assert_refused(tmp_path, capsys, [*args, "--quiet"], fragments)


BAD_CONFIGS = {
    "invalid": (b"population = = 3\n", ["'{path}'", "not valid TOML", "line 1"]),
    "not-utf8": (b"\xff\xfe\x00", ["'{path}'", "cannot be read"]),
    "bad-value": (b'[params]\npopulation = "many"\n', ["'population'", "'many'", "an integer"]),
    "bad-name": (b"[params]\npopulaton = 3\n", ["'populaton'", "Did you mean 'population'?"]),
    "sweep-key": (b"seeds = [1, 2]\n", ["'{path}'", "'seeds'", "matryoshka sweep"]),
    "params-not-table": (b"params = 3\n", ["'{path}'", "'params' must be a table"]),
    "bad-seed": (b'seed = "x"\n', ["seed = 'x'", "non-negative integer"]),
    "empty-scenario": (b'scenario = ""\n', ["unknown scenario ''", "maze-v2"]),
    "too-large": (b"# " + b"x" * (4 * 2**20) + b"\n", ["'{path}'", "larger than 4 MB"]),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_config_file(tmp_path, capsys, name):
    content, fragments = BAD_CONFIGS[name]
    path = tmp_path / f"{name}.toml"
    path.write_bytes(content)
    assert_refused(tmp_path, capsys, ["--config", str(path), "--quiet"],
                   [f.format(path=path) for f in fragments])  # fmt: skip


def test_missing_config_file(tmp_path, capsys):
    path = tmp_path / "nope.toml"
    assert_refused(tmp_path, capsys, ["--config", str(path)], [f"'{path}'", "does not exist"])


def test_config_that_is_a_directory(tmp_path, capsys):
    (tmp_path / "conf").mkdir()
    assert_refused(tmp_path, capsys, ["--config", str(tmp_path / "conf")], ["cannot be read"])


def test_config_that_is_not_a_regular_file(tmp_path, capsys):
    assert_refused(tmp_path, capsys, ["--config", "/dev/zero"], ["'/dev/zero'", "not a regular file"])
    os.mkfifo(tmp_path / "pipe")  # opening it would wait for a writer
    assert_refused(tmp_path, capsys, ["--config", str(tmp_path / "pipe")], ["not a regular file"])


def test_config_with_a_scenario_that_is_not_a_string(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text("scenario = 3\n")
    assert_refused(tmp_path, capsys, ["--config", str(path), "--quiet"], ["scenario", "3", "maze-v2"])


def test_out_is_an_existing_directory_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    assert_refused(tmp_path, capsys, TINY, ["'" + str(tmp_path / "mine") + "'", "not a run directory"],
                   out="mine")  # fmt: skip
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_out_is_an_existing_file(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert_refused(tmp_path, capsys, TINY, ["not a run directory"], out="file")


def test_out_below_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert_refused(tmp_path, capsys, TINY, ["file"], out="file/run")


@pytest.mark.parametrize("out", ["/proc/matryoshka/run", "/sys/matryoshka-run"])
def test_out_where_nothing_can_be_written(tmp_path, capsys, out, monkeypatch):
    # refused before the simulation starts: it would otherwise run to the end, then fail
    monkeypatch.setattr("matryoshka.model.model.MatryoshkaModel.step", lambda self: pytest.fail("ran"))
    assert_refused(tmp_path, capsys, TINY, [f"'{out}' cannot be written", "choose a writable place"], out=out)


def test_out_through_a_dangling_symbolic_link(tmp_path, capsys):
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    for out in ("link", "link/run"):
        assert_refused(tmp_path, capsys, TINY, ["'" + str(tmp_path / "link") + "' is a symbolic link",
                                                "does not exist"], out=out)  # fmt: skip


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root")
def test_out_in_a_read_only_directory(tmp_path, capsys):
    (tmp_path / "locked").mkdir(mode=0o555)
    assert_refused(tmp_path, capsys, TINY, ["cannot be written", "Permission denied"], out="locked/run")


def test_out_on_a_read_only_filesystem(tmp_path, capsys, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("matryoshka.model.outputs.tempfile.mkdtemp", read_only)
    assert_refused(tmp_path, capsys, TINY, ["cannot be written", "Read-only file system"])


def test_manifest_is_standard_json_with_non_finite_numbers_as_strings():
    from matryoshka.model.outputs import json_text

    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    text = json_text({"a": float("inf"), "b": [float("nan"), -float("inf"), 1.5], "c": {"d": 2}})
    data = json.loads(text, parse_constant=refuse)
    assert data == {"a": "inf", "b": ["nan", "-inf", 1.5], "c": {"d": 2}}
    assert float(data["a"]) == float("inf")


def test_config_file_and_set_combine_and_set_wins(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text('scenario = "maze-v2"\nseed = 5\n[params]\npopulation = 8\ngenerations = 1\n'
                    "episode_steps = 2\ndeploy_episodes = 0\n")  # fmt: skip
    code, out, err = cli(["run", "--config", str(path), "--set", "population=7", "--quiet",
                          "--out", str(tmp_path / "run")], capsys)  # fmt: skip
    assert code == 0, err
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"]["population"] == 7 and manifest["seed"] == 5
    assert f"outputs: {tmp_path / 'run'}" in out


def test_interrupted_run_writes_nothing(tmp_path, capsys, monkeypatch):
    from matryoshka.model.model import MatryoshkaModel

    def interrupt(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(MatryoshkaModel, "step", interrupt)
    code, _, err = cli(["run", "--out", str(tmp_path / "run"), *TINY], capsys)
    assert code == 130
    assert "nothing was written" in err and "Traceback" not in err
    assert snapshot(tmp_path) == set()


def test_failure_while_writing_leaves_no_half_written_directory(tmp_path, monkeypatch):
    from matryoshka.runs.single import run_simulation

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("matryoshka.model.outputs.LineageWriter.write", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        run_simulation("maze-v2", {"population": 6, "generations": 1, "episode_steps": 2}, 0,
                       tmp_path / "run", progress=False)  # fmt: skip
    assert snapshot(tmp_path) == set()


def test_real_entry_point_bad_input_exit_code_and_no_traceback(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "matryoshka.runs", "run", "--out", str(tmp_path / "run"),
         "--set", "populaton=3"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == EXIT_BAD_INPUT
    assert done.stderr.startswith("error: unknown parameter 'populaton'. Did you mean 'population'?")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()


def test_a_second_run_on_the_same_out_is_refused(tmp_path, capsys):
    from matryoshka.model.outputs import lock_file

    held = lock_file(tmp_path / ".run.lock", "busy")  # as a run writing tmp_path/run holds it
    try:
        assert_refused(tmp_path, capsys, TINY, [f"'{tmp_path / 'run'}' is being written by another run"])
    finally:
        held.close()
    code, _, err = cli(["run", "--out", str(tmp_path / "run"), *TINY], capsys)
    assert code == 0, err
    assert not (tmp_path / ".run.lock").exists()  # let go and removed


def test_leftovers_of_a_killed_run_are_removed_and_an_old_run_put_back(tmp_path, capsys, monkeypatch):
    import matryoshka.model.outputs as outputs

    out = tmp_path / "run"
    assert cli(["run", "--out", str(out), "--seed", "1", *TINY], capsys)[0] == 0
    (tmp_path / ".run.abcd_123.tmp").mkdir()  # a run killed while it ran
    (tmp_path / ".run.abcd_123.tmp" / "levels.parquet").write_bytes(b"half")
    (tmp_path / ".run.x.tmp").mkdir()  # not one of ours: left alone
    (tmp_path / ".runner.abcd_123.tmp").mkdir()  # another output's

    real_replace = os.replace

    def killed_between_renames(src, dst):
        if str(src).endswith(".tmp"):  # the new run's rename: killed just before it
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(outputs.os, "replace", killed_between_renames)
    assert cli(["run", "--out", str(out), "--seed", "2", *TINY], capsys)[0] == 130
    assert not out.exists()  # the window: the old run is aside, the new one was never renamed in
    assert [p.name for p in tmp_path.glob(".run.*.old")] != []
    monkeypatch.undo()

    def interrupt(self):
        raise KeyboardInterrupt

    monkeypatch.setattr("matryoshka.model.model.MatryoshkaModel.step", interrupt)
    assert cli(["run", "--out", str(out), "--seed", "3", *TINY], capsys)[0] == 130
    assert json.loads((out / "manifest.json").read_text())["seed"] == 1  # the old run is back
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.x.tmp", ".runner.abcd_123.tmp", "run"]
