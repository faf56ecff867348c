"""The ``matryoshka`` command line: run, sweep, analyze, plot, claims, experiments, params, viz.

Bad input ends with one line on stderr naming the key, the value and what is allowed, and exit
code 2; no traceback, no half-written output.

Core Objects: main.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from matryoshka.model.params import PARAMS, ConfigError
from matryoshka.model.scenarios import DEFAULT_SCENARIO, REGISTRY
from matryoshka.runs.config import load_toml
from matryoshka.runs.experiment import MAX_RUNS

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser that exits with code 2 and one line, like every other bad input."""

    def error(self, message: str) -> None:  # noqa: D102
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see '{self.prog} --help')\n")


def parse_sets(pairs: list[str]) -> dict[str, str]:
    """Turn ``["name=value", ...]`` into a dict.

    Raises:
        ConfigError: A pair has no ``=``, or sets a name that an earlier pair set.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = (part.strip() for part in pair.partition("="))
        if not sep or not name:
            raise ConfigError(f"--set '{pair}' is not allowed: expected name=value, e.g. population=300")
        if name in out:
            raise ConfigError(f"--set '{pair}' is not allowed: '{name}' is already set to '{out[name]}'; "
                              "expected each parameter once")  # fmt: skip
        out[name] = value
    return out


def run_config(path: str) -> dict[str, Any]:
    """Read ``--config FILE.toml`` for a single run: optional ``scenario``, ``seed``, ``[params]``.

    Raises:
        ConfigError: The file is unreadable or has keys a single run does not take.
    """
    data = load_toml(path)
    allowed = {"name", "description", "scenario", "seed", "params"}
    for key in data:
        if key not in allowed:
            hint = " (a sweep file: use 'matryoshka sweep')" if key in ("sweep", "zip", "seeds") else ""
            raise ConfigError(
                f"config file '{path}': key '{key}' is not allowed in a single run{hint}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
    if not isinstance(data.get("params", {}), dict):
        raise ConfigError(f"config file '{path}': 'params' must be a table of parameter = value")
    return data


def cmd_run(args: argparse.Namespace) -> int:
    """Run one simulation and print its summary."""
    from matryoshka.model.scenarios import get
    from matryoshka.runs.report import extinction_line, print_summary
    from matryoshka.runs.single import run_simulation

    config = run_config(args.config) if args.config else {}
    params = {**config.get("params", {}), **parse_sets(args.set)}
    scenario = config.get("scenario", DEFAULT_SCENARIO) if args.scenario is None else args.scenario
    seed = args.seed if args.seed is not None else config.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"seed = {seed!r} is not allowed: expected a non-negative integer")
    summary = run_simulation(scenario, params, seed, Path(args.out), progress=not args.quiet)
    print_summary(summary, get(scenario).metric_registry())
    manifest = json.loads((Path(args.out) / "manifest.json").read_text(encoding="utf-8"))
    if manifest["status"] == "extinct":
        print(extinction_line(manifest))
    print(f"outputs: {args.out}")
    return 0


def cmd_experiments(args: argparse.Namespace) -> int:
    """List the shipped experiments with their one-line questions."""
    from matryoshka.runs.experiment import question, shipped

    found = shipped()
    width = max(map(len, found))
    for name, path in found.items():
        print(f"{name:<{width}}  {question(path)}")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    """Print every parameter with its default for a scenario, what is allowed, and what it means.

    The global parameters come first, then the scenario's own (no other scenario's).
    """
    from matryoshka.model.scenarios import get

    preset = get(args.scenario)
    rows = [(k, repr(preset.defaults[k]) if k in preset.defaults else p.shown_default(), p.allowed(), p.doc)
            for k, p in preset.parameters().items()]  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"parameters of {preset.key} (name, default, allowed, meaning):")
    for k, row in enumerate(rows):
        if k == len(PARAMS) and preset.params:
            print(f"  {preset.key} only:")
        print("  " + "  ".join(f"{v:<{w}}" for v, w in zip(row, widths, strict=False)) + "  " + row[3])
    return 0


def cmd_viz(args: argparse.Namespace) -> int:
    """Serve the browser view on 127.0.0.1 (in production mode: no file watching, no telemetry)."""
    import os
    import subprocess

    command = [sys.executable, "-m", "solara", "run", "matryoshka.runs.app", "--host", args.host,
               "--port", str(args.port), "--production"]  # fmt: skip
    env = {"SOLARA_THEME_SHOW_BANNER": "False", "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", **os.environ}
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("matryoshka")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = _Parser(prog="matryoshka", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"matryoshka {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run one simulation and write its outputs")
    run.add_argument("--scenario", help=f"one of {', '.join(sorted(REGISTRY))} (default {DEFAULT_SCENARIO})")
    run.add_argument("--seed", type=int, help="root seed (default 0)")
    run.add_argument("--out", required=True, help="run directory to write")
    run.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="set a parameter (repeatable); 'matryoshka params' lists them")  # fmt: skip
    run.add_argument("--config", help="TOML file with scenario, seed and a [params] table")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    sweep = sub.add_parser("sweep", help="run an experiment file: a grid of parameters x seeds")
    sweep.add_argument("experiment", help="a shipped experiment's name (see 'matryoshka experiments') "
                       "or an experiment TOML file")  # fmt: skip
    sweep.add_argument("--out", required=True, help="sweep directory to write")
    sweep.add_argument("--workers", type=int, help="local processes (default: all cores)")
    sweep.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://HOST:8786")
    sweep.add_argument("--max-runs", type=int, default=MAX_RUNS, metavar="N",
                       help=f"refuse an experiment of more than N runs (default {MAX_RUNS})")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(func=_sweep)

    analyze = sub.add_parser("analyze", help="figures and tables from a run or sweep directory")
    analyze.add_argument("directory", help="a run directory or a sweep directory")
    analyze.add_argument("--out", help="figure directory (default DIR/figures)")
    analyze.add_argument("--jobs", metavar="N", help="processes to run the analyses on "
                         "(default: the usable cores, at most 4; 1: one process)")  # fmt: skip
    analyze.set_defaults(func=_analyze)

    plot = sub.add_parser("plot", help="one summary metric against any sweep axis, intervals over seeds")
    plot.add_argument("directory", help="a sweep directory")
    plot.add_argument("--metric", required=True,
                      help="a summary metric <phase>/L<level>/<metric>, e.g. deploy/L2/align_parent_deploy")
    plot.add_argument("--by", required=True, help="the sweep axis on the x-axis, e.g. wisdom")
    plot.add_argument("--hue", help="a sweep axis whose values get a line each, e.g. tool_policy")
    plot.add_argument("--out", help="figure file, .png or .svg "
                      "(default DIR/figures/plot_<metric>_by_<by>.png)")
    plot.set_defaults(func=_plot)

    claims = sub.add_parser("claims", help="run the experiments behind the README's claims; write claims.md")
    claims.add_argument("--seeds", type=int, default=10, help="seeds per condition (default 10)")
    claims.add_argument("--out", default="out/claims",
                        help="where claims.md and its figures go (default out/claims; "
                        "'make claims' writes analysis/)")  # fmt: skip
    claims.add_argument("--runs", help="a new directory to keep the runs in (default: a temporary one)")
    claims.add_argument("--workers", type=int, help="local processes (default: all cores)")
    claims.add_argument("--quiet", action="store_true", help="no progress bars")
    claims.set_defaults(func=_claims)

    experiments = sub.add_parser("experiments", help="list the shipped experiments and their questions")
    experiments.set_defaults(func=cmd_experiments)

    params = sub.add_parser("params", help="every parameter: default, allowed values, meaning")
    params.add_argument("--scenario", default=DEFAULT_SCENARIO, help=f"one of {', '.join(sorted(REGISTRY))}")
    params.set_defaults(func=cmd_params)

    viz = sub.add_parser("viz", help="serve the browser view")
    viz.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    viz.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1: this machine only)")
    viz.set_defaults(func=cmd_viz)
    return parser


def _sweep(args: argparse.Namespace) -> int:
    from matryoshka.runs.sweep import cmd_sweep

    return cmd_sweep(args)


def _analyze(args: argparse.Namespace) -> int:
    from matryoshka.analysis.cli import main as analyze_main

    options = {"--out": args.out, "--jobs": args.jobs}
    return analyze_main([args.directory, *(x for k, v in options.items() if v is not None for x in (k, v))])


def _claims(args: argparse.Namespace) -> int:
    from matryoshka.runs.claims import cmd_claims

    return cmd_claims(args)


def _plot(args: argparse.Namespace) -> int:
    from matryoshka.analysis.plot import main as plot_main

    options = {"--metric": args.metric, "--by": args.by, "--hue": args.hue, "--out": args.out}
    return plot_main([args.directory, *(x for k, v in options.items() if v is not None for x in (k, v))])


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``matryoshka`` and ``python -m matryoshka.runs``."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: nothing was written for the unfinished run", file=sys.stderr)
        return 130
