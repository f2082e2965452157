"""The demo Space's blind arena, counted: which model do visitors prefer, and is it beyond noise?

Each verdict is a pair of records in the visitors' dataset (space_template/demo/app.py, arena mode) with
metadata `source=arena`, `compare` (the pair id), `model_a`, `model_b`, `verdict` (a/b/tie/both_bad) and
`voted_at`, and (since the app says so) `tuned`, the tuned model's name; either record alone holds the whole
verdict, and a pair counts once. A pair of models one of which its verdicts name as tuned gets `tuned` in
the summary, and its sentence says whether the *tuned* model is preferred; verdicts stored before that key
existed leave it None, and the sentence names whichever model leads.

Per pair of models (named in sorted order, `a` before `b`), a draw (tie or both bad) counts half a win to
each side, as in Chatbot Arena's Bradley-Terry fit: `b_win_rate = (b_wins + (ties + both_bad) / 2) /
votes`. Its 95 % CI is a percentile bootstrap over the verdicts (a seeded numpy resample, so the same
verdicts always give the same interval). With three models or more, Bradley-Terry strengths are fitted
by Hunter's MM iterations (a few lines; no extra dependency) and bootstrapped the same way, on the Elo
scale (400 log10 of the strength ratio, mean 1000).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from ktokit.console import KitError

ARENA_SOURCE = "arena"
VERDICTS = ("a", "b", "tie", "both_bad")
RESAMPLES = 2000
BT_RESAMPLES = 200  # each one refits the model: fewer, still stable to a point or two of score
SEED = 0
MIN_VOTES = 10  # below this a bootstrap CI is mostly the sample's own shape (3 wins of 3: "100-100 %")


def read_verdicts(metadata: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One verdict per pair id (the earliest, should a pair ever hold two), from records' metadata."""
    seen: dict[str, dict[str, str]] = {}
    for meta in metadata:
        if meta.get("source") != ARENA_SOURCE or meta.get("verdict") not in VERDICTS:
            continue
        if not (meta.get("compare") and meta.get("model_a") and meta.get("model_b")):
            continue
        verdict = {
            k: str(meta.get(k) or "")
            for k in ("compare", "model_a", "model_b", "verdict", "voted_at", "tuned")
        }
        old = seen.get(verdict["compare"])
        if old is None or verdict["voted_at"] < old["voted_at"]:
            seen[verdict["compare"]] = verdict
    return sorted(seen.values(), key=lambda v: (v["voted_at"], v["compare"]))


def _score_for_b(verdict: dict[str, str], a: str, b: str) -> float:
    """1 when `b` won this verdict, 0 when `a` did, 0.5 for a draw."""
    winner = {"a": verdict["model_a"], "b": verdict["model_b"]}.get(verdict["verdict"])
    return 0.5 if winner is None else float(winner == b)


def bootstrap_mean_ci(values: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED) -> list[float]:
    """95 % percentile bootstrap CI of the mean (seeded resample)."""
    rng = np.random.default_rng(seed)
    means = rng.choice(values, size=(resamples, len(values)), replace=True).mean(axis=1)
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def bradley_terry(
    models: list[str], games: list[tuple[str, str, float]], iterations: int = 200
) -> np.ndarray:
    """Elo-scale strengths by MM iterations (Hunter 2004); `games` are (a, b, b's score). Every pair that
    met gets one pseudo-draw, so a model that never won stays finite."""
    index = {m: i for i, m in enumerate(models)}
    n = len(models)
    wins, meets = np.zeros(n), np.zeros((n, n))
    for a, b, score in games:
        i, j = index[a], index[b]
        wins[j] += score
        wins[i] += 1 - score
        meets[i, j] += 1
        meets[j, i] += 1
    met = meets > 0
    wins += 0.5 * met.sum(axis=1)  # the pseudo-draw: half a win each
    meets += met
    p = np.ones(n)
    for _ in range(iterations):
        denom = (meets / (p[:, None] + p[None, :])).sum(axis=1)
        p = np.where(denom > 0, wins / np.where(denom > 0, denom, 1), p)
        p /= np.exp(np.log(p).mean())
    return 1000 + 400 * np.log10(p)


def arena_summary(language: str, verdicts: list[dict[str, str]]) -> dict[str, Any]:
    """The `arena --json` object: models, per-pair counts and win rates with CIs, Bradley-Terry ratings."""
    models = sorted({v["model_a"] for v in verdicts} | {v["model_b"] for v in verdicts})
    pairs = []
    games = []
    for a, b in combinations(models, 2):
        mine = [v for v in verdicts if {v["model_a"], v["model_b"]} == {a, b}]
        if not mine:
            continue
        scores = np.array([_score_for_b(v, a, b) for v in mine])
        games += [(a, b, float(s)) for s in scores]
        kinds = [v["verdict"] for v in mine]
        tuned = {v["tuned"] for v in mine} & {a, b}
        pairs.append(
            {
                "a": a,
                "b": b,
                "votes": len(mine),
                "a_wins": int((scores == 0).sum()),
                "b_wins": int((scores == 1).sum()),
                "ties": kinds.count("tie"),
                "both_bad": kinds.count("both_bad"),
                "b_win_rate": float(scores.mean()),
                "ci": bootstrap_mean_ci(scores),
                # the tuned one of the two, as the app named it (None: verdicts from before it did)
                "tuned": tuned.pop() if len(tuned) == 1 else None,
            }
        )
    ratings = []
    if len(models) >= 3:
        fit = bradley_terry(models, games)
        rng = np.random.default_rng(SEED)
        boots = np.array(
            [
                bradley_terry(models, [games[k] for k in rng.integers(0, len(games), len(games))])
                for _ in range(BT_RESAMPLES)
            ]
        )
        for i, model in enumerate(models):
            lo, hi = np.percentile(boots[:, i], [2.5, 97.5])
            ratings.append({"model": model, "score": round(float(fit[i]), 1), "ci": [float(lo), float(hi)]})
        ratings.sort(key=lambda r: -r["score"])
    return {"language": language, "models": models, "pairs": pairs, "ratings": ratings}


def more_votes(rate: float, ci: Sequence[float], votes: int) -> int:
    """About how many more votes the same win rate needs for its CI to leave 0.5 out (the CI's
    half-width shrinks as 1/sqrt(votes))."""
    half = (ci[1] - ci[0]) / 2
    return max(math.ceil(votes * (half / abs(rate - 0.5)) ** 2) - votes, 1)


def tuned_sentence(pair: Mapping[str, Any]) -> str:
    """Whether the pair's tuned model is preferred beyond noise, is not (the other one is), or about how
    many more votes would tell."""
    n, tuned = pair["votes"], pair["tuned"]
    other = pair["a"] if tuned == pair["b"] else pair["b"]
    rate, (lo, hi) = pair["b_win_rate"], pair["ci"]
    if tuned == pair["a"]:  # the rate and its CI seen from the tuned side
        rate, lo, hi = 1 - rate, 1 - hi, 1 - lo
    head = f"the tuned model {tuned} against {other}"
    if n < MIN_VOTES:
        return (
            f"{head}: only {n} votes, too few for the bootstrap CI to mean anything; "
            f"collect at least {MIN_VOTES}."
        )
    share = f"{rate:.0%} of {n} votes, 95 % CI {lo:.0%}-{hi:.0%}"
    if lo > 0.5:
        return f"The tuned model {tuned} is preferred to {other} beyond noise ({share})."
    if hi < 0.5:
        return f"The tuned model {tuned} is not preferred: {other} is, beyond noise (the tuned one: {share})."
    if abs(rate - 0.5) < 1e-9:
        return f"{head[0].upper()}{head[1:]}: even so far ({n} votes), no preference to wait for yet."
    leads = "leads" if rate > 0.5 else "trails"
    return (
        f"The tuned model {tuned} {leads} {other} but not beyond noise ({share}): at this rate about "
        f"{more_votes(rate, (lo, hi), n)} more votes would settle it."
    )


def verdict_sentence(pair: Mapping[str, Any]) -> str:
    """Whether `b` is preferred to `a` beyond noise (the CI leaves 0.5 out), or about how many more votes
    the same win rate would need for that; said of the tuned model when the verdicts name one."""
    if pair.get("tuned") in (pair["a"], pair["b"]):
        return tuned_sentence(pair)
    a, b, rate, (lo, hi), n = pair["a"], pair["b"], pair["b_win_rate"], pair["ci"], pair["votes"]
    if n < MIN_VOTES:
        return (
            f"{a} against {b}: only {n} votes, too few for the bootstrap CI to mean anything; "
            f"collect at least {MIN_VOTES}."
        )
    if lo > 0.5:
        return f"{b} is preferred to {a} beyond noise ({rate:.0%} of {n} votes, 95 % CI {lo:.0%}-{hi:.0%})."
    if hi < 0.5:
        return (
            f"{a} is preferred to {b} beyond noise ({1 - rate:.0%} of {n} votes, "
            f"95 % CI {1 - hi:.0%}-{1 - lo:.0%})."
        )
    leader, share = (b, rate) if rate >= 0.5 else (a, 1 - rate)
    if abs(rate - 0.5) < 1e-9:
        return f"{a} and {b} are even so far ({n} votes): no preference to wait for yet."
    return (
        f"{leader} leads ({share:.0%} of {n} votes) but not beyond noise (95 % CI {lo:.0%}-{hi:.0%} for "
        f"{b}): at this rate about {more_votes(rate, (lo, hi), n)} more votes would settle it."
    )


def summary_line(summary: Mapping[str, Any]) -> str:
    """One line for `progress`: the verdicts and the win rate of the tuned model's pair (else the first)."""
    pairs = summary["pairs"]
    votes = sum(p["votes"] for p in pairs)
    if not pairs:
        return ""
    p = next((p for p in pairs if p.get("tuned")), pairs[0])  # the tuned model's pair first
    winner, loser, rate, (lo, hi) = p["b"], p["a"], p["b_win_rate"], p["ci"]
    if p.get("tuned") == p["a"]:
        winner, loser, rate, lo, hi = p["a"], p["b"], 1 - rate, 1 - hi, 1 - lo
    if p.get("tuned"):
        winner = f"{winner} (tuned)"
    more = f" (+{len(pairs) - 1} more pairs)" if len(pairs) > 1 else ""
    return (
        f"arena        {votes} blind verdicts; {winner} wins {rate:.0%} against {loser} "
        f"(95 % CI {lo:.0%}-{hi:.0%}){more}: `python -m ktokit arena --language {summary['language']}`"
    )


def report_lines(summary: Mapping[str, Any]) -> list[str]:
    """The printed report: a sentence per pair of models (the tables are the CLI's)."""
    return [verdict_sentence(p) for p in summary["pairs"]]


NO_VERDICTS = (
    "no arena verdicts yet for {language}: serve or push the demo Space (`python -m ktokit demo-space "
    "--language {language} --adapter DIR --serve 7860`, blind arena by default) and let visitors vote"
)


def arena_for(language: str) -> dict[str, Any]:
    """The arena summary of a language, read from the server create_task.py recorded."""
    from ktokit.campaign.visitors import visitors_metadata
    from ktokit.export.read import connect

    client, dataset, _ = connect(language)
    verdicts = read_verdicts(visitors_metadata(client, dataset.workspace.name, dataset.name))
    if not verdicts:
        raise KitError(NO_VERDICTS.format(language=language))
    return arena_summary(language, verdicts)
