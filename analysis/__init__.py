"""Reading what runs wrote into figures and tables: drift across generations and levels.

Each analysis is a module with `NAME`, `TITLE` and `analyse(data, out) -> Section`, runnable on
its own (`python -m matryoshka.analysis.drift DIR`); `python -m matryoshka.analysis DIR` runs them
all and writes `report.html`. One that reads every run's `levels.parquet` says so with
`READS_LEVELS = True`: it then runs in the process that loaded them, the others on workers.
Nothing here imports the model: the input is the run and sweep directories.
"""
