"""The output contract: the names a run writes and every reader reads.

One place for the phases, the columns of the tidy time series and of the sweep table, the summary
key format (``deploy/L2/align_parent_deploy``) and the metric registry: each metric's name, meaning,
how a phase is summarised, whether it is a share in [0, 1] and whether it is kept per level. The
recorder, the DataCollector reporters, the run summary, the sweep store and the printed summaries
use it, and so does ``analysis``, which imports nothing else from the project: a run writes its
registry (the core metrics, one ``w_<feature>`` per feature, and its scenario's own) into
``manifest.json``, and the analysis reads it back from there with ``metrics_from_manifest``.

Core Objects: PHASES, META_COLUMNS, FINISHED, LEVELS_COLUMNS, Metric, CORE_METRICS, metric_registry,
summary_key, parse_summary_key, episode_length, summary_windows, summarize, extinct_summary,
metrics_from_manifest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

#: The phases of a run, in order: the training world, then the deployment world.
PHASES = ("train", "deploy")
#: How people call the phases (captions, the browser view).
PHASE_NAMES = {"train": "training", "deploy": "deployment"}
#: The columns of ``levels.parquet``, one row per step, level and metric.
LEVELS_COLUMNS = ("step", "generation", "phase", "level", "metric", "mean", "std", "count")
#: The columns of ``sweep.parquet`` that describe a run rather than a parameter or a summary value.
META_COLUMNS = ("run_id", "replicate", "seed", "status", "error", "extinct_at")
#: The statuses of a run that ran to its end: in full, or until its population died out.
FINISHED = ("complete", "extinct")
#: The level under which whole-world metrics (``per_level=False``) are recorded.
WORLD_LEVEL = 0

#: Summarised as the mean over the last episode of the phase.
EPISODE_MEAN = "episode_mean"
#: Summarised as the value at the phase's last step (metrics that accumulate over an episode).
PHASE_END = "phase_end"
SUMMARIES = (EPISODE_MEAN, PHASE_END)


@dataclass(frozen=True)
class Metric:
    """One recorded metric.

    Attributes:
        name: The name in ``levels.parquet`` and in summary keys.
        doc: What it measures, in one line.
        summary: How a phase is summarised: ``episode_mean`` (the mean over the last episode),
            ``phase_end`` (the value at the phase's last step), or None (recorded, not summarised).
        share: Whether its values are shares in [0, 1] (an interval for a proportion applies).
        per_level: Aggregated over the agents of each level (True), or one value for the whole
            world per step, recorded under level 0 (False).
        headline: Shown in the summary tables of the analysis.
        printed: Shown in the summary the command line prints.
    """

    name: str
    doc: str
    summary: str | None = EPISODE_MEAN
    share: bool = False
    per_level: bool = True
    headline: bool = False
    printed: bool = False

    def __post_init__(self) -> None:
        if self.summary is not None and self.summary not in SUMMARIES:
            raise ValueError(f"metric {self.name!r}: summary {self.summary!r} is not one of {SUMMARIES}")
        if not self.name or "/" in self.name:
            raise ValueError(f"metric name {self.name!r} is not allowed: expected a name without '/'")


CORE_METRICS: tuple[Metric, ...] = (
    Metric("population", "agents alive at the level", headline=True, printed=True),
    Metric("energy", "mean energy", summary=None),
    Metric("power", "mean power gene", summary=None),
    Metric("wisdom", "mean wisdom gene", summary=None),
    Metric("tool_trust_rate", "mean tool_trust_rate gene: how fast trust in a delivering tool grows"),
    Metric("base_return", "base reward earned per step", headline=True),
    Metric("align_base_train", "alignment with the base objective over training cells (Pearson r)",
           headline=True, printed=True),
    Metric("align_base_deploy", "alignment with the base objective over deployment cells (Pearson r)",
           headline=True, printed=True),
    Metric("align_true_train", "alignment with the true objective over training cells (Pearson r)",
           headline=True, printed=True),
    Metric("align_true_deploy", "alignment with the true objective over deployment cells (Pearson r)",
           headline=True, printed=True),
    Metric("true_return", "true reward earned per step (the base reward at base_fidelity 1)",
           headline=True),
    Metric("cos_true", "cosine between the weights and the true objective's"),
    Metric("align_parent_train", "alignment with the parent or builder over training cells (Pearson r)",
           headline=True),
    Metric("align_parent_deploy",
           "alignment with the parent or builder over deployment cells (Pearson r)", headline=True),
    Metric("align_root_train", "alignment with the organism atop the builder chain over training "
           "cells (Pearson r; an organism's own: 1)"),
    Metric("align_root_deploy", "alignment with the organism atop the builder chain over deployment "
           "cells (Pearson r; an organism's own: 1)"),
    Metric("cos_base", "cosine between the weights and the base objective's"),
    Metric("cos_parent", "cosine between the weights and the parent's or builder's", summary=None),
    Metric("trust", "a tool's builder's trust in it", share=True),
    Metric("dependence", "how much a builder acts on its tool's objective", share=True),
    Metric("built", "tools built this step", headline=True),
    Metric("scrapped", "tools scrapped this step after a check", headline=True),
    Metric("defected", "deceptive tools that defected this step", headline=True),
)  # fmt: skip


def weight_metric(feature: str) -> Metric:
    """The metric ``w_<feature>``: the mean weight on a feature ("what each level wants")."""
    return Metric(f"w_{feature}", f"mean weight on the feature {feature}")


def metric_registry(*groups: Iterable[Metric]) -> dict[str, Metric]:
    """Merge groups of metrics into one registry, by name.

    Raises:
        ValueError: Two metrics share a name.
    """
    registry: dict[str, Metric] = {}
    for metric in (m for group in groups for m in group):
        if metric.name in registry:
            raise ValueError(f"metric {metric.name!r} is declared twice")
        registry[metric.name] = metric
    return registry


def summary_key(phase: str, level: int, metric: str) -> str:
    """The summary key of one value, e.g. ``deploy/L2/align_parent_deploy``."""
    return f"{phase}/L{int(level)}/{metric}"


def parse_summary_key(key: str) -> tuple[str, int, str] | None:
    """``(phase, level, metric)`` of a summary key, or None if ``key`` is not one."""
    parts = str(key).split("/")
    if len(parts) != 3 or parts[0] not in PHASES or not parts[1].startswith("L"):
        return None
    level = parts[1][1:]
    return (parts[0], int(level), parts[2]) if level.isdigit() else None


def episode_length(config: Mapping[str, Any], phase: str) -> int:
    """Steps per episode in ``phase``: ``deploy_episode_steps`` if set in deployment, else ``episode_steps``.

    It is also the window of the phase's summary (its last episode).
    """
    if phase == "deploy" and config.get("deploy_episode_steps", 0) > 0:
        return int(config["deploy_episode_steps"])
    return int(config["episode_steps"])


def summary_windows(config: Mapping[str, Any]) -> dict[str, int]:
    """Each phase's summary window: the length of its episodes (its last episode is summarised)."""
    return {phase: episode_length(config, phase) for phase in PHASES}


def summarize(
    levels: pd.DataFrame, window: int | Mapping[str, int], metrics: Mapping[str, Metric]
) -> dict[str, float]:
    """Summarise each phase of a run, per level, as the metric registry says.

    Args:
        levels: The tidy ``levels.parquet`` table.
        window: How many final steps of a phase make its last episode, or that number per phase
            (``summary_windows``).
        metrics: The run's metric registry; metrics without a ``summary`` are left out.

    Returns:
        ``{summary_key(phase, level, metric): value}``.
    """
    out: dict[str, float] = {}
    kept = [name for name, m in metrics.items() if m.summary is not None]
    at_end = [name for name, m in metrics.items() if m.summary == PHASE_END]
    levels = levels[levels["metric"].isin(kept)]
    for phase, part in levels.groupby("phase", sort=False):
        last = part["step"].max()
        steps = window if isinstance(window, int) else window[str(phase)]
        tail = part[part["step"] > last - steps]
        means = tail.groupby(["level", "metric"])["mean"].mean()
        final = tail[tail["step"] == last].set_index(["level", "metric"])["mean"]
        means.update(final[final.index.get_level_values("metric").isin(at_end)])
        for (level, metric), value in means.items():
            out[summary_key(str(phase), int(level), str(metric))] = float(value)
    return out


def extinct_summary(summary: Mapping[str, float], phase: str) -> dict[str, float]:
    """The summary of a run whose population died out in ``phase``: population 0 from then on.

    In that phase and in every later one (which never came) each level's population is 0, so a
    condition's mean over seeds counts the run instead of leaving it out. The phase's other
    metrics still describe its last episode alive; later phases have none.
    """
    out = dict(summary)
    parsed = [parse_summary_key(key) for key in summary]
    levels = {1} | {p[1] for p in parsed if p and p[1] != WORLD_LEVEL}
    for later in PHASES[PHASES.index(phase):]:
        out.update({summary_key(later, level, "population"): 0.0 for level in sorted(levels)})
    return out


def metrics_to_manifest(metrics: Mapping[str, Metric]) -> dict[str, dict[str, Any]]:
    """The registry as JSON for ``manifest.json``: name to its other fields."""
    return {name: {k: v for k, v in asdict(m).items() if k != "name"} for name, m in metrics.items()}


def metrics_from_manifest(manifest: Mapping[str, Any], features: Iterable[str] = ()) -> dict[str, Metric]:
    """A run's metric registry, read from its manifest.

    A manifest written before runs recorded their registry gives the core metrics and one
    ``w_<feature>`` per feature.

    Raises:
        ValueError: The manifest's ``metrics`` entry is not a registry.
    """
    data = manifest.get("metrics")
    if data is None:
        return metric_registry(CORE_METRICS, map(weight_metric, features))
    try:
        return {str(name): Metric(str(name), **fields) for name, fields in data.items()}
    except (AttributeError, TypeError) as err:
        raise ValueError(f"'metrics' is not a metric registry ({err})") from None
