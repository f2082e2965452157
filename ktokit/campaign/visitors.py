"""Visitors' votes in the demo Space, counted: did they prefer the tuned model's answer to the base's?

The demo Space shows one prompt answered by the base model and by the tuned one (same seed), and a 👍
and a 👎 under each. Every vote becomes a record of the visitors' dataset (`<dataset>-visitors`, see
ktokit.demo.visitors) with metadata `side` (base/tuned), `visitor_vote` (good/bad) and `compare` (one id
per generated pair). A **preference** is a pair where one side got 👍 and the other 👎: tuned 👍 with
base 👎 prefers the tuned model, and the reverse prefers the base. A lone vote, or the same vote on both
sides, says nothing about which is better; it still counts in `votes` and in `by_side`.

A record's id comes from its text, so the same text voted twice (even from two pairs) is one record
with its first vote: a repeat cannot stuff the count.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ktokit.annotate.roles import find_dataset
from ktokit.demo.visitors import visitors_names

if TYPE_CHECKING:
    import argilla as rg


def count_votes(metadata: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`{"prefer_tuned", "prefer_base", "votes", "by_side": {side: {"good", "bad"}}}` from records'
    metadata."""
    pairs: dict[str, dict[str, str]] = defaultdict(dict)
    by_side: dict[str, Counter] = {"base": Counter(), "tuned": Counter()}
    votes = 0
    for meta in metadata:
        side, vote = meta.get("side"), meta.get("visitor_vote")
        if meta.get("source") != "demo" or side not in by_side or vote not in ("good", "bad"):
            continue
        votes += 1
        by_side[side][vote] += 1
        if meta.get("compare"):
            pairs[meta["compare"]][side] = vote
    prefer = Counter()
    for pair in pairs.values():
        if {pair.get("base"), pair.get("tuned")} == {"good", "bad"}:
            prefer["tuned" if pair["tuned"] == "good" else "base"] += 1
    return {
        "prefer_tuned": prefer["tuned"],
        "prefer_base": prefer["base"],
        "votes": votes,
        "by_side": {s: {"good": c["good"], "bad": c["bad"]} for s, c in by_side.items()},
    }


def visitors_dataset(client: rg.Argilla, workspace: str, dataset: str) -> rg.Dataset | None:
    """The visitors' dataset next to an annotation dataset, or None when no demo Space was ever set up."""
    ws, ds = visitors_names(workspace, dataset)
    return find_dataset(client, ds, ws)


def visitors_metadata(client: rg.Argilla, workspace: str, dataset_name: str) -> list[dict[str, Any]]:
    """Every visitors' record's metadata (votes and arena verdicts alike), read once; [] when there is no
    visitors' dataset."""
    dataset = visitors_dataset(client, workspace, dataset_name)
    if dataset is None:
        return []
    return [dict(r.metadata) for r in dataset.records(with_responses=False, with_suggestions=False)]


def visitor_votes(client: rg.Argilla, workspace: str, dataset_name: str) -> dict[str, Any]:
    """The visitors' counts next to an annotation dataset (all zero when there is no visitors' dataset)."""
    return count_votes(visitors_metadata(client, workspace, dataset_name))
