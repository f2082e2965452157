"""Submitted 👍/👎 responses in Argilla → TRL's KTO format (and DPO pairs), saved locally or on the Hub.

The steps, each a plain function so tests and the benchmark can call them one by one:

    fetch_records   every record of the Argilla dataset with all its responses (owner's SDK client)
    aggregate       one label per record: `majority` or `unanimous`, ties left out, `min_votes`;
                    only *submitted* responses are votes (drafts and discards never count)
    kto_rows        {prompt, completion, label: bool} rows, standard or conversational, plus
                    model, language, votes_up, votes_down, agreement, record_id
    dpo_pairs       {prompt, chosen, rejected} for prompts with a 👍 and a 👎 completion
    split_prompts   a train/test split by prompt that depends only on the prompt's text
    raw_rows        every response, annotators pseudonymised: the backup of a community's work
    write_export    save_to_disk + JSONL per split, the card and the chart; byte-identical for the
                    same annotations (rows come in a fixed order, nothing time-dependent is written)

The Argilla names (question `label` with values `good`/`bad`, fields `prompt`/`completion`) are the
ones `ktokit.annotation` gives the task.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ktokit.annotation import BAD, FIELD_COMPLETION, FIELD_PROMPT, GOOD, QUESTION_COMMENT, QUESTION_LABEL
from ktokit.errors import KitError

if TYPE_CHECKING:
    import argilla as rg

    from ktokit.languages import LanguagePack

STRATEGIES = ("majority", "unanimous")
SUBMITTED, DRAFT, DISCARDED = "submitted", "draft", "discarded"
PAGE_SIZE = 1000  # the largest page the records endpoint serves
MARKER = ".ktokit-export"  # marks a folder this module wrote, so it may replace it
SUMMARY_FILE = "export_summary.json"
CHART_FILE = "thumbs_up_by_model.png"
CARD_FILE = "README.md"

# Why a record is not in the KTO rows (the card lists these counts)
KEPT, UNRATED, TOO_FEW, TIE, NOT_UNANIMOUS = "kept", "unrated", "too_few_votes", "tie", "not_unanimous"


# ---- reading Argilla ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One annotator's response to one record, as stored (any status)."""

    annotator: str  # pseudonym, never the Argilla user id or name
    status: str
    value: str | None  # good | bad | None (a draft or discard may have no value)
    comment: str | None = None


@dataclass
class AnnotatedRecord:
    """A record with its responses; `id` is create_task's content id (the record's external id)."""

    id: str
    prompt: str
    completion: str
    models: tuple[str, ...]
    language: str
    answers: list[Answer] = field(default_factory=list)

    @property
    def votes(self) -> list[str]:
        """Submitted labels only: drafts and discards are not votes."""
        return [a.value for a in self.answers if a.status == SUBMITTED and a.value in (GOOD, BAD)]

    @property
    def votes_up(self) -> int:
        return self.votes.count(GOOD)

    @property
    def votes_down(self) -> int:
        return self.votes.count(BAD)


def pseudonym(dataset_id: str, user_id: str) -> str:
    """A stable annotator id that cannot be turned back into the Argilla user without the server's data."""
    return "annotator-" + hashlib.sha256(f"{dataset_id}:{user_id}".encode()).hexdigest()[:12]


def connect(language: str, dataset_name: str | None = None, workspace: str | None = None
            ) -> tuple[rg.Argilla, rg.Dataset, str]:
    """The client and dataset create_task recorded for `language`; one clear line for each way it fails.

    Returns (client, dataset, where) with `where` naming the server kind and dataset for messages.
    """
    import argilla as rg
    import httpx

    from ktokit.credentials import argilla_target

    target = argilla_target(language)  # KitError when create_task never ran for this language
    dataset_name = dataset_name or target.dataset
    workspace = workspace or target.workspace
    server = f"the Space {target.space}" if target.kind == "space" else f"the local Argilla server ({target.api_url})"
    try:
        httpx.get(f"{target.api_url.rstrip('/')}/api/v1/status", timeout=10)  # fail fast: the SDK retries
        client = target.client()
    except httpx.HTTPError as exc:
        hint = ("start it with `python -m ktokit argilla up`" if target.kind == "local"
                else "check that the Space is running (a free Space sleeps after 48 h without visits)")
        raise KitError(f"cannot reach {server}: {exc or type(exc).__name__}; {hint}") from None
    except rg.ArgillaError as exc:
        raise KitError(f"{server} refused the stored credentials ({type(exc).__name__}): rerun create_task.py "
                       f"--language {language} to record them again") from None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK warns before returning None for a missing dataset
        dataset = client.datasets(name=dataset_name, workspace=workspace)
    if dataset is None:
        raise KitError(f"no dataset {workspace}/{dataset_name} on {server}: run "
                       f"`python create_task.py --language {language}` first (or pass --dataset_name)")
    check_settings(dataset)
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
        raise KitError(f"dataset {dataset.name!r} lacks {', '.join(problems)}: export_kto.py reads datasets "
                       "made by create_task.py")


def _metadata(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    return {m["name"]: m["value"] for m in raw or []}


def parse_record(item: dict[str, Any], dataset_id: str, language: str) -> AnnotatedRecord:
    """One record as the records endpoint returns it (JSON) → AnnotatedRecord."""
    fields = item.get("fields") or {}
    metadata = _metadata(item.get("metadata"))
    models = metadata.get("model") or []
    models = (models,) if isinstance(models, str) else tuple(str(m) for m in models)
    answers = []
    for response in item.get("responses") or []:
        values = response.get("values") or {}
        label = (values.get(QUESTION_LABEL) or {}).get("value")
        comment = (values.get(QUESTION_COMMENT) or {}).get("value")
        answers.append(Answer(pseudonym(dataset_id, str(response.get("user_id"))), response.get("status"),
                              label, comment or None))
    answers.sort(key=lambda a: (a.annotator, a.status))
    return AnnotatedRecord(
        id=str(item.get("external_id") or item["id"]),
        prompt=str(fields.get(FIELD_PROMPT) or "").strip(),
        completion=str(fields.get(FIELD_COMPLETION) or "").strip(),
        models=models,
        language=str(metadata.get("language") or language),
        answers=answers,
    )


def fetch_records(client: rg.Argilla, dataset: rg.Dataset, language: str, page_size: int = PAGE_SIZE
                  ) -> list[AnnotatedRecord]:
    """Every record of `dataset` with its responses (any status), read page by page as the owner.

    The SDK's own HTTP client does the requests (its auth, headers and base URL, so a private Space
    works too); the JSON is parsed here directly, which keeps 20,000 records well under a minute.
    """
    import httpx

    http = client.http_client
    dataset_id = str(dataset.id)
    records: list[AnnotatedRecord] = []
    offset = 0
    while True:
        try:
            response = http.get(f"/api/v1/datasets/{dataset_id}/records",
                                params={"offset": offset, "limit": page_size, "include": ["responses"]})
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            raise KitError(f"reading records failed: HTTP {exc.response.status_code} from "
                           f"{exc.request.url.path}") from None
        except httpx.HTTPError as exc:
            raise KitError(f"the Argilla server stopped answering while reading records ({exc}): "
                           "rerun when it is back") from None
        items = response.json()["items"]
        records.extend(parse_record(item, dataset_id, language) for item in items)
        if len(items) < page_size:
            return records
        offset += page_size


# ---- aggregation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    record: AnnotatedRecord
    label: bool | None  # None: left out, see `reason`
    reason: str


def decide(record: AnnotatedRecord, strategy: str = "majority", min_votes: int = 1) -> Decision:
    """One record's label. majority: more 👍 than 👎 (or the reverse), ties left out;
    unanimous: every vote the same. Fewer than `min_votes` submitted votes: left out."""
    up, down = record.votes_up, record.votes_down
    if up + down == 0:
        return Decision(record, None, UNRATED)
    if up + down < min_votes:
        return Decision(record, None, TOO_FEW)
    if strategy == "unanimous":
        if up and down:
            return Decision(record, None, NOT_UNANIMOUS)
        return Decision(record, up > 0, KEPT)
    if up == down:
        return Decision(record, None, TIE)
    return Decision(record, up > down, KEPT)


def aggregate(records: Iterable[AnnotatedRecord], strategy: str = "majority", min_votes: int = 1
              ) -> list[Decision]:
    if strategy not in STRATEGIES:
        raise KitError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if min_votes < 1:
        raise KitError(f"--min_votes must be at least 1, got {min_votes}")
    return [decide(r, strategy, min_votes) for r in records]


def row_order(*texts: str) -> str:
    """A fixed pseudo-random order: same bytes for the same annotations, and batches mix prompts."""
    return hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest()


def kept(decisions: Iterable[Decision]) -> list[Decision]:
    rows = [d for d in decisions if d.label is not None]
    rows.sort(key=lambda d: (row_order(d.record.prompt, d.record.completion), d.record.id))
    return rows


# ---- the rows -------------------------------------------------------------------------------------


def _prompt(prompt: str, pack: LanguagePack | None, conversational: bool) -> str | list[dict[str, str]]:
    """Conversational prompts are the chat the models were given (the pack's system prompt included)."""
    if not conversational:
        return prompt
    if pack is None:
        return [{"role": "user", "content": prompt}]
    return pack.messages(prompt)


def _completion(text: str, conversational: bool) -> str | list[dict[str, str]]:
    return [{"role": "assistant", "content": text}] if conversational else text


def kto_rows(decisions: Iterable[Decision], pack: LanguagePack | None = None, conversational: bool = False
             ) -> list[dict[str, Any]]:
    """TRL's unpaired preference format, plus where each row came from and how sure the annotators were."""
    rows = []
    for d in kept(decisions):
        r = d.record
        up, down = r.votes_up, r.votes_down
        rows.append({
            "prompt": _prompt(r.prompt, pack, conversational),
            "completion": _completion(r.completion, conversational),
            "label": bool(d.label),
            "model": ", ".join(r.models),
            "language": r.language,
            "votes_up": up,
            "votes_down": down,
            "agreement": round(max(up, down) / (up + down), 4),
            "record_id": r.id,
        })
    return rows


def dpo_pairs(decisions: Iterable[Decision], pack: LanguagePack | None = None, conversational: bool = False
              ) -> list[dict[str, Any]]:
    """Every (👍, 👎) pair of completions of the same prompt; prompts without both give none."""
    by_prompt: dict[str, dict[bool, list[AnnotatedRecord]]] = defaultdict(lambda: {True: [], False: []})
    for d in kept(decisions):
        by_prompt[d.record.prompt][bool(d.label)].append(d.record)
    pairs = []
    for prompt, sides in by_prompt.items():
        for good in sides[True]:
            for bad in sides[False]:
                pairs.append({
                    "prompt": _prompt(prompt, pack, conversational),
                    "chosen": _completion(good.completion, conversational),
                    "rejected": _completion(bad.completion, conversational),
                    "chosen_model": ", ".join(good.models),
                    "rejected_model": ", ".join(bad.models),
                    "language": good.language,
                    "_order": row_order(prompt, good.completion, bad.completion),
                })
    pairs.sort(key=lambda p: p["_order"])
    for p in pairs:
        del p["_order"]
    return pairs


def raw_rows(records: Iterable[AnnotatedRecord]) -> list[dict[str, Any]]:
    """Every response of every record (any status: the backup keeps drafts too), annotators pseudonymised."""
    rows = []
    for r in sorted(records, key=lambda r: (row_order(r.prompt, r.completion), r.id)):
        for a in r.answers:
            rows.append({"record_id": r.id, "prompt": r.prompt, "completion": r.completion,
                         "model": ", ".join(r.models), "language": r.language, "annotator": a.annotator,
                         "status": a.status, "label": a.value, "comment": a.comment})
    return rows


# ---- the split ------------------------------------------------------------------------------------


def _unit(prompt: str) -> float:
    return int(hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:15], 16) / 16**15


def split_prompts(prompts: Iterable[str], test_size: float) -> set[str]:
    """The prompts of the test split: those whose text hashes below `test_size`.

    A prompt's side depends on its text alone, so a later export with more annotations never moves
    a prompt from test to train. With two or more prompts each side gets at least one.
    """
    if not 0.0 <= test_size < 1.0:
        raise KitError(f"--test_size is a fraction of the prompts in [0, 1), got {test_size}")
    unique = sorted(set(prompts), key=lambda p: (_unit(p), p))
    if test_size == 0 or not unique:
        return set()
    if len(unique) < 2:
        raise KitError(f"--test_size {test_size} needs at least 2 prompts with exported rows, got {len(unique)}")
    test = {p for p in unique if _unit(p) < test_size}
    if not test:
        test = {unique[0]}
    if len(test) == len(unique):
        test.discard(unique[-1])
    return test


def prompt_text(prompt: str | list[dict[str, str]]) -> str:
    if isinstance(prompt, list):
        return next((m["content"] for m in reversed(prompt) if m["role"] == "user"), "")
    return prompt


def split_rows(rows: list[dict[str, Any]], test_prompts: set[str]) -> dict[str, list[dict[str, Any]]]:
    if not test_prompts:
        return {"train": rows}
    return {"train": [r for r in rows if prompt_text(r["prompt"]) not in test_prompts],
            "test": [r for r in rows if prompt_text(r["prompt"]) in test_prompts]}


# ---- figures for the card -------------------------------------------------------------------------


def krippendorff_alpha(units: Iterable[Iterable[str]]) -> float | None:
    """Krippendorff's alpha for nominal data; units with fewer than 2 values are not pairable.

    None when it is undefined (no pairable unit, or every value the same, so no disagreement is
    even possible to measure).
    """
    coincidence: Counter[tuple[str, str]] = Counter()
    for unit in units:
        values = list(unit)
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c, n_c in counts.items():
            for k, n_k in counts.items():
                pairs = n_c * (n_k - 1) if c == k else n_c * n_k
                coincidence[c, k] += pairs / (m - 1)
    totals: Counter[str] = Counter()
    for (c, _k), v in coincidence.items():
        totals[c] += v
    n = sum(totals.values())
    disagreement = sum(v for (c, k), v in coincidence.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if n <= 1 or expected == 0:
        return None
    return 1.0 - (n - 1) * disagreement / expected


def pairwise_agreement(units: Iterable[Iterable[str]]) -> float | None:
    """Share of annotator pairs on the same record who gave the same label."""
    same = total = 0
    for unit in units:
        counts = Counter(unit)
        m = sum(counts.values())
        total += m * (m - 1) // 2
        same += sum(n * (n - 1) // 2 for n in counts.values())
    return same / total if total else None


@dataclass
class ModelRate:
    model: str
    up: int
    down: int

    @property
    def rate(self) -> float:
        return self.up / (self.up + self.down) if self.up + self.down else 0.0


@dataclass
class ExportSummary:
    """Every figure the card shows; written as export_summary.json next to the data."""

    language: str
    language_name: str
    dataset: str
    strategy: str
    min_votes: int
    form: str
    records: int
    rated: int
    left_out: dict[str, int]
    rows: int
    up: int
    down: int
    splits: dict[str, int]
    prompts: int
    dpo_pairs: int | None
    responses: dict[str, int]
    annotators: int
    overlap_records: int
    alpha: float | None
    pairwise_agreement: float | None
    models: list[ModelRate]
    raw: int | None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def model_rates(decisions: Iterable[Decision]) -> list[ModelRate]:
    """👍/👎 of the exported rows per generating model (a text two models wrote counts for both)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d in decisions:
        if d.label is None:
            continue
        for model in d.record.models or ("unknown",):
            counts[model][0 if d.label else 1] += 1
    rates = [ModelRate(m, up, down) for m, (up, down) in counts.items()]
    return sorted(rates, key=lambda r: (-r.rate, -(r.up + r.down), r.model))


def summarise(records: list[AnnotatedRecord], decisions: list[Decision], rows: list[dict[str, Any]],
              splits: dict[str, list], pairs: list | None, raw: list | None, *, language: str,
              language_name: str, dataset: str, strategy: str, min_votes: int, form: str) -> ExportSummary:
    reasons = Counter(d.reason for d in decisions)
    statuses = Counter(a.status for r in records for a in r.answers)
    submitters = {a.annotator for r in records for a in r.answers if a.status == SUBMITTED and a.value}
    units = [r.votes for r in records if len(r.votes) >= 2]
    up = sum(1 for r in rows if r["label"])
    alpha = krippendorff_alpha(units)
    agree = pairwise_agreement(units)
    return ExportSummary(
        language=language, language_name=language_name, dataset=dataset, strategy=strategy,
        min_votes=min_votes, form=form, records=len(records), rated=len(records) - reasons[UNRATED],
        left_out={k: reasons[k] for k in (UNRATED, TOO_FEW, TIE, NOT_UNANIMOUS) if reasons[k]},
        rows=len(rows), up=up, down=len(rows) - up, splits={k: len(v) for k, v in splits.items()},
        prompts=len({prompt_text(r["prompt"]) for r in rows}),
        dpo_pairs=None if pairs is None else len(pairs),
        responses={s: statuses[s] for s in (SUBMITTED, DRAFT, DISCARDED)},
        annotators=len(submitters), overlap_records=len(units),
        alpha=None if alpha is None else round(alpha, 4), pairwise_agreement=None if agree is None else round(agree, 4),
        models=model_rates(decisions), raw=None if raw is None else len(raw),
    )


# ---- writing --------------------------------------------------------------------------------------


def to_dataset(rows: list[dict[str, Any]]):
    """A `datasets.Dataset` whose bytes depend on the rows only (explicit features, content fingerprint)."""
    from datasets import Dataset

    if not rows:
        raise KitError("internal: an empty split would be written")
    data = Dataset.from_list(rows)
    fingerprint = hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]
    return Dataset(data.data, info=data.info, fingerprint=fingerprint)


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def save_splits(splits: dict[str, list[dict[str, Any]]], folder: Path) -> None:
    """`load_from_disk`-able DatasetDict plus one `<split>.jsonl` per split."""
    from datasets import DatasetDict

    folder.mkdir(parents=True, exist_ok=True)
    kept_splits = {name: rows for name, rows in splits.items() if rows}
    DatasetDict({name: to_dataset(rows) for name, rows in kept_splits.items()}).save_to_disk(str(folder))
    for name, rows in kept_splits.items():
        _write_jsonl(folder / f"{name}.jsonl", rows)


def _replaceable(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and ((folder / MARKER).exists() or not any(folder.iterdir())))


def write_export(folder: str | Path, kto: dict[str, list[dict[str, Any]]], summary: ExportSummary,
                 dpo: dict[str, list[dict[str, Any]]] | None = None, raw: list[dict[str, Any]] | None = None
                 ) -> Path:
    """Write everything into a fresh copy of `folder`, then swap it in: a failed export leaves the old one.

    Only a folder this module wrote (or an empty one) is replaced; anything else is an error.
    """
    from ktokit.cards import dataset_card, model_chart

    folder = Path(folder)
    if not _replaceable(folder):
        raise KitError(f"{folder} exists and was not written by export_kto.py: choose another --output_dir")
    tmp = folder.with_name(folder.name + ".tmp-export")
    shutil.rmtree(tmp, ignore_errors=True)
    save_splits(kto, tmp)
    if dpo is not None and any(dpo.values()):
        save_splits(dpo, tmp / "dpo")
    if raw:
        save_splits({"train": raw}, tmp / "raw")
    (tmp / SUMMARY_FILE).write_text(summary.to_json(), encoding="utf-8")
    if summary.models:
        model_chart(summary.models, tmp / CHART_FILE)
    (tmp / CARD_FILE).write_text(dataset_card(summary), encoding="utf-8")
    (tmp / MARKER).write_text("written by export_kto.py; rerunning it replaces this folder\n")
    if folder.exists():
        old = folder.with_name(folder.name + ".old-export")
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(folder)
    return folder


def push_export(folder: str | Path, repo_id: str, *, private: bool, token: str | None = None) -> str:
    """Upload what `write_export` wrote: KTO as the default config, `dpo` and `raw` as configs, the card
    and the chart. The card goes last so it keeps the config list the pushes wrote."""
    from datasets import load_from_disk

    from ktokit.hub import hub_error, push_dataset, require_hf_token

    folder = Path(folder)
    token = token or require_hf_token(f"--push_to_hub {repo_id}")
    try:
        for config in ("dpo", "raw"):
            if (folder / config).is_dir():
                load_from_disk(str(folder / config)).push_to_hub(repo_id, config_name=config, private=private,
                                                                 token=token)
        if (folder / CHART_FILE).exists():
            from huggingface_hub import HfApi

            HfApi(token=token).upload_file(path_or_fileobj=str(folder / CHART_FILE), path_in_repo=CHART_FILE,
                                           repo_id=repo_id, repo_type="dataset")
    except Exception as exc:  # noqa: BLE001  (the Hub client raises many types; the user needs one line)
        raise hub_error(f"pushing to {repo_id}", exc, token) from None
    card = (folder / CARD_FILE).read_text(encoding="utf-8")
    return push_dataset(load_from_disk(str(folder)), repo_id, card, private=private, token=token)


# ---- the whole step -------------------------------------------------------------------------------


@dataclass
class Export:
    """Everything one export produced, in memory (tests read it; `write_export` saves it)."""

    kto: dict[str, list[dict[str, Any]]]
    dpo: dict[str, list[dict[str, Any]]] | None
    raw: list[dict[str, Any]] | None
    summary: ExportSummary


def build_export(records: list[AnnotatedRecord], pack: LanguagePack, *, dataset: str, strategy: str = "majority",
                 min_votes: int = 1, conversational: bool = False, dpo: bool = False, test_size: float = 0.0,
                 raw: bool = False, where: str | None = None) -> Export:
    """Aggregate, shape and split; a KitError when there is nothing to export, saying why."""
    decisions = aggregate(records, strategy, min_votes)
    where = where or dataset
    if not records:
        raise KitError(f"{where} has no records: run `python create_task.py --language {pack.code}` first")
    submitted = sum(1 for r in records for a in r.answers if a.status == SUBMITTED and a.value)
    if not submitted:
        drafts = sum(1 for r in records for a in r.answers if a.status == DRAFT)
        raise KitError(f"no submitted responses yet in {where}: {len(records)} records pending"
                       + (f" ({drafts} draft{'s' if drafts != 1 else ''} saved, not submitted)" if drafts else "")
                       + "; annotate, then export again")
    rows = kto_rows(decisions, pack, conversational)
    if not rows:
        reasons = Counter(d.reason for d in decisions if d.label is None)
        why = ", ".join(f"{reasons[k]} {k.replace('_', ' ')}" for k in (UNRATED, TOO_FEW, TIE, NOT_UNANIMOUS)
                        if reasons[k])
        raise KitError(f"no record passes the aggregation (--strategy {strategy}, --min_votes {min_votes}): {why}; "
                       "lower --min_votes, use --strategy majority, or annotate more")
    test_prompts = split_prompts((prompt_text(r["prompt"]) for r in rows), test_size)
    kto = split_rows(rows, test_prompts)
    pairs = dpo_pairs(decisions, pack, conversational) if dpo else None
    dpo_splits = split_rows(pairs, test_prompts) if pairs is not None else None
    raw_list = raw_rows(records) if raw else None
    summary = summarise(records, decisions, rows, kto, pairs, raw_list, language=pack.code,
                        language_name=f"{pack.name} ({pack.native_name})" if pack.native_name != pack.name
                        else pack.name, dataset=dataset, strategy=strategy, min_votes=min_votes,
                        form="conversational" if conversational else "standard")
    return Export(kto=kto, dpo=dpo_splits, raw=raw_list, summary=summary)
