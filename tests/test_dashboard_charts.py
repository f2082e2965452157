"""The dashboard's charts as data (ktokit.campaign.charts): fixed figures in, the DataFrames Gradio's plots
draw out, every number worked out by hand here. The charts in a real browser: tests/test_dashboard.py."""

from __future__ import annotations

import pandas as pd
import pytest

from ktokit.campaign.arena import arena_summary, read_verdicts
from ktokit.campaign.charts import (
    ANSWERS,
    CI_HIGH,
    CI_LOW,
    COMPLETED,
    ESTIMATE,
    arena_frame,
    model_rate_frame,
    per_day_frame,
    progress_frame,
)
from ktokit.campaign.dashboard import answer_times, answers_per_day


def response(status: str, at: str) -> dict:
    return {"status": status, "updated_at": at, "inserted_at": "2000-01-01T00:00:00"}


# three records: their answers' statuses and last-saved times (as the records endpoint gives them)
ITEMS = [
    {
        "responses": [
            response("submitted", "2026-03-02T10:00:00"),
            response("submitted", "2026-03-01T09:00:00"),
            response("draft", "2026-03-01T08:00:00"),
        ]
    },
    {
        "responses": [
            response("submitted", "2026-03-02T10:00:00"),
            response("discarded", "2026-03-02T11:00:00"),
        ]
    },
    {
        "responses": [
            response("submitted", "2026-03-03T12:00:00.5+00:00"),
            response("submitted", "2026-03-02T11:00:00"),
        ]
    },
    {"responses": None},
]


def test_answers_per_day_and_over_time_count_submitted_answers_by_when_they_were_saved():
    times = answer_times(ITEMS)
    assert times == [
        ["2026-03-01T09:00:00", "2026-03-02T10:00:00"],
        ["2026-03-02T10:00:00"],
        ["2026-03-02T11:00:00", "2026-03-03T12:00:00.5+00:00"],
        [],
    ]
    days = per_day_frame(answers_per_day(ITEMS))
    assert days.to_dict("records") == [
        {"day": "2026-03-01", "answers": 1},
        {"day": "2026-03-02", "answers": 3},
        {"day": "2026-03-03", "answers": 1},
    ]

    frame = progress_frame(times, min_submitted=2)
    assert list(frame.columns) == ["time", "count", "series"]
    assert pd.api.types.is_datetime64_any_dtype(frame["time"])  # a time axis, not text
    got = [(str(t), c, s) for t, c, s in frame.itertuples(index=False)]
    # answers: 09:00 (1), two at 10:00 on the 2nd (3: one point), 11:00 (4), the 3rd (5);
    # completed (2 submitted answers): record 1 at its 2nd answer, record 3 at its 2nd; record 2 never
    assert got == [
        ("2026-03-01 09:00:00", 1, ANSWERS),
        ("2026-03-02 10:00:00", 3, ANSWERS),
        ("2026-03-02 11:00:00", 4, ANSWERS),
        ("2026-03-03 12:00:00.500000", 5, ANSWERS),
        ("2026-03-02 10:00:00", 1, COMPLETED),
        ("2026-03-03 12:00:00.500000", 2, COMPLETED),
    ]
    once = progress_frame(times, min_submitted=1)  # every answered record completes at its first answer
    assert once[once["series"] == COMPLETED]["count"].tolist() == [1, 2, 3]
    empty = progress_frame([[], []], min_submitted=2)
    assert empty.empty and list(empty.columns) == ["time", "count", "series"]
    assert per_day_frame([]).empty


def test_the_thumbs_up_rate_per_model_comes_with_its_ci_as_two_more_series():
    frame = model_rate_frame(
        [
            {"model": "all-up", "up": 3, "down": 0},
            {"model": "mixed", "up": 3, "down": 1},
            {"model": "unrated", "up": 0, "down": 0},
        ]
    )
    rows = {(m, s): r for m, r, s in frame.itertuples(index=False)}
    assert set(rows) == {(m, s) for m in ("all-up", "mixed") for s in (ESTIMATE, CI_LOW, CI_HIGH)}
    # three 👍 of three: every resample is all 👍, so the CI is the point itself
    assert (rows["all-up", ESTIMATE], rows["all-up", CI_LOW], rows["all-up", CI_HIGH]) == (1.0, 1.0, 1.0)
    assert rows["mixed", ESTIMATE] == 0.75
    # a resample of 4 holds 0-4 👍: the percentiles fall on quarters, around 3/4 and not beyond 1
    lo, hi = rows["mixed", CI_LOW], rows["mixed", CI_HIGH]
    assert lo < 0.75 <= hi <= 1.0 and (lo * 4).is_integer() and (hi * 4).is_integer()
    assert model_rate_frame([]).empty


def test_the_arena_chart_shows_each_pairs_win_rate_with_its_ci_and_nothing_without_verdicts():
    def meta(pair, a, b, verdict):
        return {"source": "arena", "compare": pair, "model_a": a, "model_b": b, "verdict": verdict}

    # base against tuned: tuned wins twice (once on each side), base once, one tie -> (2 + 0.5) / 4
    verdicts = read_verdicts(
        [
            meta("1", "base", "tuned", "b"),
            meta("2", "tuned", "base", "a"),
            meta("3", "base", "tuned", "a"),
            meta("4", "tuned", "base", "tie"),
        ]
    )
    frame = arena_frame(arena_summary("ja", verdicts))
    assert frame["pair"].unique().tolist() == ["tuned vs base"]
    rows = dict(zip(frame["series"], frame["win rate"]))
    assert rows[ESTIMATE] == pytest.approx(2.5 / 4)
    assert 0 <= rows[CI_LOW] < 2.5 / 4 < rows[CI_HIGH] <= 1
    assert arena_frame(None).empty and list(arena_frame(None).columns) == ["pair", "win rate", "series"]


def test_before_the_first_verdict_the_arena_chart_is_hidden_and_one_line_says_so():
    """The app's own wiring of the builders (space_template/dashboard/app.py), with no browser."""
    import importlib.util
    import sys

    from kit_testing import ROOT

    spec = importlib.util.spec_from_file_location(
        "dashboard_app_charts", ROOT / "space_template/dashboard/app.py"
    )
    app = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = app  # its dataclasses look their module up
    spec.loader.exec_module(app)
    figures = {
        "per_day": answers_per_day(ITEMS),
        "answer_times": answer_times(ITEMS),
        "min_submitted": 2,
        "models": [{"model": "m", "up": 1, "down": 1}],
        "arena": None,
    }
    per_day, over_time, rates, arena, note = app.charts(figures)
    assert per_day["answers"].sum() == 5 and over_time["count"].max() == 5 and len(rates) == 3
    assert arena["visible"] is False and arena["value"].empty
    assert note == app.NO_VERDICTS and "\n" not in note and "demo-space" in note
