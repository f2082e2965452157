"""The dashboard's charts as data: pure functions from the dashboard's figures to the pandas DataFrames
Gradio's own plot components draw (gr.BarPlot, gr.LinePlot, gr.ScatterPlot), testable without a browser.

Gradio 6's native plots (Vega-Lite underneath) draw one mark per component and have no error-bar
encoding, and a bar or line plot over a category axis sums the rows of each category. So an estimate
with its 95 % CI is drawn as a scatter plot of three series per category: the estimate, the CI's low
end and its high end (`ESTIMATE`, `CI_LOW`, `CI_HIGH`); a scatter plot never sums its rows.

The 👍 rate's CI is the arena's percentile bootstrap (ktokit.campaign.arena.bootstrap_mean_ci, seeded)
over each model's labelled records, so the dashboard's two kinds of CI are computed the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ktokit.campaign.arena import bootstrap_mean_ci

ESTIMATE, CI_LOW, CI_HIGH = "estimate", "95 % CI low", "95 % CI high"
SERIES_COLOURS = {ESTIMATE: "#1d4ed8", CI_LOW: "#6b7280", CI_HIGH: "#6b7280"}  # the CI ends in grey
ANSWERS, COMPLETED = "answers submitted", "records completed"


def per_day_frame(per_day: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """`day` (YYYY-MM-DD, a category: one bar a day) and `answers`, from `dashboard_figures`' `per_day`."""
    rows = [(str(d["day"]), int(d["submitted"])) for d in per_day]
    return pd.DataFrame(rows, columns=["day", "answers"])


def progress_frame(answer_times: Iterable[Sequence[str]], min_submitted: int) -> pd.DataFrame:
    """Cumulative `count` over `time` (UTC) in two series: submitted answers, and records completed (a
    record completes when its `min_submitted`-th submitted answer is saved). `answer_times` holds each
    record's submitted answers' times (ISO 8601); one row per series and distinct time, oldest first."""
    answers: list[pd.Timestamp] = []
    completed: list[pd.Timestamp] = []
    for times in answer_times:
        ordered = sorted(pd.to_datetime([t for t in times if t], utc=True, format="ISO8601"))
        answers += ordered
        if min_submitted >= 1 and len(ordered) >= min_submitted:
            completed.append(ordered[min_submitted - 1])
    frames = []
    for series, stamps in ((ANSWERS, answers), (COMPLETED, completed)):
        if not stamps:
            continue
        times = pd.Series(sorted(stamps)).dt.tz_localize(None)  # UTC, naive: Gradio sends epoch ms
        counts = pd.Series(np.arange(1, len(times) + 1))
        last = ~times.duplicated(keep="last")  # one point per time: the count once all its answers are in
        frames.append(pd.DataFrame({"time": times[last], "count": counts[last], "series": series}))
    if not frames:
        return pd.DataFrame(
            {"time": pd.Series(dtype="datetime64[ns]"), "count": pd.Series(dtype=int), "series": []}
        )
    return pd.concat(frames, ignore_index=True)


def _ci_rows(label: str, estimate: float, ci: Sequence[float]) -> list[tuple[str, float, str]]:
    lo, hi = ci
    return [(label, float(estimate), ESTIMATE), (label, float(lo), CI_LOW), (label, float(hi), CI_HIGH)]


def model_rate_frame(models: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """`model`, `rate` and `series` (estimate, CI low, CI high): each model's share of 👍 labels among its
    labelled records, with the bootstrap 95 % CI; a model with no label yet has no row."""
    rows = []
    for m in models:
        up, down = int(m["up"]), int(m["down"])
        if up + down == 0:
            continue
        values = np.array([1.0] * up + [0.0] * down)
        rows += _ci_rows(str(m["model"]), up / (up + down), bootstrap_mean_ci(values))
    return pd.DataFrame(rows, columns=["model", "rate", "series"])


def pair_label(pair: Mapping[str, Any]) -> str:
    """How the chart names a pair: the model whose win rate it shows first."""
    return f"{pair['b']} vs {pair['a']}"


def arena_frame(summary: Mapping[str, Any] | None) -> pd.DataFrame:
    """`pair`, `win rate` and `series` (estimate, CI low, CI high): per pair of models in `arena_summary`,
    the win rate of its `b` (draws half a win) with the bootstrap 95 % CI; empty without verdicts."""
    rows = []
    for pair in (summary or {}).get("pairs") or []:
        rows += _ci_rows(pair_label(pair), pair["b_win_rate"], pair["ci"])
    return pd.DataFrame(rows, columns=["pair", "win rate", "series"])
