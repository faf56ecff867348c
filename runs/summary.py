"""Final summary metrics of a run, read from its level time series.

Core Objects: summarize, SUMMARY_METRICS.
"""

from __future__ import annotations

import pandas as pd

SUMMARY_METRICS = (
    "population", "base_return", "align_base_train", "align_base_deploy", "align_parent_train",
    "align_parent_deploy", "cos_base", "reached_exit", "reached_proxy", "built", "scrapped",
    "defected", "trust", "dependence",
)  # fmt: skip
EPISODE_CUMULATIVE = ("reached_exit", "reached_proxy")


def summarize(levels: pd.DataFrame, window: int) -> dict[str, float]:
    """Mean of each metric over the last ``window`` steps of each phase, per level.

    Metrics that accumulate over an episode (``reached_exit``, ``reached_proxy``) take their value
    at the phase's last step instead: the share of agents that got there in the final episode.

    Args:
        levels: The tidy ``levels.parquet`` table.
        window: How many final steps of a phase to average (one episode).

    Returns:
        ``{"<phase>/L<level>/<metric>": value}`` for the metrics in ``SUMMARY_METRICS`` and the
        ``w_<feature>`` weights.
    """
    out: dict[str, float] = {}
    keep = levels["metric"].isin(SUMMARY_METRICS) | levels["metric"].str.startswith("w_")
    levels = levels[keep]
    for phase, part in levels.groupby("phase", sort=False):
        last = part["step"].max()
        tail = part[part["step"] > last - window]
        means = tail.groupby(["level", "metric"])["mean"].mean()
        final = tail[tail["step"] == last].set_index(["level", "metric"])["mean"]
        ends = final[final.index.get_level_values("metric").isin(EPISODE_CUMULATIVE)]
        means.update(ends)
        for (level, metric), value in means.items():
            out[f"{phase}/L{level}/{metric}"] = float(value)
    return out
