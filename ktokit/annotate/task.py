"""The annotation task of one language pack: Argilla settings, records, and idempotent logging.

The task is kept as plain data (`TaskTemplate`) because building argilla settings objects without a
client calls the default client, which needs a live server; `build_settings` turns the template into
`rg.Settings` against a given client. Records get ids derived from their content, so rerunning with
more generations adds only the new ones and never touches a response an annotator already gave.

The names below are the contract with `export_kto.py`: fields `prompt` and `completion`, the label
question `label` with values `good` / `bad`, the optional label question `flag` (wrong language,
harmful, can't judge: the answer is left out, not counted as 👎) and the optional text question
`comment`. Datasets made before `flag` existed lack it (Argilla adds no question to a published
dataset): they are reused as they are, and their export reads no flags.

Rounds: the integer metadata `round` (>= 1) says which round of generations a record came in with
(`create_task.py --round 2` for the answers of a model tuned on round 1). It is set once, when the record
is logged, and never changed; records logged before rounds existed have none and count as round 1.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ktokit.console import KitError
from ktokit.packs.form import NOT_APPLICABLE, PASS, check_form
from ktokit.packs.language_id import answer_language
from ktokit.packs.languages import LanguagePack, pack_problems

if TYPE_CHECKING:
    import argilla as rg

FIELD_PROMPT, FIELD_COMPLETION = "prompt", "completion"
QUESTION_LABEL, QUESTION_COMMENT, QUESTION_FLAG = "label", "comment", "flag"
# Argilla 2.8 publishes no dataset without a required question, so 👍/👎 stays required; an annotator
# who flags an answer picks the reason and presses Discard (a discarded response keeps its values).
FLAGS = ("wrong_language", "harmful", "cant_judge")
OPTIONAL_QUESTIONS = (QUESTION_FLAG,)  # a dataset made before them is still the kit's
GOOD, BAD = "good", "bad"
DEFAULT_MIN_SUBMITTED = 2  # two annotators per record, so agreement can be measured
FORM_AGENT = "ktokit-form-check"
DETECTED_LANGUAGE = "detected_language"
ROUND = "round"  # metadata: the round a record came in with (none: logged before rounds, round 1)
GENERATIONS_COLUMNS = ("input", "generation_model", "generations")


@dataclass
class TaskTemplate:
    """Everything the Argilla dataset of one language is made of, as plain data."""

    dataset: str
    workspace: str
    language: str
    guidelines: str
    fields: list[dict[str, Any]]
    questions: list[dict[str, Any]]
    metadata: list[dict[str, Any]]
    min_submitted: int = DEFAULT_MIN_SUBMITTED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def labels(self) -> dict[str, str]:
        return next(q["labels"] for q in self.questions if q["name"] == QUESTION_LABEL)


def default_dataset_name(pack: LanguagePack) -> str:
    return f"{pack.task or 'kto'}-{pack.code}".lower().replace(" ", "-")


def task_template(
    pack: LanguagePack,
    min_submitted: int = DEFAULT_MIN_SUBMITTED,
    dataset: str | None = None,
    workspace: str | None = None,
) -> TaskTemplate:
    """The task from the pack's annotation texts (in its language); the form rule sets the metadata."""
    ann = pack.annotation
    missing = [p for p in pack_problems(pack) if "'annotation." in p]
    if missing:
        raise KitError(
            f"pack {pack.code!r}: {missing[0]} "
            f"(`python -m ktokit validate {pack.code}` lists what is missing)"
        )
    if min_submitted < 1:
        raise KitError(f"--min_submitted must be at least 1, got {min_submitted}")
    questions: list[dict[str, Any]] = [
        {
            "kind": "label",
            "name": QUESTION_LABEL,
            "title": ann.question,
            "labels": {GOOD: ann.label_good, BAD: ann.label_bad},
            "required": True,
        },
    ]
    questions.append(
        {
            "kind": "label",
            "name": QUESTION_FLAG,
            "title": ann.flag,
            "labels": {k: ann.flag_labels[k] for k in FLAGS},
            "required": False,
        }
    )
    if ann.comment.strip():
        questions.append({"kind": "text", "name": QUESTION_COMMENT, "title": ann.comment, "required": False})
    metadata: list[dict[str, Any]] = [
        {"kind": "terms", "name": "model", "title": "model"},
        {"kind": "terms", "name": "language", "title": "language"},
        # The answer's language: the pack's code when it passes the language check; filter out the rest.
        {"kind": "terms", "name": DETECTED_LANGUAGE, "title": "detected language"},
        {"kind": "terms", "name": "form_verdict", "title": "form check"},
        {"kind": "float", "name": "form_score", "title": "form score", "min": 0.0, "max": 1.0},
        {"kind": "integer", "name": "lines", "title": "lines"},
        {"kind": "integer", "name": ROUND, "title": "round", "min": 1},
    ]
    return TaskTemplate(
        dataset=dataset or default_dataset_name(pack),
        workspace=workspace or pack.code,
        language=pack.code,
        guidelines=f"# {ann.dataset_title}\n\n{ann.guidelines.strip()}",
        fields=[
            {"name": FIELD_PROMPT, "title": pack.annotation.prompt_title, "use_markdown": False},
            {"name": FIELD_COMPLETION, "title": pack.annotation.completion_title, "use_markdown": False},
        ],
        questions=questions,
        metadata=metadata,
        min_submitted=min_submitted,
    )


def build_settings(template: TaskTemplate, client: rg.Argilla) -> rg.Settings:
    """`rg.Settings` for the template, built against `client` (never the default client)."""
    import argilla as rg

    fields = [
        rg.TextField(name=f["name"], title=f["title"], use_markdown=f["use_markdown"], client=client)
        for f in template.fields
    ]
    questions = []
    for q in template.questions:
        if q["kind"] == "label":
            questions.append(
                rg.LabelQuestion(
                    name=q["name"],
                    title=q["title"],
                    labels=q["labels"],
                    required=q["required"],
                    client=client,
                )
            )
        else:
            questions.append(
                rg.TextQuestion(name=q["name"], title=q["title"], required=q["required"], client=client)
            )
    metadata = [metadata_property(m, client) for m in template.metadata]
    return rg.Settings(
        fields=fields,
        questions=questions,
        metadata=metadata,
        guidelines=template.guidelines,
        distribution=rg.TaskDistribution(min_submitted=template.min_submitted),
    )


def metadata_property(m: dict[str, Any], client: rg.Argilla) -> Any:
    """One metadata property of the template as an argilla object."""
    import argilla as rg

    if m["kind"] == "terms":
        return rg.TermsMetadataProperty(
            name=m["name"], title=m["title"], client=client, visible_for_annotators=m.get("visible", True)
        )
    if m["kind"] == "float":
        return rg.FloatMetadataProperty(
            name=m["name"], title=m["title"], min=m.get("min"), max=m.get("max"), client=client
        )
    return rg.IntegerMetadataProperty(
        name=m["name"], title=m["title"], min=m.get("min"), max=m.get("max"), client=client
    )


# ---- records ---------------------------------------------------------------------------------------


def record_id(language: str, prompt: str, completion: str) -> str:
    """Stable id of one (prompt, completion): the same text always maps to the same record."""
    digest = hashlib.sha256("\x1f".join((language, prompt.strip(), completion.strip())).encode("utf-8"))
    return f"{language}-{digest.hexdigest()[:24]}"


def load_generations(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a generations dataset: a `datasets.save_to_disk` folder, or its `.jsonl` copy."""
    path = Path(path)
    if path.is_dir():
        from datasets import load_from_disk

        try:
            data = load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as exc:
            raise KitError(f"{path} is not a dataset saved by preference_gen.py ({exc})") from None
        rows = data.to_list() if hasattr(data, "to_list") else [r for split in data.values() for r in split]
    elif path.suffix == ".jsonl" and path.is_file():
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    raise KitError(f"{path}:{n}: not valid JSON") from None
    else:
        raise KitError(
            f"no generations at {path}: run `python preference_gen.py --language CODE` first, "
            "or pass --generations PATH (a dataset folder or a .jsonl file)"
        )
    if rows:
        missing = [c for c in GENERATIONS_COLUMNS if c not in rows[0]]
        if missing:
            raise KitError(
                f"{path}: missing column(s) {', '.join(missing)}; expected the layout "
                "preference_gen.py writes (input, generation_model, generations)"
            )
    return rows


def form_agent(pack: LanguagePack) -> str:
    """Who made the suggestion, as Argilla allows it (letters, digits, - _ : . / and spaces)."""
    rule = pack.form
    shape = "-".join(map(str, rule.pattern)) if rule.pattern else f"{rule.lines or 0}-lines"
    return re.sub(r"[^A-Za-z0-9_:./-]", "-", f"{FORM_AGENT}/{rule.counter or 'lines'}/{shape}")


def build_records(rows: Iterable[dict[str, Any]], pack: LanguagePack) -> list[dict[str, Any]]:
    """One plain record per distinct (prompt, completion); empty or failed generations are dropped.

    The form check of the text annotators see becomes a suggestion (value, score = confidence in
    that value, agent) and metadata they can filter on, the answer's language among them (from the
    generations' `detected_languages`, or detected now for generations made before it existed).
    """
    by_id: dict[str, dict[str, Any]] = {}
    rule = pack.form
    agent = form_agent(pack)
    for row in rows:
        prompt = str(row.get("input") or "").strip()
        models = row.get("generation_model") or []
        if isinstance(models, str):
            models = [models] * len(row.get("generations") or [])
        languages = row.get("detected_languages") or []
        for i, (model, completion) in enumerate(zip(models, row.get("generations") or [])):
            completion = (completion or "").strip()
            if not prompt or not completion:
                continue
            rid = record_id(pack.code, prompt, completion)
            if rid in by_id:  # two models wrote the same text: one record, both models in metadata
                known = by_id[rid]["metadata"]["model"]
                if model not in known:
                    known.append(model)
                continue
            check = check_form(completion, rule, clean=False)
            record: dict[str, Any] = {
                "id": rid,
                "fields": {FIELD_PROMPT: prompt, FIELD_COMPLETION: completion},
                "metadata": {
                    "model": [str(model)],
                    "language": pack.code,
                    DETECTED_LANGUAGE: languages[i]
                    if i < len(languages)
                    else answer_language(completion, pack.code),
                    "form_verdict": check.verdict,
                    "form_score": float(check.score),
                    "lines": len([ln for ln in completion.splitlines() if ln.strip()]),
                },
                "suggestion": None,
            }
            if check.verdict != NOT_APPLICABLE:
                good = check.verdict == PASS
                record["suggestion"] = {
                    "question_name": QUESTION_LABEL,
                    "value": GOOD if good else BAD,
                    "score": round(check.score if good else 1.0 - check.score, 4),
                    "agent": agent,
                }
            by_id[rid] = record
    return list(by_id.values())


def shuffle_records(records: list[dict[str, Any]], seed: int = 0) -> list[dict[str, Any]]:
    """A seeded shuffle, so one model's answers (or one prompt's) don't come in a row in the queue."""
    shuffled = sorted(records, key=lambda r: r["id"])  # independent of the input order
    random.Random(seed).shuffle(shuffled)
    return shuffled


def to_argilla_record(record: dict[str, Any]) -> rg.Record:
    import argilla as rg

    suggestions = [rg.Suggestion(**record["suggestion"])] if record.get("suggestion") else []
    return rg.Record(
        id=record["id"], fields=record["fields"], metadata=record["metadata"], suggestions=suggestions
    )


# ---- the server side ------------------------------------------------------------------------------


def ensure_workspace(client: rg.Argilla, name: str) -> rg.Workspace:
    import argilla as rg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workspace = client.workspaces(name=name)
    return workspace or rg.Workspace(name=name, client=client).create()


def _check_compatible(dataset: rg.Dataset, template: TaskTemplate) -> list[str]:
    """What an existing dataset lacks to take the template's records (empty: it can)."""
    settings = dataset.settings
    problems = []
    have_fields = {f.name for f in settings.fields}
    have_questions = {q.name: q for q in settings.questions}
    for f in template.fields:
        if f["name"] not in have_fields:
            problems.append(f"field {f['name']!r} is missing")
    for q in template.questions:
        got = have_questions.get(q["name"])
        if got is None and q["name"] in OPTIONAL_QUESTIONS:
            continue  # made before the question existed: reused without it
        if got is None:
            problems.append(f"question {q['name']!r} is missing")
        elif q["kind"] == "label" and set(got.labels) != set(q["labels"]):
            problems.append(
                f"question {q['name']!r} has labels {sorted(got.labels)}, expected {sorted(q['labels'])}"
            )
    return problems


def add_missing_metadata(dataset: rg.Dataset, template: TaskTemplate, client: rg.Argilla) -> list[str]:
    """Metadata properties a newer kit added to the template (e.g. `detected_language`), added to a
    dataset made before: metadata is for filtering, so adding it changes no record nor response."""
    have = {m.name for m in dataset.settings.metadata}
    added = []
    for m in template.metadata:
        if m["name"] not in have:
            prop = metadata_property(m, client)
            prop.dataset = dataset
            prop.create()
            dataset.settings.metadata.add(prop)
            added.append(m["name"])
    return added


def ensure_dataset(client: rg.Argilla, template: TaskTemplate) -> tuple[rg.Dataset, bool]:
    """The dataset named by the template, created if missing; an existing one is reused, never recreated."""
    import argilla as rg

    workspace = ensure_workspace(client, template.workspace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = client.datasets(name=template.dataset, workspace=workspace)
    if dataset is not None:
        problems = _check_compatible(dataset, template)
        if problems:
            raise KitError(
                f"dataset {template.dataset!r} in workspace {template.workspace!r} exists with other "
                f"settings ({'; '.join(problems)}): pass --dataset_name NEW_NAME"
            )
        add_missing_metadata(dataset, template, client)
        return dataset, False
    dataset = rg.Dataset(
        name=template.dataset, workspace=workspace, settings=build_settings(template, client), client=client
    )
    return dataset.create(), True


def existing_records(dataset: rg.Dataset) -> dict[str, tuple[str, dict[str, Any]]]:
    """The dataset's records: content id -> (server id, metadata)."""
    return {
        str(r.id): (str(r._server_id), dict(r.metadata))
        for r in dataset.records(with_suggestions=False, with_responses=False, batch_size=1000)
    }


def record_round(metadata: dict[str, Any]) -> int:
    """The round a record came in with: its `round` metadata, 1 for a record logged before rounds."""
    value = metadata.get(ROUND)
    if value is None or value == "":
        return 1
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        raise KitError(f"record metadata {ROUND!r} is {value!r}, not a round number (1, 2, ...)") from None


def backfill_metadata(
    dataset: rg.Dataset, records: list[dict[str, Any]], known: dict[str, tuple[str, dict[str, Any]]]
) -> int:
    """Give records logged by an older kit the metadata keys they lack; returns how many were updated.

    Each is a PATCH of the record's metadata alone: its fields, suggestion and responses stay as they are.
    `round` is never backfilled: a record without one came before rounds (round 1), whichever round's
    generations hold its text again.
    """
    import httpx

    http = dataset._client.http_client
    updated = 0
    for record in records:
        if record["id"] not in known:
            continue
        server_id, metadata = known[record["id"]]
        missing = {k: v for k, v in record["metadata"].items() if k not in metadata and k != ROUND}
        if not missing:
            continue
        try:
            http.patch(
                f"/api/v1/records/{server_id}", json={"metadata": {**metadata, **missing}}
            ).raise_for_status()
        except httpx.HTTPStatusError as exc:
            raise KitError(
                f"updating the metadata of record {record['id']} failed: HTTP "
                f"{exc.response.status_code} {exc.response.text[:200]}"
            ) from None
        updated += 1
    return updated


@dataclass
class LogResult:
    added: int
    existing: int
    total: int
    updated: int = 0
    gold: int = 0  # gold records among the added (their key saved: ktokit.annotate.gold)
    round: int | None = None  # the round the added records came in with (None: a dataset without rounds)
    rounds: dict[int, int] | None = None  # records in the dataset by round, after the log

    def line(self) -> str:
        """What a rerun-safe log did, as create_task.py and review-pack report it."""
        updated = f" ({self.updated} given the metadata they lacked)" if self.updated else ""
        gold = f"; {self.gold} of them gold (key updated)" if self.gold else ""
        new_round = f"; the new ones are round {self.round}" if self.added and self.round else ""
        by_round = (
            "; by round " + ", ".join(f"{r}: {n}" for r, n in sorted(self.rounds.items()))
            if self.rounds and len(self.rounds) > 1
            else ""
        )
        return (
            f"{self.added} records added, {self.existing} already there; {self.total} in the dataset"
            f"{updated}{gold}{new_round}{by_round}"
        )


def log_new_records(
    dataset: rg.Dataset, records: list[dict[str, Any]], batch_size: int = 256, *, round_: int | None = None
) -> LogResult:
    """Log only the records whose id the dataset lacks: existing records and their responses stay untouched
    (only metadata keys they lack are added, see `backfill_metadata`).

    On a dataset with the `round` property the new records come in as round `round_`, by default the
    highest round already there (1 for a new dataset): a rerun of a round adds to that round."""
    known = existing_records(dataset)
    new = [r for r in records if r["id"] not in known]
    rounds = None
    if ROUND in {m.name for m in dataset.settings.metadata}:
        there = Counter(record_round(metadata) for _, metadata in known.values())
        round_ = round_ or max(there, default=1)
        new = [{**r, "metadata": {**r["metadata"], ROUND: round_}} for r in new]
        rounds = dict(there + Counter({round_: len(new)}))
    elif round_ is not None:
        raise KitError(f"dataset {dataset.name!r} has no {ROUND!r} metadata property: it cannot take rounds")
    for start in range(0, len(new), batch_size):
        batch = [to_argilla_record(r) for r in new[start : start + batch_size]]
        dataset.records.log(batch, batch_size=len(batch))
    updated = backfill_metadata(dataset, records, known)
    return LogResult(
        added=len(new),
        existing=len(records) - len(new),
        total=len(known) + len(new),
        updated=updated,
        round=round_ if rounds is not None else None,
        rounds=rounds,
    )


def annotation_url(api_url: str, dataset: rg.Dataset) -> str:
    """Where annotators work on the dataset in the Argilla UI."""
    return f"{api_url.rstrip('/')}/dataset/{dataset.id}/annotation-mode"
