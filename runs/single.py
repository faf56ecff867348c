"""One simulation from start to finish, with a progress bar, written to a run directory.

Core Objects: run_simulation.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from matryoshka.model.contract import (
    episode_length,
    extinct_summary,
    metrics_to_manifest,
    summarize,
    summary_windows,
)
from matryoshka.model.integrity import file_records
from matryoshka.model.model import MatryoshkaModel
from matryoshka.model.outputs import atomic_directory, check_output, open_outputs, write_manifest
from matryoshka.model.policies import POLICIES
from matryoshka.model.streams import seed_record
from matryoshka.runs.provenance import loaded_source

VERSIONED = ("matryoshka", "mesa", "numpy", "networkx", "pyarrow", "pandas")


def training_steps(config: dict[str, Any]) -> int:
    """The step that ends training (by the shift, or by the end of a run without deployment)."""
    if config["selection"] == "steady_state":
        return min(config["shift_at"], config["total_steps"])
    return config["episode_steps"] * config["generations"] * config["episodes_per_generation"]


def expected_steps(config: dict[str, Any]) -> int:
    """How many steps a run with this configuration takes (for the progress bar)."""
    if config["selection"] == "steady_state":
        return config["total_steps"]
    return training_steps(config) + episode_length(config, "deploy") * config["deploy_episodes"]


def run_simulation(
    scenario: str,
    params: dict[str, Any],
    seed: int | np.random.SeedSequence,
    out: str | Path,
    progress: bool = True,
) -> dict[str, float]:
    """Build the model, run it to the end, write its outputs atomically.

    Args:
        scenario: A registered scenario key.
        params: Parameter values (validated by the model).
        seed: The run's seed.
        out: The run directory to write.
        progress: Show a progress bar.

    Returns:
        The run's final summary (see ``model.contract.summarize``; a run whose population died out:
        ``extinct_summary``).

    Raises:
        ConfigError: Bad scenario, parameter, value or output path.
    """
    started = dt.datetime.now(dt.UTC).isoformat()
    check_output(Path(out))
    model = MatryoshkaModel(scenario, rng=seed, collect=False, **params)
    source = loaded_source()  # the code this process loaded, whatever the checkout holds by now
    total = expected_steps(model.config)
    with atomic_directory(Path(out)) as tmp:
        open_outputs(model.recorder, tmp)  # the tables grow on disk, not in memory
        with tqdm(total=total, desc=f"{scenario} seed {seed_record(seed)}", disable=not progress,
                  unit="step", leave=False) as bar:  # fmt: skip
            while model.running:
                model.step()
                bar.update(1)
        model.finish()
        pq.write_table(model.recorder.occupancy_table(model.world.shape[1]), tmp / "occupancy.parquet")
        windows = summary_windows(model.config)
        summary = summarize(model.recorder.levels_tail(windows).to_pandas(), windows, model.metrics)
        if model.extinct_at is not None:
            summary = extinct_summary(summary, model.phase)
        write_manifest(tmp, {
            **model.provenance(),
            "config": model.config,
            "seed": seed_record(seed),
            "source": source,
            "versions": {name: _version(name) for name in VERSIONED},
            "started": started,
            "finished": dt.datetime.now(dt.UTC).isoformat(),
            "status": "complete" if model.extinct_at is None else "extinct",
            "extinct_at": model.extinct_at,
            "extinct_phase": None if model.extinct_at is None else model.phase,
            "steps": model.steps,
            "features": list(model.preset.features),
            "world": _world_record(model),
            "level0": {**model.level0.record(), "states": model.preset.fidelity_states},
            "metrics": metrics_to_manifest(model.metrics),
            "shift": _shift_record(model),
            "tool_policies": {name: cls.record() for name, cls in POLICIES.items()},
            "summary": summary,
            "files": file_records(tmp),  # last: what makes the directory count as a finished run
        })  # fmt: skip
    return summary


def _world_record(model: MatryoshkaModel) -> dict[str, Any]:
    walls = np.argwhere(model.train_world.walls).tolist()
    width, height = model.world.shape
    marks = {f"{k}_train": v for k, v in model.train_world.marks.items()}
    marks.update({f"{k}_deploy": v for k, v in model.deploy_world.marks.items()})
    return {"width": width, "height": height, "walls": walls, **marks, "marks": dict(model.preset.marks),
            **model.preset.record()}


def _shift_record(model: MatryoshkaModel) -> dict[str, Any] | None:
    """The scenario's shift analysis: the parameter it sweeps and the metrics it shows."""
    axis = model.preset.shift_axis
    if axis is None:
        return None
    doc = model.preset.parameters()[axis].doc
    return {"axis": axis, "axis_doc": doc, "metrics": list(model.preset.shift_metrics),
            "reading": model.preset.shift_reading}


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
