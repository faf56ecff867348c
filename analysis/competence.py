"""The competence map: how often Level-2 tools are built misaligned, over power x wisdom.

The essay's "middling competence" regime: builders powerful enough to build tools but not wise
enough to specify them. Reads each run's `agents.parquet` and needs a sweep with `power` and
`wisdom` as axes. The per-run measures here (`run_measures`: tools built, the shares misaligned,
what the whole system earns) also serve the competence axis and the claims.

Core objects: MISALIGNED_BELOW, MEASURES, tool_counts, system_return, run_measures, analyse.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from matryoshka.analysis.dataset import Dataset, condition_label
from matryoshka.analysis.io import Run
from matryoshka.analysis.section import NotApplicable, Section, write_section
from matryoshka.analysis.series import select
from matryoshka.analysis.stats import summarise
from matryoshka.analysis.style import SEQUENTIAL_CMAP, new_figure
from matryoshka.model.contract import PHASES, episode_length

NAME = "competence"
TITLE = "The competence map"
#: It reads every run's `levels.parquet`, so it runs in the process that loaded them.
READS_LEVELS = True
#: A Level-2 tool counts as built misaligned when its alignment with its builder is below this.
MISALIGNED_BELOW = 0.5
#: The share measured on each world's cells: the training world, where the builder taught the
#: tool (how well it was specified), and the deployment world (how well that survives the shift);
#: misaligned with the builder, and (`_base`) with the base objective.
SHARES = {"share_misaligned_train": "align_parent_train", "share_misaligned": "align_parent_deploy",
          "share_misaligned_base_train": "align_base_train",
          "share_misaligned_base": "align_base_deploy"}
AXES = ("power", "wisdom")
#: What `run_measures` measures in a run: `tool_counts`, then `system_return`.
MEASURES = ("tools_per_organism", *SHARES, *(f"system_return_{phase}" for phase in PHASES))


def tool_counts(agents: pd.DataFrame) -> dict[str, float]:
    """Level-2 tools built per organism, and the share of them built misaligned.

    Args:
        agents: Columns kind, level and the alignment columns of `SHARES` of one run.

    Returns:
        `tools_per_organism`, and `share_misaligned_train` (training cells) and
        `share_misaligned` (deployment cells) over the tools whose alignment with their builder
        is defined (NaN when there are none); `share_misaligned_base_train` and
        `share_misaligned_base` the same against the base objective.
    """
    tools = agents[agents["level"] == 2]
    organisms = int((agents["kind"] == "organism").sum())
    counts = {"tools_per_organism": len(tools) / organisms if organisms else float("nan")}
    for share, column in SHARES.items():
        values = tools[column].astype(float)
        defined = values[np.isfinite(values)]
        counts[share] = float((defined < MISALIGNED_BELOW).mean()) if len(defined) else float("nan")
    return counts


def system_return(levels: pd.DataFrame, config: dict) -> dict[str, float]:
    """The base reward all agents earn per step, per organism, over each phase's last episode.

    Args:
        levels: One run's `levels.parquet`.
        config: Its effective configuration (for the episode lengths).

    Returns:
        `system_return_<phase>` for each phase (NaN for a phase the run does not have): the mean
        over the phase's last episode of (sum over levels of mean base_return x agents) /
        organisms.
    """
    reward = levels[levels["metric"] == "base_return"]
    total = (reward["mean"] * reward["count"]).groupby([reward["phase"], reward["step"]]).sum()
    organisms = levels[(levels["metric"] == "population") & (levels["level"] == 1)]
    per = total / organisms.set_index(["phase", "step"])["mean"]
    out = {}
    for phase in PHASES:
        series = per.xs(phase, level="phase") if phase in per.index.get_level_values("phase") else per[:0]
        last = series[series.index > series.index.max() - episode_length(config, phase)]
        out[f"system_return_{phase}"] = float(last.mean()) if len(last) else float("nan")
    return out


def run_measures(run: Run) -> dict[str, float]:
    """`tool_counts` (NaN when the run did not write its agents) and `system_return` of one run."""
    agents = run.agents(["kind", "level", *SHARES.values()])
    counts = dict.fromkeys(("tools_per_organism", *SHARES), float("nan")) if agents is None \
        else tool_counts(agents)
    return {**counts, **system_return(run.levels, run.manifest["config"])}


def _heatmap(ax: Axes, grid: pd.DataFrame, counts: pd.DataFrame, vmax: float,
             label: str) -> None:
    """One annotated power x wisdom heatmap with its colour bar."""
    values = grid.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(values), origin="lower", cmap=SEQUENTIAL_CMAP,
                      vmin=0.0, vmax=vmax, aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        runs = int(counts.iat[i, j])
        text = f"{value:.2f}" if np.isfinite(value) else ("no tools" if runs else "no runs")
        colour = "black" if not np.isfinite(value) or value > 0.6 * vmax else "white"
        ax.text(j, i, f"{text}\n(n={runs})", ha="center", va="center", fontsize="small",
                color=colour)
    ax.set_facecolor("#dddddd")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    ax.set_xlabel("power (competence gene, 0-1)")
    ax.set_ylabel("wisdom (competence gene, 0-1)")
    ax.figure.colorbar(image, ax=ax, label=label)


def analyse(data: Dataset, out: Path) -> Section:
    """Draw the share of misaligned Level-2 tools and the tools built, per power x wisdom.

    One figure per condition of the other axes (e.g. each tool policy) that built tools.

    Raises:
        NotApplicable: Power and wisdom are not both sweep axes, or no Level-2 tool was built.
    """
    if not all(a in data.axes for a in AXES):
        raise NotApplicable(f"needs a sweep with power and wisdom as axes (axes here: "
                            f"{', '.join(data.axes) or 'none'})")
    others = [a for a in data.axes if a not in AXES]
    params = data.summary.set_index(data.summary["run_id"].astype(str))
    frame = pd.DataFrame([{"run_id": run.run_id, **{a: params.at[run.run_id, a]
                                                    for a in [*others, *AXES]},
                           **run_measures(run)} for run in data.runs])
    if not (frame["tools_per_organism"] > 0).any():
        raise NotApplicable("no Level-2 tool was built in any run")
    tidy = frame.melt(id_vars=["run_id", *others, *AXES], var_name="measure", value_name="value")
    table = summarise(tidy, ["measure", *others, *AXES],
                      shares=lambda rows: rows["measure"].isin(SHARES).to_numpy())
    built = [c for c in data.conditions(others)
             if (select(frame, c)["tools_per_organism"] > 0).any()]
    figures = [_figure(table, select(frame, c), c) for c in built]
    left_out = [condition_label(c) for c in data.conditions(others) if c not in built]
    caption = ("Left and middle: of the Level-2 tools built in a run, the share whose alignment "
               f"with their builder is below {MISALIGNED_BELOW:g}, on the training world's cells "
               "(where the builder specified the tool) and on the deployment world's; right: "
               "Level-2 tools built per organism. Each cell is the mean over the seeds of its "
               "condition (n = seeds; the CSV has the 95% intervals, the score interval for the "
               "shares); one figure per condition of the other sweep axes. Grey cells: no tools "
               "were built there, or the sweep has no run there."
               + (f" Left out, no tools built: {'; '.join(left_out)}." if left_out else ""))
    return write_section(out, NAME, TITLE, caption, figures, table)


def _figure(table: pd.DataFrame, frame: pd.DataFrame, condition: dict) -> Figure:
    """Three heat maps over power x wisdom for one condition of the other axes."""
    fig, axes = new_figure(1, 3, panel=(4.6, 3.8))
    measures = {
        "share_misaligned_train": (f"share built misaligned, training cells\n(align_parent_train < "
                                   f"{MISALIGNED_BELOW:g})", 1.0),
        "share_misaligned": (f"share built misaligned, deployment cells\n(align_parent_deploy < "
                             f"{MISALIGNED_BELOW:g})", 1.0),
        "tools_per_organism": ("Level-2 tools built per organism",
                               max(float(frame["tools_per_organism"].max()), 1e-9)),
    }
    # Every run counts in n, also where its value is undefined (no tools to judge).
    counts = frame.pivot_table(index="wisdom", columns="power", values="run_id",
                               aggfunc="count").sort_index().sort_index(axis=1)
    for ax, (measure, (label, vmax)) in zip(axes[0], measures.items(), strict=True):
        rows = select(table, condition, measure=measure)
        grid = rows.pivot(index="wisdom", columns="power", values="mean").reindex_like(counts)
        _heatmap(ax, grid, counts.fillna(0), vmax, label)
        ax.set_title(label, fontsize="medium")
    where = f" ({condition_label(condition)})" if condition else ""
    fig.suptitle(f"The competence map: Level-2 tools built misaligned with their builder "
                 f"(alignment < {MISALIGNED_BELOW:g}) and built at all{where}")
    return fig


if __name__ == "__main__":
    from matryoshka.analysis.entry import standalone

    raise SystemExit(standalone(analyse, NAME, __doc__))
