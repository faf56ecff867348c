"""`python -m matryoshka.analysis DIR [--out FIGDIR]`."""

from matryoshka.analysis.cli import main

raise SystemExit(main(prog="python -m matryoshka.analysis"))
