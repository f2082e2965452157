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


def test_the_sentence_is_said_of_the_tuned_model_when_the_verdicts_name_it():
    """The app stores which model is the tuned one (`tuned`): the sentence is then about that model, even
    when its name sorts first (it is `a`, and the win rate is `b`'s); without it, as before."""
    named = [{**meta(f"w{i}", "base", "a-tuned", "b"), "tuned": "a-tuned"} for i in range(30)] + [
        {**meta(f"l{i}", "base", "a-tuned", "a"), "tuned": "a-tuned"} for i in range(5)
    ]  # a-tuned (B in the app) wins 30 of 35
    s = arena_summary("en", read_verdicts(named))
    (pair,) = s["pairs"]
    assert (pair["a"], pair["b"], pair["tuned"], pair["a_wins"]) == ("a-tuned", "base", "a-tuned", 30)
    assert verdict_sentence(pair).startswith(
        "The tuned model a-tuned is preferred to base beyond noise (86% of 35 votes, 95 % CI "
    )
    assert "a-tuned (tuned) wins 86% against base" in summary_line(s)
    flipped = [{**v, "verdict": "b" if v["verdict"] == "a" else "a"} for v in named]
    (pair,) = arena_summary("en", read_verdicts(flipped))["pairs"]
    assert verdict_sentence(pair).startswith(
        "The tuned model a-tuned is not preferred: base is, beyond noise"
    )
    close = named[:7] + named[30:]  # 7 wins, 5 losses
    (pair,) = arena_summary("en", read_verdicts(close))["pairs"]
    said = verdict_sentence(pair)
    assert said.startswith("The tuned model a-tuned leads base but not beyond noise (58% of 12 votes")
    assert said.endswith("more votes would settle it.")
    old = [{k: v for k, v in m.items() if k != "tuned"} for m in named]  # stored before the app said so
    (pair,) = arena_summary("en", read_verdicts(old))["pairs"]
    assert pair["tuned"] is None and verdict_sentence(pair).startswith("a-tuned is preferred to base")


def test_a_simulated_visitor_prefers_the_form_with_seeded_noise():
    import random

    from ktokit.demo.simulated_visitors import VERDICTS, choose, form_verdict

    assert [form_verdict(*f) for f in ((True, False), (False, True), (True, True), (False, False))] == [
        "a",
        "b",
        "tie",
        "both_bad",
    ]
    rng = random.Random(0)
    assert all(choose(True, False, rng, 0.0) == ("a", False) for _ in range(50))
    draws = [choose(True, False, random.Random(7), 0.15) for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]  # seeded
    rng = random.Random(1)
    many = [choose(False, True, rng, 0.15) for _ in range(2000)]
    noisy = [v for v, n in many if n]
    assert 0.12 < len(noisy) / len(many) < 0.18 and set(noisy) == set(VERDICTS)
    assert all(v == "b" for v, n in many if not n)


def test_simulated_visitors_without_an_app_say_so_in_one_line():
    from kit_testing import free_port

    from ktokit.console import KitError
    from ktokit.demo.simulated_visitors import vote_blind
    from ktokit.packs.languages import load_pack

    url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    with pytest.raises(KitError, match=r"^the demo Space at .* failed while connecting: "):
        vote_blind(url, ["a prompt"], load_pack("en"), progress=False)
    with pytest.raises(KitError, match="noise is 1.5: a share between 0 and 1"):
        vote_blind(url, ["a prompt"], load_pack("en"), noise=1.5)
