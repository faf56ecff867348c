"""Running experiments: the command line, single runs and sweeps."""
