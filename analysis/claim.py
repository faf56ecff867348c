"""Claims about results, judged on the runs of an experiment: per-seed values, intervals, a verdict.

A claim says that one quantity is larger than another: `larger` > `smaller`, each a `Measure`
(one summary metric of one condition), a `Gap` (the difference of two measures in the same
seed), or a constant. Both sides come from the same experiment, whose conditions share their
replicate seeds, so the claim is judged on the per-seed difference, larger minus smaller,
paired by replicate: its mean and 95% t-interval over seeds. The claim holds when that interval
lies above 0. Each side's own mean carries its 95% interval (the score interval for a share).

Core objects: Measure, Gap, Claim, Verdict, judge, claim_figure, claims_markdown.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from matryoshka.analysis import competence
from matryoshka.analysis.dataset import Dataset, condition_label
from matryoshka.analysis.io import InputError, run_summary
from matryoshka.analysis.stats import mean_ci, share_interval
from matryoshka.analysis.style import DPI, OKABE_ITO, new_figure
from matryoshka.model.contract import parse_summary_key


@dataclass(frozen=True)
class Measure:
    """One number per seed: a metric of the runs of one condition.

    Attributes:
        metric: A summary key (`deploy/L1/reached_exit`: the phase's last episode), or a
            measure the analysis derives from a run's agents (`share_misaligned_train`,
            `share_misaligned`, `tools_per_organism`: see `analysis.competence.tool_counts`).
        where: The condition: a value for every axis of the claim's experiment.
        first: Read a summary key over the phase's first episode instead of its last.
    """

    metric: str
    where: Mapping[str, Any] = field(default_factory=dict)
    first: bool = False

    def label(self) -> str:
        """`deploy/L1/reached_exit at random_exit_share=0.5`."""
        when = " (first episode)" if self.first else ""
        return f"{self.metric}{when} at {condition_label(self.where, 'every run')}"

    def measures(self) -> tuple[Measure, ...]:
        """The measures this side reads (itself)."""
        return (self,)


@dataclass(frozen=True)
class Gap:
    """One number per seed: `minuend` minus `subtrahend`, in the same seed."""

    minuend: Measure
    subtrahend: Measure

    def label(self) -> str:
        """`(a) − (b)`."""
        return f"({self.minuend.label()}) − ({self.subtrahend.label()})"

    def measures(self) -> tuple[Measure, ...]:
        """The measures this side reads."""
        return (self.minuend, self.subtrahend)


Side = Measure | Gap


@dataclass(frozen=True)
class Claim:
    """A quantitative statement about results, as a comparison over seeds.

    Attributes:
        name: A short identifier, the anchor in `claims.md` (`selection-beats-neutral`).
        statement: The statement in words.
        experiment: The experiment behind it: a shipped experiment's name (`default`), or an
            experiment's TOML table itself; only the conditions the claim reads are run.
        larger: The side expected to be larger.
        smaller: The side expected to be smaller, or a constant.
    """

    name: str
    statement: str
    experiment: str | Mapping[str, Any]
    larger: Side
    smaller: Side | float

    def measures(self) -> tuple[Measure, ...]:
        """Every measure either side reads."""
        sides = (self.larger,) if isinstance(self.smaller, float | int) else (self.larger, self.smaller)
        return tuple(m for side in sides for m in side.measures())


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95% interval and the number of seeds."""

    mean: float
    low: float
    high: float
    n: int

    def text(self) -> str:
        """`0.25 [0.21, 0.29]`, or the mean alone without an interval."""
        if not np.isfinite(self.mean):
            return "no value"
        if not np.isfinite(self.low):
            return f"{self.mean:.2f}"
        return f"{self.mean:.2f} [{self.low:.2f}, {self.high:.2f}]"


@dataclass(frozen=True)
class Verdict:
    """What the runs say about a claim.

    Attributes:
        claim: The claim.
        larger: Per-seed values of the larger side, by replicate.
        smaller: Per-seed values of the smaller side (constant: the same in every seed).
        difference: The mean and 95% t-interval of larger − smaller over the seeds with both.
        sides: The mean and 95% interval of each side.
    """

    claim: Claim
    larger: pd.Series
    smaller: pd.Series
    difference: Estimate
    sides: tuple[Estimate, Estimate | None]

    @property
    def holds(self) -> bool:
        """Whether the interval of the difference lies above 0."""
        return bool(np.isfinite(self.difference.low) and self.difference.low > 0)


def _values(data: Dataset, measure: Measure) -> pd.Series:
    """The measure's value in each run of its condition, indexed by replicate.

    Raises:
        InputError: The condition has no runs, a replicate twice, or the metric is unknown.
    """
    summary = data.summary
    mask = np.ones(len(summary), dtype=bool)
    for key, value in measure.where.items():
        if key not in summary.columns:
            raise InputError(f"{measure.label()}: {key!r} is not a parameter of {data.path}")
        mask &= (summary[key] == value).to_numpy()
    rows = summary[mask]
    if rows.empty:
        raise InputError(f"{measure.label()}: no run of {data.path} has that condition")
    if rows["replicate"].duplicated().any():
        raise InputError(f"{measure.label()}: the condition does not fix every axis of "
                         f"{data.path} (axes: {', '.join(data.axes)}), so its runs are not seeds")
    runs = {run.run_id: run for run in data.runs}
    if parse_summary_key(measure.metric) and measure.first:
        values = pd.Series([run_summary(runs[str(i)], first=True).get(measure.metric, np.nan)
                            for i in rows["run_id"]], index=rows.index, dtype=float)
    elif parse_summary_key(measure.metric):
        values = (rows[measure.metric] if measure.metric in rows.columns
                  else pd.Series(np.nan, index=rows.index)).astype(float)
    elif measure.metric in competence.MEASURES and not measure.first:
        values = pd.Series([competence.run_measures(runs[str(i)])[measure.metric]
                            for i in rows["run_id"]], index=rows.index, dtype=float)
    else:
        raise InputError(f"{measure.label()}: {measure.metric!r} is neither a summary key "
                         f"(<phase>/L<level>/<metric>) nor one of {', '.join(competence.MEASURES)} "
                         "(which have no first episode)")
    return pd.Series(values.to_numpy(), index=rows["replicate"].to_numpy(), name=measure.label())


def _side(data: Dataset, side: Side) -> pd.Series:
    """Per-seed values of one side of a claim."""
    if isinstance(side, Measure):
        return _values(data, side)
    return _values(data, side.minuend) - _values(data, side.subtrahend)


def _is_share(data: Dataset, side: Side) -> bool:
    """Whether a side is a single measure whose values are shares in [0, 1]."""
    if not isinstance(side, Measure):
        return False
    parsed = parse_summary_key(side.metric)
    if parsed is None:
        return side.metric in competence.SHARES
    metric = data.metrics.get(parsed[2])
    return metric is not None and metric.share


def _estimate(values: pd.Series, share: bool) -> Estimate:
    """Mean and 95% interval over seeds (the score interval for shares)."""
    mean, half, n = mean_ci(values.to_numpy(dtype=float))
    if share and n >= 2:
        finite = values[np.isfinite(values)]
        low, high = share_interval(mean, finite.std(ddof=1), n)
        return Estimate(mean, float(low), float(high), n)
    return Estimate(mean, mean - half, mean + half, n)


def judge(claim: Claim, data: Dataset) -> Verdict:
    """Judge a claim on the runs of its experiment.

    Raises:
        InputError: A measure names a condition or metric the runs do not have.
    """
    larger = _side(data, claim.larger)
    if isinstance(claim.smaller, float | int):
        smaller = pd.Series(float(claim.smaller), index=larger.index)
        second = None
    else:
        smaller = _side(data, claim.smaller)
        second = _estimate(smaller, _is_share(data, claim.smaller))
    both = pd.concat([larger, smaller], axis=1, join="inner").dropna()
    difference = _estimate(both.iloc[:, 0] - both.iloc[:, 1], share=False)
    return Verdict(claim, larger, smaller, difference,
                   (_estimate(larger, _is_share(data, claim.larger)), second))


def claim_figure(verdict: Verdict, out: Path) -> Path:
    """Draw a claim: each seed's two values joined by a line, each side's mean and interval.

    Returns:
        The PNG written, `<out>/<claim name>.png`.
    """
    claim = verdict.claim
    fig, axes = new_figure(1, 1, panel=(4.6, 3.4))
    ax = axes[0, 0]
    both = pd.concat([verdict.larger, verdict.smaller], axis=1, join="inner")
    for _, (a, b) in both.iterrows():
        ax.plot([0, 1], [a, b], color="#bbbbbb", linewidth=0.8, marker="o", markersize=3)
    for x, estimate in enumerate(verdict.sides):
        if estimate is not None and np.isfinite(estimate.mean):
            err = np.nan_to_num([[estimate.mean - estimate.low], [estimate.high - estimate.mean]])
            ax.errorbar([x], [estimate.mean], yerr=err, fmt="s", color=OKABE_ITO["blue"],
                        capsize=5, markersize=6)
    smaller = (f"{claim.smaller:g}" if isinstance(claim.smaller, float | int)
               else claim.smaller.label())
    ax.set_xticks([0, 1], ["\n".join(textwrap.wrap(t, 34)) for t in (claim.larger.label(), smaller)],
                  fontsize="x-small")
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylabel("value per seed")
    verdict_text = "holds" if verdict.holds else "does not hold"
    ax.set_title("\n".join(textwrap.wrap(claim.statement, 60)) +
                 f"\ndifference {verdict.difference.text()}, n = {verdict.difference.n}: "
                 f"{verdict_text}", fontsize="small")
    out.mkdir(parents=True, exist_ok=True)
    png = out / f"{claim.name}.png"
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=DPI * 2 // 3, format="png")
    # claims.md and its figures are committed: 32 colours keep a line plot a quarter the size.
    image = Image.open(buffer).convert("RGB").quantize(colors=32, method=Image.Quantize.MEDIANCUT)
    image.save(png, optimize=True)
    return png


def _conditions(claim: Claim) -> str:
    """The claim's sides in words, for its section."""
    smaller = (f"the constant {claim.smaller:g}" if isinstance(claim.smaller, float | int)
               else f"`{claim.smaller.label()}`")
    return f"larger: `{claim.larger.label()}`; smaller: {smaller}"


def claims_markdown(verdicts: Sequence[Verdict], figures: Mapping[str, str], source: str,
                    command: str) -> str:
    """`claims.md`: a table of every claim's verdict, then a section per claim.

    Args:
        verdicts: The judged claims, in order.
        figures: Each claim's figure, by name, as a link relative to `claims.md`.
        source: Where the numbers come from (the commit and whether its tree was clean).
        command: The command that wrote the file.
    """
    held = sum(v.holds for v in verdicts)
    lines = [
        "# Claims", "",
        "Every quantitative statement the README makes about results, run as an experiment. "
        f"Written by `{command}` from {source}. Each claim compares two quantities measured "
        "in the same seeds (every condition of an experiment shares its replicate seeds); it "
        "holds when the 95% t-interval over seeds of the per-seed difference, larger minus "
        "smaller, lies above 0. Each side's mean carries its 95% interval over seeds (the "
        "score interval for shares, see `analysis/stats.py`); n is the number of seeds.", "",
        f"{held} of {len(verdicts)} claims hold.", "",
        "| claim | larger | smaller | difference | n | holds | figure |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in verdicts:
        second = v.sides[1].text() if v.sides[1] is not None else f"{v.claim.smaller:g}"
        lines.append(f"| [{v.claim.name}](#{v.claim.name}) | {v.sides[0].text()} | {second} | "
                     f"{v.difference.text()} | {v.difference.n} | "
                     f"{'yes' if v.holds else '**no**'} | "
                     f"[figure]({figures[v.claim.name]}) |")
    for v in verdicts:
        experiment = (f"`{v.claim.experiment}`" if isinstance(v.claim.experiment, str)
                      else "an inline experiment (`runs/readme_claims.py`)")
        lines += ["", f"## {v.claim.name}", "", f"{v.claim.statement}", "",
                  f"Experiment: {experiment}; {_conditions(v.claim)}.", "",
                  f"Larger {v.sides[0].text()}; smaller "
                  f"{v.sides[1].text() if v.sides[1] else f'{v.claim.smaller:g}'}; difference "
                  f"{v.difference.text()} over n = {v.difference.n} seeds: "
                  f"{'holds' if v.holds else 'does not hold'}.", "",
                  f"![{v.claim.name}]({figures[v.claim.name]})"]
    return "\n".join(lines) + "\n"
