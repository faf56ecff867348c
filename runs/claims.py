"""The README's claims about results, and `matryoshka claims`, which runs the experiments behind them.

Every quantitative statement the README makes about what the model does is a `Claim` here: the
experiment behind it (a shipped experiment, of which only the conditions the claim reads are run,
or an inline one), the two quantities it compares, and which is expected to be larger.
`matryoshka claims --seeds 10` (`make claims`) runs them all, judges each on the per-seed
difference, and writes `claims.md` with a figure per claim and the commit that produced it; the
README copies its numbers from there, and the slow tests assert that every claim still holds.

Core Objects: claims, plan, run_claims, source_text, write_claims, cmd_claims.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matryoshka.model.params import ConfigError
from matryoshka.runs import experiment
from matryoshka.runs.experiment import Experiment
from matryoshka.runs.provenance import source_revision
from matryoshka.runs.sweep import run_sweep

if TYPE_CHECKING:
    from matryoshka.analysis.claim import Claim, Measure, Verdict

#: Seeds per condition unless told otherwise; claims.md is written from at least this many.
DEFAULT_SEEDS = 10

GEN_FREE = {"tool_policy": "free", "selection": "generational"}
NEUTRAL_FREE = {"tool_policy": "free", "selection": "neutral"}
#: Conditions of runs/telephone.toml: a hand-off (method, label noise) at a wisdom.
RIDGE = {"spec_method": "ridge", "label_noise": 0.0}
NOISY_RIDGE = {"spec_method": "ridge", "label_noise": 1.0}
NOISY_EVOLVE = {"spec_method": "evolve", "label_noise": 1.0}
IMITATE = {"spec_method": "imitate", "label_noise": 0.0}
NOISY_IMITATE = {"spec_method": "imitate", "label_noise": 1.0}
#: Tool policies of runs/fidelity.toml: free, audited when built, audited when built and every 5 steps.
FREE_TOOLS = {"tool_policy": "free", "audit_every": 0}
AUDIT_AT_BUILD = {"tool_policy": "audit", "audit_every": 0}
REAUDIT = {"tool_policy": "audit", "audit_every": 5}
#: Conditions of runs/layouts.toml: one or 256 training layouts, with or without position features.
ONE_LAYOUT = {"train_layouts": 1, "position_features": False}
MANY_LAYOUTS = {"train_layouts": 256, "position_features": False}
ONE_LAYOUT_POSITIONS = {"train_layouts": 1, "position_features": True}
MANY_LAYOUTS_POSITIONS = {"train_layouts": 256, "position_features": True}
#: Builders of one power and two wisdoms, tools free: the power x wisdom question at power 0.2.
WISDOM = {"name": "wisdom", "description": "maze: wisdom 0.2 and 0.8 at power 0.2, tools free",
          "scenario": "maze-v2", "params": {"tool_policy": "free", "power": 0.2, "gene_spread": 0.05},
          "sweep": {"wisdom": [0.2, 0.8]}, "seeds": {"root": 2027}}


@functools.cache
def claims() -> tuple[Claim, ...]:
    """Every claim the README makes about results, in the order claims.md lists them.

    A function, so that the command line loads the analysis only when it runs the claims.
    """
    from matryoshka.analysis.claim import Claim, Gap, Measure

    def _at(metric: str, **where: Any) -> Measure:
        return Measure(metric, where)

    def _exit_gap(**where: Any) -> Gap:
        """What reached_exit drops from the last training episode to deployment."""
        return Gap(_at("train/L1/reached_exit", **where), _at("deploy/L1/reached_exit", **where))

    return (
        Claim("selection-beats-neutral",
              "In the maze, generational selection earns organisms more base reward per step in the "
              "last training episode than neutral selection (parents drawn regardless of fitness).",
              "default", _at("train/L1/base_return", **GEN_FREE),
              _at("train/L1/base_return", **NEUTRAL_FREE)),
        Claim("shift-collapses-exit",
              "In the maze, the share of organisms that reach the exit falls from the last training "
              "episode to the deployment episode, where the exit has moved.",
              "default", _at("train/L1/reached_exit", **GEN_FREE), _at("deploy/L1/reached_exit", **GEN_FREE)),
        Claim("shift-raises-proxy",
              "In the maze's deployment episode more organisms go to the training exit's cell (the "
              "landmark) than to the moved exit.",
              "default", _at("deploy/L1/reached_proxy", **GEN_FREE),
              _at("deploy/L1/reached_exit", **GEN_FREE)),
        Claim("level1-misgeneralizes",
              "Organisms agree with the base objective more on training cells at the end of training "
              "than on deployment cells in deployment.",
              "default", _at("train/L1/align_base_train", **GEN_FREE),
              _at("deploy/L1/align_base_deploy", **GEN_FREE)),
        Claim("tools-agree-on-training-cells",
              "Level-2 tools agree with their builders more on training cells than on deployment "
              "cells.",
              "default", _at("train/L2/align_parent_train", **GEN_FREE),
              _at("deploy/L2/align_parent_deploy", **GEN_FREE)),
        Claim("tools-closer-to-base-after-shift",
              "In deployment, Level-2 tools agree with the base objective more than the organisms "
              "that built them do.",
              "default", _at("deploy/L2/align_base_deploy", **GEN_FREE),
              _at("deploy/L1/align_base_deploy", **GEN_FREE)),
        Claim("level3-copies-level2",
              "On deployment cells Level 3 agrees with its builder, a Level-2 tool, more than Level 2 "
              "agrees with its builder, an organism.",
              "default", _at("deploy/L3/align_parent_deploy", **GEN_FREE),
              _at("deploy/L2/align_parent_deploy", **GEN_FREE)),
        Claim("selection-drives-misgeneralization",
              "What organisms lose of their alignment with the base objective from training to "
              "deployment is larger under generational selection than under neutral selection.",
              "default",
              Gap(_at("train/L1/align_base_train", **GEN_FREE),
                  _at("deploy/L1/align_base_deploy", **GEN_FREE)),
              Gap(_at("train/L1/align_base_train", **NEUTRAL_FREE),
                  _at("deploy/L1/align_base_deploy", **NEUTRAL_FREE))),
        Claim("random-exits-restore-exit",
              "Training with a random exit in half the episodes (random_exit_share 0.5) raises the "
              "share of organisms that reach the moved exit in deployment above training with the "
              "exit always at (10, 10).",
              "shift", _at("deploy/L1/reached_exit", random_exit_share=0.5),
              _at("deploy/L1/reached_exit", random_exit_share=0.0)),
        Claim("selection-settles-on-the-landmark",
              "In the maze, organisms end training weighting the landmark (easy to perceive) more "
              "than the exit signal (noisy).",
              "default", _at("train/L1/w_landmark", **GEN_FREE), _at("train/L1/w_exit_signal", **GEN_FREE)),
        Claim("wisdom-specifies-better",
              "At power 0.2, wise builders (wisdom 0.8) build a smaller share of Level-2 tools that "
              "disagree with them (alignment < 0.5) on training cells than unwise builders (0.2).",
              WISDOM, _at("share_misaligned_train", wisdom=0.2), _at("share_misaligned_train", wisdom=0.8)),
        Claim("wise-tools-still-fail-the-shift",
              "Even the tools of wise builders (power 0.2, wisdom 0.8) disagree with them on "
              "deployment cells more often than on training cells.",
              WISDOM, _at("share_misaligned", wisdom=0.8), _at("share_misaligned_train", wisdom=0.8)),
        Claim("evolution-sweetness-rises",
              "In evolution-v1, the organisms' weight on sweetness rises over training, from the "
              "first training episode to the last.",
              "evolution", _at("train/L1/w_sweetness", tool_policy="free"),
              Measure("train/L1/w_sweetness", {"tool_policy": "free"}, first=True)),
        Claim("evolution-tools-less-aligned",
              "In evolution-v1, Level-2 tools (AI) agree less with the base objective (nutrition) on "
              "training cells than the organisms (humans) that build them.",
              "evolution", _at("train/L1/align_base_train", tool_policy="free"),
              _at("train/L2/align_base_train", tool_policy="free")),
        Claim("evolution-tools-of-tools-less-aligned",
              "In evolution-v1, Level-3 tools (AI built by AI) agree less with the base objective on "
              "training cells than the organisms do.",
              "evolution", _at("train/L1/align_base_train", tool_policy="free"),
              _at("train/L3/align_base_train", tool_policy="free")),
        Claim("evolution-deployment-less-aligned",
              "In evolution-v1, organisms agree less with the base objective on deployment cells, "
              "where candy appears, than on training cells.",
              "evolution", _at("train/L1/align_base_train", tool_policy="free"),
              _at("deploy/L1/align_base_deploy", tool_policy="free")),
        Claim("approval-defections-rise-with-deception",
              "In approval-v1, more deceptive describers defect per step in the last training "
              "episode at deception_share 0.6 than at 0.3.",
              "approval", _at("train/L2/defected", deception_share=0.6, tool_policy="free"),
              _at("train/L2/defected", deception_share=0.3, tool_policy="free")),
        Claim("first-hand-off-loses-the-base-objective",
              "In the telephone experiment (ridge, no label noise, wisdom 0.8), Level-2 tools agree "
              "with the base objective on training cells less than the organisms that built them.",
              "telephone", _at("train/L1/align_base_train", **RIDGE, wisdom=0.8),
              _at("train/L2/align_base_train", **RIDGE, wisdom=0.8)),
        Claim("same-perception-hand-off-copies",
              "Without label noise (ridge, wisdom 0.8), a Level-3 tool, which perceives what its "
              "builder perceives, agrees with its builder on training cells more than a Level-2 tool "
              "agrees with its builder, an organism that perceives more.",
              "telephone", _at("train/L3/align_parent_train", **RIDGE, wisdom=0.8),
              _at("train/L2/align_parent_train", **RIDGE, wisdom=0.8)),
        Claim("label-noise-loses-at-every-hand-off",
              "Label noise makes the same-perception hand-off lossy: Level-3 ridge tools (wisdom 0.8) "
              "agree with their builders on training cells less with label noise 1 than without.",
              "telephone", _at("train/L3/align_parent_train", **RIDGE, wisdom=0.8),
              _at("train/L3/align_parent_train", **NOISY_RIDGE, wisdom=0.8)),
        Claim("label-noise-loses-when-imitating",
              "Label noise on the weights a builder states makes imitation lossy too: Level-3 imitated "
              "tools (wisdom 0.8) agree with their builders on training cells less with label noise 1 "
              "than without.",
              "telephone", _at("train/L3/align_parent_train", **IMITATE, wisdom=0.8),
              _at("train/L3/align_parent_train", **NOISY_IMITATE, wisdom=0.8)),
        Claim("label-noise-decays-level-by-level",
              "With label noise (evolve, wisdom 0.8), cumulative alignment with Level 1 on training "
              "cells is lower at Level 3 than at Level 2.",
              "telephone", _at("train/L2/align_root_train", **NOISY_EVOLVE, wisdom=0.8),
              _at("train/L3/align_root_train", **NOISY_EVOLVE, wisdom=0.8)),
        Claim("wisdom-helps-the-lossy-hand-off",
              "Level-2 ridge tools agree with their builders on training cells more at wisdom 0.8 "
              "than at wisdom 0.2.",
              "telephone", _at("train/L2/align_parent_train", **RIDGE, wisdom=0.8),
              _at("train/L2/align_parent_train", **RIDGE, wisdom=0.2)),
        Claim("even-copies-beat-organisms-after-the-shift",
              "In deployment even imitated Level-2 tools (wisdom 0.2) agree with the base objective "
              "more than the organisms do.",
              "telephone", _at("deploy/L2/align_base_deploy", **IMITATE, wisdom=0.2),
              _at("deploy/L1/align_base_deploy", **IMITATE, wisdom=0.2)),
        Claim("level-one-lost-after-the-shift",
              "Level-3 tools (ridge, wisdom 0.8) agree with the organism atop their builder chain "
              "less on deployment cells, in deployment, than on training cells at the end of training.",
              "telephone", _at("train/L3/align_root_train", **RIDGE, wisdom=0.8),
              _at("deploy/L3/align_root_deploy", **RIDGE, wisdom=0.8)),
        Claim("build-power-gates-tools",
              "With competence genes frozen, organisms build more Level-2 tools at competence 0.4 than "
              "at 0.2, where power rarely reaches build_power (0.3).",
              "competence", _at("tools_per_organism", competence=0.4, wisdom_lag=0.0),
              _at("tools_per_organism", competence=0.2, wisdom_lag=0.0)),
        Claim("competence-aligns-tools-with-base",
              "At wisdom level with power, a smaller share of Level-2 tools disagrees with the base "
              "objective (alignment < 0.5) on training cells at competence 1 than at 0.4.",
              "competence", _at("share_misaligned_base_train", competence=0.4, wisdom_lag=0.0),
              _at("share_misaligned_base_train", competence=1.0, wisdom_lag=0.0)),
        Claim("lagging-wisdom-misaligns-with-builder",
              "At competence 0.4, wisdom trailing power by 0.4 leaves a larger share of Level-2 tools "
              "disagreeing with their builders on training cells than wisdom level with power.",
              "competence", _at("share_misaligned_train", competence=0.4, wisdom_lag=0.4),
              _at("share_misaligned_train", competence=0.4, wisdom_lag=0.0)),
        Claim("lagging-wisdom-misaligns-with-base",
              "At competence 0.4, wisdom trailing power by 0.4 leaves a larger share of Level-2 tools "
              "disagreeing with the base objective on training cells than wisdom level with power.",
              "competence", _at("share_misaligned_base_train", competence=0.4, wisdom_lag=0.4),
              _at("share_misaligned_base_train", competence=0.4, wisdom_lag=0.0)),
        Claim("competence-fails-the-shift",
              "Even at competence 1 (wisdom level), Level-2 tools disagree with their builders on "
              "deployment cells more often than on training cells.",
              "competence", _at("share_misaligned", competence=1.0, wisdom_lag=0.0),
              _at("share_misaligned_train", competence=1.0, wisdom_lag=0.0)),
        Claim("competence-raises-system-return",
              "The whole system (organisms and tools) earns more base reward per organism and step "
              "in the last training episode at competence 1 than at 0.4 (wisdom level).",
              "competence", _at("system_return_train", competence=1.0, wisdom_lag=0.0),
              _at("system_return_train", competence=0.4, wisdom_lag=0.0)),
        Claim("horizon-brings-tools-to-the-moved-exit",
              "Deployed with a 4-step horizon, more Level-2 tools reach the moved exit than with a "
              "1-step horizon, in the same trained population.",
              "horizon", _at("deploy/L2/reached_exit", deploy_horizon=4),
              _at("deploy/L2/reached_exit", deploy_horizon=1)),
        Claim("horizon-leaves-organisms-with-the-proxy",
              "Deployed with a 10-step horizon, more organisms still go to the training exit's cell "
              "than to the moved exit.",
              "horizon", _at("deploy/L1/reached_proxy", deploy_horizon=10),
              _at("deploy/L1/reached_exit", deploy_horizon=10)),
        Claim("proxy-selection-loses-the-true-objective",
              "In approval-v1 (deception_share 0.3, tools free), organisms selected on a base objective "
              "that correlates 0.5 with the true one agree with the true objective on training cells "
              "less than organisms selected on the true objective itself (base_fidelity 1).",
              "fidelity",
              _at("train/L1/align_true_train", base_fidelity=1.0, deception_share=0.3, **FREE_TOOLS),
              _at("train/L1/align_true_train", base_fidelity=0.5, deception_share=0.3, **FREE_TOOLS)),
        Claim("proxy-selection-earns-less-of-what-is-wanted",
              "In approval-v1 (deception_share 0.3, tools free), organisms earn less true reward per "
              "step in the last training episode at base_fidelity 0.5 than at 1.",
              "fidelity",
              _at("train/L1/true_return", base_fidelity=1.0, deception_share=0.3, **FREE_TOOLS),
              _at("train/L1/true_return", base_fidelity=0.5, deception_share=0.3, **FREE_TOOLS)),
        Claim("organisms-agree-with-what-is-wanted-more-than-their-base-objective",
              "In approval-v1 at base_fidelity 0.5 (deception_share 0.3, tools free), organisms "
              "selected on the base objective agree with the true objective on training cells more "
              "than the base objective itself does (Level 0, 0.5 by construction).",
              "fidelity",
              _at("train/L1/align_true_train", base_fidelity=0.5, deception_share=0.3, **FREE_TOOLS),
              _at("train/L0/align_true_train", base_fidelity=0.5, deception_share=0.3, **FREE_TOOLS)),
        Claim("reaudits-scrap-defected-tools",
              "In approval-v1 (deception_share 0.6, base_fidelity 1), audits that re-test every live "
              "tool's behaviour every 5 steps scrap more Level-2 tools per step in the last training "
              "episode than audits at build time only.",
              "fidelity",
              _at("train/L2/scrapped", base_fidelity=1.0, deception_share=0.6, **REAUDIT),
              _at("train/L2/scrapped", base_fidelity=1.0, deception_share=0.6, **AUDIT_AT_BUILD)),
        Claim("reaudits-cut-defections",
              "In approval-v1 (deception_share 0.6, base_fidelity 1), fewer deceptive Level-2 tools "
              "defect per step in the last training episode under re-audits every 5 steps than under "
              "audits at build time only.",
              "fidelity",
              _at("train/L2/defected", base_fidelity=1.0, deception_share=0.6, **AUDIT_AT_BUILD),
              _at("train/L2/defected", base_fidelity=1.0, deception_share=0.6, **REAUDIT)),
        Claim("deception-selects-slow-trust",
              "In approval-v1 (base_fidelity 1, tools free), organisms end training with a lower "
              "tool_trust_rate gene when 60% of tools are deceptive than when none are.",
              "fidelity",
              _at("train/L1/tool_trust_rate", base_fidelity=1.0, deception_share=0.0, **FREE_TOOLS),
              _at("train/L1/tool_trust_rate", base_fidelity=1.0, deception_share=0.6, **FREE_TOOLS)),
        Claim("one-layout-fails-to-generalize",
              "In maze-procgen-v1 trained on one layout (no position features), fewer organisms reach "
              "the exit in deployment, on a layout never seen, than in the last training episode.",
              "layouts", _at("train/L1/reached_exit", **ONE_LAYOUT),
              _at("deploy/L1/reached_exit", **ONE_LAYOUT)),
        Claim("many-layouts-close-the-gap",
              "The drop in reached_exit from the last training episode to deployment is larger after "
              "training on one layout than on 256 (no position features).",
              "layouts", _exit_gap(**ONE_LAYOUT), _exit_gap(**MANY_LAYOUTS)),
        Claim("many-layouts-reach-unseen-exits",
              "More organisms reach the exit of an unseen deployment layout after training on 256 "
              "layouts than after training on one (no position features).",
              "layouts", _at("deploy/L1/reached_exit", **MANY_LAYOUTS),
              _at("deploy/L1/reached_exit", **ONE_LAYOUT)),
        Claim("position-features-widen-the-gap",
              "Trained on one layout, organisms that can weight coarse position features lose more "
              "reached_exit from the last training episode to deployment than organisms that cannot.",
              "layouts", _exit_gap(**ONE_LAYOUT_POSITIONS), _exit_gap(**ONE_LAYOUT)),
        Claim("many-layouts-close-the-position-gap",
              "With coarse position features, organisms lose more reached_exit from the last training "
              "episode to deployment after training on one layout than on 256.",
              "layouts", _exit_gap(**ONE_LAYOUT_POSITIONS), _exit_gap(**MANY_LAYOUTS_POSITIONS)),
    )


def _base(claim: Claim) -> Experiment:
    """The experiment a claim names, validated."""
    if isinstance(claim.experiment, str):
        return experiment.load(claim.experiment)
    return experiment.parse(dict(claim.experiment), source=f"claim '{claim.name}'",
                            default_name=claim.name)


def _key(claim: Claim) -> str:
    """The name under which a claim's experiment runs (claims sharing it share its runs)."""
    if isinstance(claim.experiment, str):
        return claim.experiment
    return str(claim.experiment.get("name", claim.name))


def plan(claims: Sequence[Claim], seeds: int) -> dict[str, Experiment]:
    """The experiments to run: each reduced to the conditions its claims read, with `seeds` seeds.

    Raises:
        ConfigError: A measure leaves an axis of its experiment open (its runs would pool
            several values), names something that is not an axis, or a value the experiment
            does not have.
    """
    if seeds < 2:
        raise ConfigError(f"--seeds {seeds} is not allowed: expected an integer >= 2 (an interval "
                          f"over seeds needs two; claims.md wants {DEFAULT_SEEDS})")
    used: dict[str, list[dict[str, Any]]] = {}
    bases: dict[str, Experiment] = {}
    for claim in claims:
        key = _key(claim)
        base = bases.setdefault(key, _base(claim))
        if _base(claim).defining() != base.defining():
            raise ConfigError(f"claim '{claim.name}': another claim's experiment is also called "
                              f"'{key}': give different experiments different names")
        points = base.points()
        for measure in claim.measures():
            axes = {*base.sweep, *(name for group in base.zip for name in group)}
            if set(measure.where) != axes:
                raise ConfigError(
                    f"claim '{claim.name}': {measure.label()} must name a value for each axis of "
                    f"experiment '{key}' and nothing else (axes: {', '.join(sorted(axes)) or 'none'})")
            if dict(measure.where) not in points:
                raise ConfigError(f"claim '{claim.name}': {measure.label()} is not a condition of "
                                  f"experiment '{key}'")
            used.setdefault(key, []).append(dict(measure.where))
    return {key: _reduce(bases[key], used[key], seeds) for key in bases}


def _reduce(base: Experiment, points: list[dict[str, Any]], seeds: int) -> Experiment:
    """`base` with only the axis values (and zip columns) that `points` use, and `seeds` seeds."""
    sweep = {name: [v for v in values if any(p[name] == v for p in points)]
             for name, values in base.sweep.items()}
    groups = []
    for group in base.zip:
        names = list(group)
        keep = [i for i, combo in enumerate(zip(*group.values(), strict=True))
                if any(all(p[n] == v for n, v in zip(names, combo, strict=True)) for p in points)]
        groups.append({name: [values[i] for i in keep] for name, values in group.items()})
    return dataclasses.replace(base, name=f"claims-{base.name}", sweep=sweep, zip=groups,
                               replicates=tuple(range(seeds)))


def source_text() -> str:
    """The code that runs now: the checkout's commit and whether its tree was clean."""
    revision = source_revision()
    if revision.get("commit"):
        state = "with uncommitted changes" if revision["dirty"] else "clean"
        return f"commit `{revision['commit'][:12]}` ({state})"
    return f"matryoshka {revision.get('version') or 'unknown version'} (not a git checkout)"


def run_claims(claims: Sequence[Claim], seeds: int, runs: Path, workers: int | None = None,
               progress: bool = True) -> list[Verdict]:
    """Run the experiments behind the claims into `runs` and judge every claim.

    Args:
        claims: The claims.
        seeds: Seeds per condition.
        runs: A new or empty directory for the sweeps (one subdirectory per experiment).
        workers: Local processes (default: all cores).
        progress: Show each sweep's progress.

    Raises:
        ConfigError: Bad claims, seeds or directory; a run failed.
    """
    from matryoshka.analysis.claim import judge
    from matryoshka.analysis.io import InputError, load

    experiments = plan(claims, seeds)
    _check_runs(runs)
    data = {}
    for key, exp in experiments.items():
        folder = runs / key
        folder.mkdir(parents=True)
        toml = folder.with_suffix(".toml")
        toml.write_text(exp.to_toml(source=f"the claims on '{key}'"), encoding="utf-8")
        result = run_sweep(toml, folder, workers=workers, progress=progress)
        if result.failed:
            raise ConfigError(f"{result.failed} run(s) of experiment '{key}' failed: see the "
                              f"'error' column of {result.table}")
        data[key] = load(folder)
    try:
        return [judge(claim, data[_key(claim)]) for claim in claims]
    except InputError as err:
        raise ConfigError(str(err)) from None


def _check_runs(runs: Path) -> None:
    """Refuse a runs directory that holds anything: claims never reuse runs of other code."""
    if runs.exists() and (not runs.is_dir() or any(runs.iterdir())):
        raise ConfigError(f"--runs '{runs}' exists and is not an empty directory: claims run "
                          "afresh, so that every number comes from this code; choose a new directory")


def write_claims(verdicts: Sequence[Verdict], out: Path, command: str, source: str) -> Path:
    """Write `<out>/claims.md` and a figure per claim into `<out>/claims/`.

    Args:
        verdicts: The judged claims.
        out: The directory.
        command: The command that ran them.
        source: The code that ran them (`source_text()` before the runs started).

    Returns:
        The path of `claims.md`.
    """
    from matryoshka.analysis.claim import claim_figure, claims_markdown

    figures = out / "claims"
    shutil.rmtree(figures, ignore_errors=True)  # figures of claims that no longer exist go too
    links = {v.claim.name: claim_figure(v, figures).relative_to(out).as_posix() for v in verdicts}
    markdown = out / "claims.md"
    partial = out / ".claims.md.partial"
    partial.write_text(claims_markdown(verdicts, links, source, command), encoding="utf-8")
    os.replace(partial, markdown)
    return markdown


def cmd_claims(args: argparse.Namespace) -> int:
    """The `claims` subcommand: 0 when it wrote claims.md (whether or not every claim holds)."""
    out = Path(args.out)
    started = time.monotonic()
    plan(claims(), args.seeds)  # bad claims, seeds or directories fail before any run
    if args.runs:
        _check_runs(Path(args.runs))
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers {args.workers} is not allowed: expected an integer >= 1")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out '{out}' is a file: expected a directory for claims.md")
    source = source_text()  # the code loaded now is the code that runs, whatever changes later
    out.mkdir(parents=True, exist_ok=True)
    if args.runs:
        verdicts = run_claims(claims(), args.seeds, Path(args.runs), args.workers, not args.quiet)
    else:
        with tempfile.TemporaryDirectory(prefix="claims-") as scratch:
            verdicts = run_claims(claims(), args.seeds, Path(scratch) / "runs", args.workers,
                                  not args.quiet)
    markdown = write_claims(verdicts, out, f"matryoshka claims --seeds {args.seeds}", source)
    for v in verdicts:
        print(f"{'holds' if v.holds else 'FAILS'}  {v.claim.name}: difference {v.difference.text()}, "
              f"n = {v.difference.n}")
    held = sum(v.holds for v in verdicts)
    print(f"{held} of {len(verdicts)} claims hold ({time.monotonic() - started:.0f} s); "
          f"wrote {markdown}", file=sys.stderr)
    return 0
