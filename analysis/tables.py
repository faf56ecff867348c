"""The summary table: each metric per level and phase, mean and 95% interval over runs.

Reads the per-run summary (the last episode of each phase: `sweep.parquet`'s summary columns,
or the same computed from `levels.parquet`) and writes `summary.csv` (tidy, every metric) and
`summary.md` (the metrics the runs' registry marks as headline, one row per condition, phase
and level, with the number of seeds of the condition).

Core objects: summary_table, headline, to_markdown, analyse.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from matryoshka.analysis.dataset import Dataset
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.stats import format_ci, summarise
from matryoshka.model.contract import PHASES, parse_summary_key

NAME = "summary"
TITLE = "Summary per level and phase"


def summary_table(data: Dataset) -> pd.DataFrame:
    """Every summary metric's mean and 95% interval over the seeds of each condition.

    Returns:
        Columns <axes>, phase, level, metric, mean, ci_low, ci_high, n (seeds with a value).
    """
    axes = list(data.axes)
    columns = [c for c in data.summary.columns if parse_summary_key(c)]
    tidy = data.summary.melt(id_vars=["run_id", *axes], value_vars=columns, var_name="column",
                             value_name="value")
    parts = tidy["column"].str.split("/", expand=True)
    tidy = tidy.assign(phase=parts[0], level=parts[1].str.removeprefix("L").astype(int),
                       metric=parts[2], value=tidy["value"].astype(float))
    return summarise(tidy, [*axes, "phase", "level", "metric"], shares=data.share_rows)


def headline(table: pd.DataFrame, data: Dataset) -> pd.DataFrame:
    """The headline metrics as one row per condition, phase and level, cells `mean ± half-width`.

    The headline metrics are those the runs' registry marks so; the `n` column is the number of
    seeds of the condition.
    """
    axes = list(data.axes)
    metrics = [name for name, m in data.metrics.items() if m.headline]
    rows = table[table["metric"].isin(metrics)].copy()
    rows["cell"] = [format_ci(m, lo, hi) for m, lo, hi in
                    zip(rows["mean"], rows["ci_low"], rows["ci_high"], strict=True)]
    wide = rows.pivot_table(index=[*axes, "phase", "level"], columns="metric", values="cell",
                            aggfunc="first", fill_value="")
    order = [m for m in metrics if m in wide.columns]
    wide = wide[order].reset_index()
    wide.columns.name = None
    seeds = [data.runs_in({a: row[a] for a in axes}) for _, row in wide.iterrows()]
    wide.insert(len(axes), "n", seeds)
    wide["order"] = wide["phase"].map({p: i for i, p in enumerate(PHASES)}).fillna(len(PHASES))
    keys = [wide[a].map(data.legend.key) for a in axes]
    wide = wide.assign(**{f"_key{i}": k for i, k in enumerate(keys)})
    sort = [*(f"_key{i}" for i in range(len(axes))), "order", "level"]
    return wide.sort_values(sort).drop(columns=["order", *(f"_key{i}" for i in range(len(axes)))])


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table."""
    def row(values: object) -> str:
        return "| " + " | ".join(str(v).replace("|", "\\|") for v in values) + " |"

    lines = [row(frame.columns), row(["---"] * len(frame.columns))]
    lines += [row(values) for values in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def analyse(data: Dataset, out: Path) -> Section:
    """Write `summary.csv` and `summary.md`.

    Raises:
        NotApplicable: The runs have no summary values.
    """
    table = summary_table(data)
    if table.empty:
        raise NotApplicable("no <phase>/L<level>/<metric> summary values in the runs")
    wide = headline(table, data)
    out.mkdir(parents=True, exist_ok=True)
    interval = ("mean ± half-width of the 95% interval over the seeds of each condition (the "
                "t-interval; for shares the score interval, written mean [low, high] where it "
                "is asymmetric), n = seeds"
                if data.kind == "sweep"
                else "one run, so no interval over seeds")
    markdown = out / "summary.md"
    markdown.write_text(f"# {TITLE}\n\nLast episode of each phase; {interval}.\n\n"
                        f"{to_markdown(wide)}", encoding="utf-8")
    caption = (f"Each metric over the last episode of each phase, per level; {interval}. "
               "summary.csv has every metric with its interval bounds; summary.md is this "
               "table in Markdown.")
    return write_section(out, NAME, TITLE, caption, None, table, display=wide, extra=(markdown,))


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
