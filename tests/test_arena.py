"""The blind arena's count (ktokit.campaign.arena), on a fixed set of verdicts whose numbers are worked
out by hand here; the verdicts' way through the real app and Argilla is tests/test_demo_space.py."""

from __future__ import annotations

import pytest

from ktokit.campaign.arena import arena_summary, read_verdicts, summary_line, verdict_sentence


def meta(pair: str, a: str, b: str, verdict: str, side: str = "A", at: str = "2026-01-01T00:00:00Z") -> dict:
    return {
        "source": "arena",
        "compare": pair,
        "side": side,
        "model_a": a,
        "model_b": b,
        "verdict": verdict,
        "voted_at": at,
    }


FIXED = [
    # x against y, either side: x wins, y wins (as A), y wins (as B), a tie, both bad
    meta("p1", "x", "y", "a"),
    meta("p2", "y", "x", "a"),
    meta("p3", "x", "y", "b"),
    meta("p4", "x", "y", "tie"),
    meta("p5", "y", "x", "both_bad"),
    # x against z: z wins three times out of three
    meta("p6", "z", "x", "a"),
    meta("p7", "x", "z", "b"),
    meta("p8", "x", "z", "b"),
]


def test_win_rates_are_the_ones_counted_by_hand():
    records = [*FIXED, {**FIXED[0], "side": "B"}, {"source": "demo", "side": "base", "visitor_vote": "good"}]
    verdicts = read_verdicts(records)
    assert len(verdicts) == 8  # both records of pair p1 are one verdict; a 👍 vote is no verdict
    s = arena_summary("en", verdicts)
    assert s["models"] == ["x", "y", "z"]
    xy, xz = s["pairs"]
    # y: wins p2 and p3, loses p1, draws p4 and p5 (half each): (2 + 1) / 5
    assert (xy["a"], xy["b"], xy["votes"], xy["a_wins"], xy["b_wins"], xy["ties"], xy["both_bad"]) == (
        "x",
        "y",
        5,
        1,
        2,
        1,
        1,
    )
    assert xy["b_win_rate"] == pytest.approx(3 / 5)
    assert (xz["votes"], xz["a_wins"], xz["b_wins"], xz["b_win_rate"]) == (3, 0, 3, 1.0)
    lo, hi = xy["ci"]
    assert 0 <= lo < 0.6 < hi <= 1
    assert xz["ci"] == [1.0, 1.0]  # every resample of three wins is three wins
    assert arena_summary("en", verdicts) == s  # the resample is seeded
    # three models: Bradley-Terry, z (never beaten) first, each score inside its own CI
    ranked = [r["model"] for r in s["ratings"]]
    assert ranked[0] == "z" and set(ranked) == {"x", "y", "z"}
    assert all(r["ci"][0] <= r["score"] <= r["ci"][1] for r in s["ratings"])
    assert "arena        8 blind verdicts; y wins 60% against x" in summary_line(s)


def test_the_sentence_says_beyond_noise_or_how_many_more_votes():
    many = [meta(f"w{i}", "base", "tuned", "b") for i in range(30)] + [
        meta(f"l{i}", "base", "tuned", "a") for i in range(5)
    ]
    (pair,) = arena_summary("en", read_verdicts(many))["pairs"]
    assert arena_summary("en", read_verdicts(many))["ratings"] == []  # two models: no Bradley-Terry
    assert verdict_sentence(pair).startswith("tuned is preferred to base beyond noise (86% of 35 votes")
    some = [meta(f"w{i}", "base", "tuned", "b") for i in range(7)] + [
        meta(f"l{i}", "base", "tuned", "a") for i in range(5)
    ]
    (pair,) = arena_summary("en", read_verdicts(some))["pairs"]
    said = verdict_sentence(pair)
    assert said.startswith("tuned leads (58% of 12 votes) but not beyond noise") and "more votes" in said
    more = int(said.split("about ")[1].split()[0])
    assert 50 < more < 300  # a 58 % rate needs ~130 votes in all (1.96² · 0.24 / 0.083²), 12 of them here
    (pair,) = arena_summary("en", read_verdicts(some[:3]))["pairs"]  # three wins of three
    assert verdict_sentence(pair) == (
        "base against tuned: only 3 votes, too few for the bootstrap CI to mean anything; "
        "collect at least 10."
    )
