"""``python -m matryoshka.runs``: the same command line as ``matryoshka``."""

import sys

from matryoshka.runs.cli import main

sys.exit(main())
