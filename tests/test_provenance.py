"""Provenance: a run's manifest names its source revision, scenario, constants and stream seeds."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.streams import STREAMS
from matryoshka.runs import provenance
from matryoshka.runs.single import run_simulation

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
TINY = dict(population=12, generations=1, episode_steps=4, deploy_episodes=1)


def git(where: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small committed checkout laid out like the project's."""
    root = tmp_path / "checkout"
    (root / "model").mkdir(parents=True)
    (root / "model" / "model.py").write_text("x = 1\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'matryoshka'\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "first")
    return root


def test_a_clean_checkout_records_its_commit(repo):
    source = provenance.source_revision(repo)
    assert source["commit"] == git(repo, "rev-parse", "HEAD") and len(source["commit"]) == 40
    assert source["dirty"] is False


@pytest.mark.parametrize("change", ["edit", "untracked"])
def test_a_changed_checkout_is_dirty(repo, change):
    if change == "edit":
        (repo / "model" / "model.py").write_text("x = 2\n")
    else:
        (repo / "model" / "new.py").write_text("y = 1\n")
    assert provenance.source_revision(repo)["dirty"] is True


def test_a_package_inside_another_repository_is_not_a_checkout(repo):
    """As a wheel installed into a virtual environment that lives in some repository."""
    inner = repo / ".venv" / "site-packages" / "matryoshka"
    inner.mkdir(parents=True)
    assert provenance.checkout(inner) is None
    assert set(provenance.source_revision(inner)) == {"version"}


def test_a_run_from_a_dirty_checkout_records_its_provenance(repo, tmp_path, monkeypatch):
    (repo / "model" / "model.py").write_text("x = 3\n")
    monkeypatch.setattr(provenance, "PACKAGE_ROOT", repo)
    monkeypatch.chdir(tmp_path)  # the working directory plays no part
    run_simulation("maze-v2", dict(TINY), 9, tmp_path / "run", progress=False)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["source"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert manifest["source"]["dirty"] is True
    assert manifest["scenario"] == "maze-v2"
    assert manifest["constants"]["model"] == {
        "model.lifecycle.TRAIL": 32, "agents.planning.TIE_BREAK_SD": 1e-6, "agents.evolve.UNDEFINED": -2.0,
        "model.metrics.RELATIVE_ZERO": 1e-12, "model.fidelity.NOISE_BUMPS": 8,
        "model.fidelity.NOISE_WIDTH": [0.1, 0.3],
    }  # fmt: skip
    scenario = manifest["constants"]["scenario"]
    assert scenario["TRAIN_EXIT"] == [10, 10] and scenario["DEPLOY_EXIT"] == [-3, 2]
    assert scenario["WALL_SEGMENTS"][1] == [0.67, [0.2, 0.45]]
    assert scenario["noise"] == [0.12, 0.02, 0.02] and scenario["EXIT_SIGNAL_POWER"] == 0.5
    streams = manifest["streams"]
    assert list(streams) == list(STREAMS)
    assert streams["founders"] == {"entropy": 9, "spawn_key": [0]}
    assert streams["mesa"] == {"entropy": 9, "spawn_key": [list(STREAMS).index("mesa")]}


def test_runs_record_the_source_their_process_loaded_not_a_later_commit(repo, tmp_path, monkeypatch):
    """A commit made between two runs of one process (a sweep's worker) is not the later run's source."""
    monkeypatch.setattr(provenance, "PACKAGE_ROOT", repo)
    first = git(repo, "rev-parse", "HEAD")
    run_simulation("maze-v2", dict(TINY), 1, tmp_path / "a", progress=False)
    (repo / "model" / "model.py").write_text("x = 4\n")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-am", "second")
    run_simulation("maze-v2", dict(TINY), 1, tmp_path / "b", progress=False)
    sources = [json.loads((tmp_path / r / "manifest.json").read_text())["source"] for r in "ab"]
    assert [(s["commit"], s["dirty"]) for s in sources] == [(first, False), (first, False)]
    assert provenance.source_revision(repo)["commit"] == git(repo, "rev-parse", "HEAD") != first

def test_the_project_checkout_is_found_from_the_package_not_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = provenance.checkout()
    if root is None:
        pytest.skip("the package is installed, not run from a checkout")
    assert (root / "model" / "model.py").exists()
    assert provenance.source_revision()["commit"] == git(root, "rev-parse", "HEAD")


def test_the_model_states_its_provenance():
    model = MatryoshkaModel("approval-v1", rng=4, **TINY)
    record = model.provenance()
    assert record["scenario"] == "approval-v1"
    assert record["constants"]["scenario"]["APPROVAL_BIAS"] == 1.0
    assert record["streams"]["selection"] == {"entropy": 4, "spawn_key": [2]}
