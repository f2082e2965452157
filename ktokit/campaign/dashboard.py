"""What the dashboard Space shows, as plain data: progress, leaderboard, answers per day and over time,
👍 rate per model, agreement and the blind arena's result, read from the language's Argilla dataset in one
pass (and the arena's verdicts from the visitors' dataset next to it). ktokit.campaign.charts turns them
into the charts' DataFrames.

The counts are `progress`'s (Argilla's own progress API); the 👍 rate per model and the agreement are the
export's own figures (ktokit.export.summary / aggregate), so the dashboard and the dataset card agree.
An answer's time (and day) is when it was last saved (UTC), counted for submitted answers only.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ktokit.campaign.arena import arena_summary, read_verdicts
from ktokit.campaign.progress import progress
from ktokit.campaign.visitors import visitors_metadata
from ktokit.export.aggregate import aggregate, krippendorff_alpha, pairwise_agreement
from ktokit.export.read import SUBMITTED, gold_key, parse_record, record_items
from ktokit.export.summary import model_rates

if TYPE_CHECKING:
    import argilla as rg


def answer_times(items: list[dict[str, Any]]) -> list[list[str]]:
    """Each record's submitted answers' times (ISO 8601, as the server gave them), oldest first."""
    return [
        sorted(
            t
            for r in item.get("responses") or []
            if r.get("status") == SUBMITTED and (t := str(r.get("updated_at") or r.get("inserted_at") or ""))
        )
        for item in items
    ]


def answers_per_day(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Submitted answers per UTC day, oldest first."""
    days = Counter(t[:10] for times in answer_times(items) for t in times)
    return [{"day": day, "submitted": n} for day, n in sorted(days.items()) if day]


def dashboard_figures(
    client: rg.Argilla, dataset: rg.Dataset, *, language: str, min_submitted: int
) -> dict[str, Any]:
    """`progress` plus `per_day`, `answer_times` (per record), `models` ({model, up, down, rate} of the
    labels so far), `agreement` and `arena` (`arena_summary`, None before the first blind verdict; the
    dashboard user reads the visitors' workspace for it, ktokit.campaign.dashboard_space)."""
    items = list(record_items(client, dataset))
    figures = progress(dataset, language=language, min_submitted=min_submitted, client=client, items=items)
    key = gold_key(client, dataset)
    records = [r for item in items if (r := parse_record(item, str(dataset.id), language, key)).gold is None]
    units = [r.votes for r in records if len(r.votes) >= 2]
    alpha, agree = krippendorff_alpha(units), pairwise_agreement(units)
    figures["per_day"] = answers_per_day(items)
    figures["answer_times"] = answer_times(items)
    figures["models"] = [
        {"model": m.model, "up": m.up, "down": m.down, "rate": round(m.rate, 4)}
        for m in model_rates(aggregate(records))
    ]
    figures["agreement"] = {
        "records": len(units),
        "alpha": None if alpha is None else round(alpha, 4),
        "pairwise": None if agree is None else round(agree, 4),
    }
    verdicts = read_verdicts(visitors_metadata(client, dataset.workspace.name, dataset.name))
    figures["arena"] = arena_summary(language, verdicts) if verdicts else None
    return figures
