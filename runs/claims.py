"""The README's claims about results, and `matryoshka claims`, which runs the experiments behind them.

Every quantitative statement the README makes about what the model does is a `Claim` here: the
experiment behind it (a shipped experiment, of which only the conditions the claim reads are run,
or an inline one), the two quantities it compares, and which is expected to be larger.
`matryoshka claims --seeds 10` (`make claims`) runs them all, judges each on the per-seed
difference, and writes `claims.md` with a figure per claim and the commit that produced it; the
README copies its numbers from there, and a slow test asserts that this code finds what claims.md
says. The claims themselves are declared in ``runs/readme_claims.py``.

Core Objects: claims, plan, run_claims, source_text, write_claims, cmd_claims.
"""

from __future__ import annotations

import argparse
import dataclasses
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
from matryoshka.runs.readme_claims import claims
from matryoshka.runs.sweep import run_sweep

if TYPE_CHECKING:
    from matryoshka.analysis.claim import Claim, Verdict

#: Seeds per condition unless told otherwise; claims.md is written from at least this many.
DEFAULT_SEEDS = 10

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
