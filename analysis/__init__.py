"""Reading what runs wrote into figures and tables: drift across generations and levels.

Each analysis is a module with `NAME`, `TITLE` and `analyse(data, out) -> Section`, runnable on
its own (`python -m matryoshka.analysis.drift DIR`); `python -m matryoshka.analysis DIR` runs them
all and writes `report.html`. Nothing here imports the model: the input is the run and sweep directories.
"""
