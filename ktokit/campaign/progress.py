"""How far a language's annotation is, and who is carrying it: `python -m ktokit progress`.

Argilla's own progress API answers both halves: `/datasets/{id}/progress` counts records by status
(a record is `completed` once it has the distribution's `min_submitted` submitted answers) and
`/datasets/{id}/users/progress` counts each annotator's responses by status. Both are plain SQL on
the server's database, so the local server (SQLite search engine) serves them as a Space does.
Only when asked for another `min_submitted` than the dataset's own are completed records counted
from the records themselves. Each annotator's reliability (gold accuracy, agreement with the others,
flag and reasons: ktokit.export.reliability) is read from the records, and the leaderboard ranks by
reliable answers: an annotator flagged `unreliable` has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ktokit.export.read import DISCARDED, DRAFT, SUBMITTED, gold_key, parse_record, pseudonym, record_items
from ktokit.export.reliability import CHECK, UNRELIABLE, AnnotatorScore, score_annotators

if TYPE_CHECKING:
    import argilla as rg

STATUSES = (SUBMITTED, DRAFT, DISCARDED)


class Progress(dict):
    """`progress` of one dataset: a plain dict (the JSON of `progress --json`, what the dashboard reads),
    and the report `python -m ktokit progress` prints."""

    LEADERBOARD = ("#", "annotator", "reliable", "submitted", "draft", "discarded", "flag")

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
        if self.get("arena"):
            from ktokit.campaign.arena import summary_line

            lines.append(summary_line(self["arena"]))
        board = ", most reliable answers first:" if self["annotators"] else ""
        return [*lines, f"annotators   {len(self['annotators'])}{board}"]

    def leaderboard_rows(self) -> list[tuple[str, ...]]:
        """One row per annotator under `LEADERBOARD`, most reliable answers first."""
        return [
            (
                str(i),
                a["username"],
                str(a["reliable"]),
                str(a[SUBMITTED]),
                str(a[DRAFT]),
                str(a[DISCARDED]),
                a["flag"],
            )
            for i, a in enumerate(self["annotators"], 1)
        ]

    def flag_lines(self) -> list[str]:
        """Why each annotator not `ok` is flagged (printed under the leaderboard)."""
        return [
            f"{a['flag']:<12} {a['username']}: {'; '.join(a['why'])}"
            for a in self["annotators"]
            if a["flag"] != "ok"
        ]


def annotator_scores(
    client: rg.Argilla, dataset: rg.Dataset, language: str, items: list[dict[str, Any]]
) -> dict[str, AnnotatorScore]:
    """Username -> reliability of each annotator who answered (`items`: the records endpoint's JSON)."""
    from ktokit.annotate import admin

    key = gold_key(client, dataset)
    scores = score_annotators(parse_record(item, str(dataset.id), language, key) for item in items)
    names = admin.usernames(client.http_client, str(dataset.workspace.id))
    return {
        name: scores[p] for uid, name in names.items() if (p := pseudonym(str(dataset.id), uid)) in scores
    }


def progress(
    dataset: rg.Dataset,
    *,
    language: str,
    min_submitted: int,
    client: rg.Argilla | None = None,
    items: list[dict[str, Any]] | None = None,
) -> Progress:
    """Records, completed/pending records, responses by status and the annotator leaderboard of `dataset`.

    Annotators are sorted by reliable answers (submitted ones, none for an annotator flagged
    unreliable), then submitted answers, then username. The records are read with `client` (default:
    the dataset's own) unless `items` (the records endpoint's JSON) are given.
    """
    client = client or dataset._client
    items = list(record_items(client, dataset)) if items is None else items
    scores = annotator_scores(client, dataset, language, items)
    team = dataset.progress(with_users_distribution=True)
    annotators = []
    for username, by_record in team.get("users", {}).items():
        counts = {
            s: sum((by_record.get(part) or {}).get(s) or 0 for part in ("completed", "pending"))
            for s in STATUSES
        }
        score = scores.get(username)
        public = (
            score.public()
            if score
            else {
                "gold_answered": 0,
                "gold_accuracy": None,
                "agreement": None,
                "flag": CHECK,
                "why": ["no answers yet"],
            }
        )
        reliable = 0 if public["flag"] == UNRELIABLE else counts[SUBMITTED]
        annotators.append({"username": username, **counts, "reliable": reliable, **public})
    annotators.sort(key=lambda a: (-a["reliable"], -a[SUBMITTED], a["username"]))
    records, completed = team["total"], team["completed"]
    if min_submitted != dataset.settings.distribution.min_submitted:
        completed = sum(
            sum(r.get("status") == SUBMITTED for r in item.get("responses") or []) >= min_submitted
            for item in items
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
    from ktokit.campaign.arena import arena_summary, read_verdicts
    from ktokit.campaign.visitors import count_votes, visitors_metadata
    from ktokit.export.read import connect

    client, dataset, _ = connect(language, dataset_name, workspace)
    own = dataset.settings.distribution.min_submitted
    p = progress(dataset, language=language, min_submitted=min_submitted or own, client=client)
    visitors = visitors_metadata(client, dataset.workspace.name, dataset.name)  # the demo Space's votes
    p["visitors"] = count_votes(visitors)
    verdicts = read_verdicts(visitors)
    if verdicts:  # the blind arena's (the key is absent until there is one)
        p["arena"] = arena_summary(language, verdicts)
    return p


def bar(done: int, total: int, width: int = 30) -> str:
    """`[#########.....]  31%` (an empty dataset shows an empty bar)."""
    share = done / total if total else 0.0
    filled = round(share * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {share:4.0%}"
