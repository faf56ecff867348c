"""The tutorial notebook runs top to bottom; frames(); the licence and the citation file."""

import json
import sys
import tomllib
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml
from nbclient import NotebookClient

from matryoshka.model.contract import LEVELS_COLUMNS
from matryoshka.model.frames import frames
from matryoshka.model.model import MatryoshkaModel

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "runs" / "tutorial.ipynb"


@pytest.mark.slow
def test_the_tutorial_runs_top_to_bottom_and_draws_its_figure(tmp_path: Path, monkeypatch) -> None:
    # A kernel of this very interpreter, whatever kernels the machine has installed.
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Python 3",
                                                  "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells), "the notebook is stored clean"
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={
        "metadata": {"path": str(tmp_path)}}).execute()  # raises on the first failing cell
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    assert sum("image/png" in out.get("data", {}) for out in outputs) == 1


def test_frames_are_the_run_tables_at_any_step() -> None:
    model = MatryoshkaModel("maze-v2", rng=3, population=20, generations=2, episode_steps=10,
                            deploy_episodes=1)
    for _ in range(15):
        model.step()
    during = frames(model)
    assert tuple(during.levels.columns) == LEVELS_COLUMNS
    assert during.levels["step"].max() == 15
    alive = during.agents["death_step"].isna()
    assert alive.sum() == len(model.pop)  # the living are there, with no death_step yet
    assert (during.agents.loc[~alive, "generation"] == 0).all()  # the first generation's dead
    while model.running:
        model.step()
    model.finish()
    after = frames(model)
    assert after.agents["id"].is_unique and after.agents["id"].is_monotonic_increasing
    assert np.array_equal(after.agents["id"], np.sort(model.recorder.agents_table()["id"].to_numpy()))
    assert set(after.events["event"]) <= {"built", "scrapped", "defected"}


def test_licence_and_citation_agree_with_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    licence = (ROOT / "LICENSE").read_text()
    assert project["license"] == "Apache-2.0"
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence  # the full text, not a pointer to it
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "Apache-2.0"
    assert citation["version"] == project["version"]
    assert citation["title"] and citation["authors"] and citation["message"]
