"""Reading Argilla: every record of a language's dataset with all its responses, as plain data.

The Argilla names (question `label` with values `good`/`bad`, fields `prompt`/`completion`) are the
ones `ktokit.annotate.task` gives the task. Annotators are pseudonymised as the records are read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ktokit.annotate.task import (
    BAD,
    DETECTED_LANGUAGE,
    FIELD_COMPLETION,
    FIELD_PROMPT,
    GOOD,
    QUESTION_COMMENT,
    QUESTION_FLAG,
    QUESTION_LABEL,
    record_round,
)
from ktokit.console import KitError
from ktokit.packs.language_id import answer_language

if TYPE_CHECKING:
    import argilla as rg

SUBMITTED, DRAFT, DISCARDED = "submitted", "draft", "discarded"
PAGE_SIZE = 1000  # the largest page the records endpoint serves


@dataclass(frozen=True)
class Answer:
    """One annotator's response to one record, as stored (any status)."""

    annotator: str  # pseudonym, never the Argilla user id or name
    status: str
    value: str | None  # good | bad | None (a draft or discard may have no value)
    comment: str | None = None
    flag: str | None = None  # wrong_language | harmful | cant_judge: not a vote, whatever its status
    inserted_at: str = ""  # ISO times the server gave the response (reliability: answers too fast to read)
    updated_at: str = ""

    @property
    def vote(self) -> str | None:
        """good | bad when this answer counts as a vote: submitted, with a label, and not flagged."""
        return (
            self.value if self.status == SUBMITTED and self.value in (GOOD, BAD) and not self.flag else None
        )


@dataclass
class AnnotatedRecord:
    """A record with its responses; `id` is create_task's content id (the record's external id)."""

    id: str
    prompt: str
    completion: str
    models: tuple[str, ...]
    language: str
    answers: list[Answer] = field(default_factory=list)
    detected_language: str = ""  # the pack's code when the completion passes the language check
    gold: str | None = None  # the expected label of a gold record (ktokit.annotate.gold); never a row
    round: int = 1  # the annotation round the record was added in (metadata `round`; none: round 1)

    @property
    def votes(self) -> list[str]:
        """Submitted labels only: drafts, discards and flagged answers are not votes."""
        return [a.vote for a in self.answers if a.vote]

    @property
    def flags(self) -> list[str]:
        """The flags annotators gave this record (any status: a flag is usually discarded)."""
        return [a.flag for a in self.answers if a.flag]

    @property
    def votes_up(self) -> int:
        return self.votes.count(GOOD)

    @property
    def votes_down(self) -> int:
        return self.votes.count(BAD)


def pseudonym(dataset_id: str, user_id: str) -> str:
    """A stable annotator id that cannot be turned back into the Argilla user without the server's data."""
    return "annotator-" + hashlib.sha256(f"{dataset_id}:{user_id}".encode()).hexdigest()[:12]


def connect(
    language: str,
    dataset_name: str | None = None,
    workspace: str | None = None,
    *,
    key: str | None = None,
    fix: str | None = None,
    check: Callable[[rg.Dataset], None] | None = None,
) -> tuple[rg.Argilla, rg.Dataset, str]:
    """The client and dataset create_task recorded for `language`; one clear line for each way it fails.

    Returns (client, dataset, where) with `where` naming the server kind and dataset for messages.
    Another dataset of the language (`key`, see `argilla_target`) names the command that makes it in
    `fix` and brings its own settings `check`.
    """
    from ktokit.annotate import admin
    from ktokit.annotate.credentials import argilla_target

    target = argilla_target(language, key, fix)  # KitError when create_task never ran for this language
    fix = fix or f"`python create_task.py --language {language}`"
    dataset_name = dataset_name or target.dataset
    workspace = workspace or target.workspace
    server, hint = target.where, target.unreachable_hint
    admin.require_answer(target.api_url, server, hint)  # fail fast: the SDK retries
    with admin.translated(f"cannot connect to {server}", f"rerun {fix} to record the credentials again"):
        client = target.client()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK warns before returning None for a missing dataset
        dataset = client.datasets(name=dataset_name, workspace=workspace)
    if dataset is None:
        raise KitError(
            f"no dataset {workspace}/{dataset_name} on {server}: run {fix} first (or pass --dataset_name)"
        )
    (check or check_settings)(dataset)
    return client, dataset, f"{workspace}/{dataset_name} on {server}"


def check_settings(dataset: rg.Dataset) -> None:
    """The dataset must have the kit's fields and label question, else the export would be empty."""
    settings = dataset.settings
    fields = {f.name for f in settings.fields}
    label = next((q for q in settings.questions if q.name == QUESTION_LABEL), None)
    problems = [f"field {name!r}" for name in (FIELD_PROMPT, FIELD_COMPLETION) if name not in fields]
    if label is None or not {GOOD, BAD} <= set(getattr(label, "labels", []) or []):
        problems.append(f"label question {QUESTION_LABEL!r} with values {GOOD!r}/{BAD!r}")
    if problems:
        raise KitError(
            f"dataset {dataset.name!r} lacks {', '.join(problems)}: export_kto.py reads datasets "
            "made by create_task.py"
        )


def _metadata(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    return {m["name"]: m["value"] for m in raw or []}


def parse_record(
    item: dict[str, Any], dataset_id: str, language: str, gold: dict[str, str] | None = None
) -> AnnotatedRecord:
    """One record as the records endpoint returns it (JSON) → AnnotatedRecord; `gold` is the key
    (record id -> expected label, `ktokit.annotate.gold.load_key`)."""
    fields = item.get("fields") or {}
    metadata = _metadata(item.get("metadata"))
    models = metadata.get("model") or []
    models = (models,) if isinstance(models, str) else tuple(str(m) for m in models)
    answers = []
    for response in item.get("responses") or []:
        values = response.get("values") or {}
        label = (values.get(QUESTION_LABEL) or {}).get("value")
        comment = (values.get(QUESTION_COMMENT) or {}).get("value")
        flag = (values.get(QUESTION_FLAG) or {}).get("value")
        answers.append(
            Answer(
                pseudonym(dataset_id, str(response.get("user_id"))),
                response.get("status"),
                label,
                comment or None,
                flag or None,
                str(response.get("inserted_at") or ""),
                str(response.get("updated_at") or response.get("inserted_at") or ""),
            )
        )
    answers.sort(key=lambda a: (a.annotator, a.status))
    completion = str(fields.get(FIELD_COMPLETION) or "").strip()
    record_language = str(metadata.get("language") or language)
    rid = str(item.get("external_id") or item["id"])
    return AnnotatedRecord(
        id=rid,
        prompt=str(fields.get(FIELD_PROMPT) or "").strip(),
        completion=completion,
        models=models,
        language=record_language,
        answers=answers,
        # records logged before the language check have no such metadata: the same check, now
        detected_language=str(
            metadata.get(DETECTED_LANGUAGE) or answer_language(completion, record_language)
        ),
        gold=(gold or {}).get(rid),
        round=record_round(metadata),
    )


def record_items(
    client: rg.Argilla,
    dataset: rg.Dataset,
    include: tuple[str, ...] = ("responses",),
    page_size: int = PAGE_SIZE,
) -> Iterator[dict[str, Any]]:
    """Every record of `dataset` as the records endpoint returns it (JSON), page by page, as the owner.

    The SDK's own HTTP client does the requests (its auth, headers and base URL, so a private Space
    works too); the JSON is used directly, which keeps 20,000 records well under a minute.
    """
    from ktokit.annotate.admin import request

    offset = 0
    while True:
        params = {"offset": offset, "limit": page_size, "include": list(include)}
        path = f"/api/v1/datasets/{dataset.id}/records"
        items = request(client.http_client, "GET", path, "reading records failed", params=params)["items"]
        yield from items
        if len(items) < page_size:
            return
        offset += page_size


def fetch_records(
    client: rg.Argilla, dataset: rg.Dataset, language: str, page_size: int = PAGE_SIZE
) -> list[AnnotatedRecord]:
    """Every record of `dataset` with its responses (any status), annotators pseudonymised, gold marked."""
    dataset_id = str(dataset.id)
    key = gold_key(client, dataset)
    return [
        parse_record(item, dataset_id, language, key)
        for item in record_items(client, dataset, page_size=page_size)
    ]


def gold_key(client: rg.Argilla, dataset: rg.Dataset) -> dict[str, str]:
    """The dataset's gold key (empty for a dataset without gold); see ktokit.annotate.gold."""
    from ktokit.annotate.gold import load_key

    return load_key(client, dataset.workspace.name, dataset.name)
