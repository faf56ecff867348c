"""``python -m runs``: the same command line as ``matryoshka``."""

import sys

from runs.cli import main

sys.exit(main())
