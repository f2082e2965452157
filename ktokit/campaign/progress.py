"""How far a language's annotation is, and who is carrying it: `python -m ktokit progress`.

Argilla's own progress API answers both halves: `/datasets/{id}/progress` counts records by status
(a record is `completed` once it has the distribution's `min_submitted` submitted answers) and
`/datasets/{id}/users/progress` counts each annotator's responses by status. Both are plain SQL on
the server's database, so the local server (SQLite search engine) serves them as a Space does.
Only when asked for another `min_submitted` than the dataset's own are completed records counted
from the records themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ktokit.export.read import DISCARDED, DRAFT, SUBMITTED, record_items

if TYPE_CHECKING:
    import argilla as rg

STATUSES = (SUBMITTED, DRAFT, DISCARDED)


class Progress(dict):
    """`progress` of one dataset: a plain dict (the JSON of `progress --json`, what the dashboard reads),
    and the report `python -m ktokit progress` prints."""

    LEADERBOARD = ("#", "annotator", "submitted", "draft", "discarded")

    def report_lines(self) -> list[str]:
        """The report's lines, down to the leaderboard's heading (its rows are `leaderboard_rows`)."""
        r, v = self["responses"], self.get("visitors")
        lines = [
            f"{self['dataset']} ({self['language']})",
            f"records      {self['records']}: {self['completed']} completed "
            f"({self['min_submitted']}+ submitted answers), {self['pending']} pending",
            f"progress     {bar(self['completed'], self['records'])}",
            f"responses    {r[SUBMITTED]} submitted, {r[DRAFT]} draft, {r[DISCARDED]} discarded",
        ]
        if v and v["votes"]:
            pairs = v["prefer_tuned"] + v["prefer_base"]
            lines.append(
                f"visitors     {v['votes']} votes in the demo Space; in {pairs} "
                f"pairs with 👍 on one side and 👎 on the other, the tuned model preferred "
                f"{v['prefer_tuned']} times, the base {v['prefer_base']}"
            )
        board = ", most submitted answers first:" if self["annotators"] else ""
        return [*lines, f"annotators   {len(self['annotators'])}{board}"]

    def leaderboard_rows(self) -> list[tuple[str, ...]]:
        """One row per annotator under `LEADERBOARD`, most submitted answers first."""
        return [
            (str(i), a["username"], str(a[SUBMITTED]), str(a[DRAFT]), str(a[DISCARDED]))
            for i, a in enumerate(self["annotators"], 1)
        ]


def progress(
    dataset: rg.Dataset, *, language: str, min_submitted: int, client: rg.Argilla | None = None
) -> Progress:
    """Records, completed/pending records, responses by status and the annotator leaderboard of `dataset`.

    Annotators are sorted by submitted answers (most first), then by username. When `min_submitted`
    differs from the dataset's own distribution, completed records are counted here from the records
    (read with `client`, default: the dataset's own).
    """
    team = dataset.progress(with_users_distribution=True)
    annotators = []
    for username, by_record in team.get("users", {}).items():
        counts = {
            s: sum((by_record.get(part) or {}).get(s) or 0 for part in ("completed", "pending"))
            for s in STATUSES
        }
        annotators.append({"username": username, **counts})
    annotators.sort(key=lambda a: (-a[SUBMITTED], a["username"]))
    records, completed = team["total"], team["completed"]
    if min_submitted != dataset.settings.distribution.min_submitted:
        completed = sum(
            sum(r.get("status") == SUBMITTED for r in item.get("responses") or []) >= min_submitted
            for item in record_items(client or dataset._client, dataset)
        )
    return Progress(
        {
            "language": language,
            "dataset": f"{dataset.workspace.name}/{dataset.name}",
            "min_submitted": min_submitted,
            "records": records,
            "completed": completed,
            "pending": records - completed,
            "responses": {s: sum(a[s] for a in annotators) for s in STATUSES},
            "annotators": annotators,
        }
    )


def progress_for(
    language: str,
    *,
    min_submitted: int | None = None,
    dataset_name: str | None = None,
    workspace: str | None = None,
) -> Progress:
    """`progress` of the dataset create_task.py recorded for `language` (local server or Space).

    `min_submitted` defaults to the dataset's own (create_task.py's `--min_submitted`, kept in the
    dataset's `TaskDistribution`).
    """
    from ktokit.campaign.visitors import visitor_votes
    from ktokit.export.read import connect

    client, dataset, _ = connect(language, dataset_name, workspace)
    own = dataset.settings.distribution.min_submitted
    p = progress(dataset, language=language, min_submitted=min_submitted or own, client=client)
    p["visitors"] = visitor_votes(client, dataset.workspace.name, dataset.name)  # the demo Space's votes
    return p


def bar(done: int, total: int, width: int = 30) -> str:
    """`[#########.....]  31%` (an empty dataset shows an empty bar)."""
    share = done / total if total else 0.0
    filled = round(share * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {share:4.0%}"
