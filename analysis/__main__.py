"""`python -m analysis DIR [--out FIGDIR]`."""

from analysis.cli import main

raise SystemExit(main(prog="python -m analysis"))
