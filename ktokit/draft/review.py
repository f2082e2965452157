"""`review-pack`: drafted prompts and examples as an Argilla dataset, where speakers of the language
accept, edit or reject each one.

The drafts are what `draft-prompts` and `draft-examples` wrote, `outputs/<code>/drafts/prompts.jsonl`
and `examples.jsonl`, one `{"kind", "text", "source", "model", "language"}` per line. Each becomes one
record with a content-derived id, so a rerun with more drafts adds only the new ones and never touches
an answer already given. The draft is also a suggestion of the edit question: the reviewer corrects it
in place instead of retyping it. The server is found or provisioned as create_task does it, and the
dataset is recorded under its own key (`<code>:review`), so `accept-pack` needs no flags.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ktokit.annotate.task import LogResult, TaskTemplate
from ktokit.console import KitError
from ktokit.options import argilla_dir_option, language_option, option, server_option, space_option
from ktokit.packs.languages import LanguagePack, load_pack

PROMPT, EXAMPLE = "prompt", "example"
DRAFT_FILES = {PROMPT: "prompts.jsonl", EXAMPLE: "examples.jsonl"}
FIELD_DRAFT, FIELD_SOURCE = "draft", "source"
QUESTION_DECISION, QUESTION_EDIT = "decision", "edit"
ACCEPT, EDIT, REJECT = "accept", "edit", "reject"
DRAFT_AGENT = "ktokit-draft"
NO_SOURCE = "—"  # a field cannot be empty in Argilla


def review_key(code: str) -> str:
    """Where the review dataset is recorded among the language's Argilla targets."""
    return f"{code}:review"


def review_fix(code: str) -> str:
    return f"`python -m ktokit review-pack --language {code} --local` (or --space ORG/NAME)"


def default_drafts_dir(code: str) -> Path:
    return Path("outputs") / code / "drafts"


@dataclass(frozen=True)
class Draft:
    """One drafted prompt or example, as the drafting commands write it."""

    kind: str
    text: str
    source: str = ""
    model: str = ""
    language: str = ""


def normalize(kind: str, text: str) -> str:
    """The text as the pack stores it: a prompt on one line; an example's lines stripped, no blank line
    inside (a blank line separates examples in examples.txt)."""
    if kind == PROMPT:
        return " ".join(text.split())
    return "\n".join(s for line in text.splitlines() if (s := line.strip()))


def load_drafts(folder: str | Path) -> list[Draft]:
    """The drafts in `folder` (prompts.jsonl, examples.jsonl).

    One clear error for a bad line, or none at all.
    """
    folder = Path(folder)
    drafts = []
    for kind, name in DRAFT_FILES.items():
        path = folder / name
        if not path.is_file():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise KitError(f"{path}:{n}: not valid JSON; fix or delete the line") from None
            if (
                not isinstance(row, dict)
                or not isinstance(row.get("text"), str)
                or row.get("kind", kind) != kind
            ):
                raise KitError(
                    f'{path}:{n}: expected {{"kind": "{kind}", "text": ..., "source": ..., '
                    '"model": ..., "language": ...}'
                )
            text = normalize(kind, row["text"])
            if text:
                drafts.append(
                    Draft(
                        kind,
                        text,
                        str(row.get("source") or ""),
                        str(row.get("model") or ""),
                        str(row.get("language") or ""),
                    )
                )
    if not drafts:
        raise KitError(
            f"no drafts in {folder}/ ({' or '.join(DRAFT_FILES.values())}): run `python -m ktokit "
            "draft-prompts` or `draft-examples` first, or pass --drafts FOLDER"
        )
    return drafts


def pack_texts(pack: LanguagePack, kind: str) -> set[str]:
    """What the pack already holds of `kind`, normalized as drafts are."""
    return {normalize(kind, t) for t in (pack.prompts if kind == PROMPT else pack.examples)}


def record_id(code: str, kind: str, text: str) -> str:
    """Stable id of one draft: the same text always maps to the same record."""
    digest = hashlib.sha256("\x1f".join((code, kind, text)).encode("utf-8")).hexdigest()
    return f"{code}-{kind}-{digest[:24]}"


def review_template(
    pack: LanguagePack, min_submitted: int = 1, dataset: str | None = None, workspace: str | None = None
) -> TaskTemplate:
    """The review task from the pack's `review:` texts (English where the pack has none)."""
    if min_submitted < 1:
        raise KitError(f"--min-submitted must be at least 1, got {min_submitted}")
    texts = pack.review
    return TaskTemplate(
        dataset=dataset or f"review-{pack.code}".lower(),
        workspace=workspace or pack.code,
        language=pack.code,
        guidelines=f"# {texts.dataset_title}\n\n{texts.guidelines.strip()}",
        fields=[
            {"name": FIELD_DRAFT, "title": texts.draft_title, "use_markdown": False},
            {"name": FIELD_SOURCE, "title": texts.source_title, "use_markdown": False},
        ],
        questions=[
            {
                "kind": "label",
                "name": QUESTION_DECISION,
                "title": texts.question,
                "labels": {k: texts.labels[k] for k in (ACCEPT, EDIT, REJECT)},
                "required": True,
            },
            {"kind": "text", "name": QUESTION_EDIT, "title": texts.edit, "required": False},
        ],
        metadata=[
            {"kind": "terms", "name": "kind", "title": "kind"},
            {"kind": "terms", "name": "model", "title": "model"},
            {"kind": "terms", "name": "language", "title": "language"},
        ],
        min_submitted=min_submitted,
    )


def review_records(drafts: list[Draft], pack: LanguagePack) -> tuple[list[dict[str, Any]], int]:
    """One record per distinct draft not yet in the pack; returns them and how many the pack already holds."""
    known = {kind: pack_texts(pack, kind) for kind in DRAFT_FILES}
    by_id: dict[str, dict[str, Any]] = {}
    in_pack = 0
    for draft in drafts:
        if draft.text in known[draft.kind]:
            in_pack += 1
            continue
        rid = record_id(pack.code, draft.kind, draft.text)
        if rid in by_id:  # two models drafted the same text: one record, both models in metadata
            models = by_id[rid]["metadata"]["model"]
            if draft.model and draft.model not in models:
                models.append(draft.model)
            continue
        by_id[rid] = {
            "id": rid,
            "fields": {FIELD_DRAFT: draft.text, FIELD_SOURCE: draft.source.strip() or NO_SOURCE},
            "metadata": {
                "kind": draft.kind,
                "model": [draft.model] if draft.model else [],
                "language": draft.language or pack.code,
            },
            "suggestion": {
                "question_name": QUESTION_EDIT,
                "value": draft.text,
                "agent": re.sub(r"[^A-Za-z0-9_:./-]", "-", f"{DRAFT_AGENT}/{draft.model or 'model'}"),
            },
        }
    return list(by_id.values()), in_pack


@dataclass
class ReviewArguments:
    """review-pack's options (`python -m ktokit review-pack` parses them from this class)."""

    language: str = language_option()
    local: bool = option("the local Argilla server (the default)", False, exclusive="target")
    space: str | None = space_option(
        "the language's Argilla Space (provisioned on first use)", exclusive="target"
    )
    server: str | None = server_option(exclusive="target")
    drafts: str | None = option(
        "where prompts.jsonl / examples.jsonl are (default: outputs/CODE/drafts)", None, metavar="FOLDER"
    )
    dataset_name: str | None = option("default: review-CODE", None)
    min_submitted: int = option("reviewers per draft (default 1)", 1)
    private: bool = option("a new Space is private", False)
    storage: str = option("a new Space's storage: none or bucket", "none")
    space_url: str | None = option("the Space's Argilla URL when it is not https://OWNER-NAME.hf.space", None)
    argilla_dir: str | None = argilla_dir_option()

    def __post_init__(self) -> None:
        if sum(map(bool, (self.local, self.space, self.server))) > 1:
            raise KitError("choose one target: --local, --space ORG/NAME or --server URL")
        if self.space:
            from ktokit.hub import check_repo_id

            check_repo_id(self.space)  # a bad Space id: one line before the drafts are read


@dataclass
class ReviewPlan:
    """What review-pack is about to send where, reported before any server is reached."""

    args: ReviewArguments
    pack: LanguagePack
    template: TaskTemplate
    folder: Path
    drafts: list[Draft]
    records: list[dict[str, Any]]
    in_pack: int  # drafts the pack already holds

    @property
    def target(self) -> str:
        if self.args.server:
            return f"Argilla server {self.args.server}"
        return f"Space {self.args.space}" if self.args.space else "local Argilla server"

    def report_lines(self) -> list[str]:
        kinds = Counter(r["metadata"]["kind"] for r in self.records)
        own = "the pack's" if self.pack.review.own else "English (the pack has no `review:` texts)"
        repeated = len(self.drafts) - len(self.records) - self.in_pack
        template = self.template
        return [
            f"target       {self.target}",
            f"dataset      {template.workspace}/{template.dataset}  ({self.pack.name}, texts: {own})",
            f"drafts       {len(self.drafts)} in {self.folder}/: {kinds[PROMPT]} prompts and "
            f"{kinds[EXAMPLE]} examples to review, {repeated} repeated, {self.in_pack} already in the pack",
        ]


@dataclass
class ReviewResult:
    """Where the review dataset is, and how reviewers get to it."""

    url: str
    api_url: str
    workspace: str
    kind: str
    logged: LogResult | None = None

    def report_lines(self) -> list[str]:
        if self.kind == "local":
            reviewers = f"python -m ktokit argilla add-annotator NAME --workspace {self.workspace}"
        elif self.kind == "server":
            from ktokit.annotate.create import server_annotators

            reviewers = server_annotators(self.api_url, self.workspace)
        else:
            reviewers = f"sign in with Hugging Face at {self.api_url} (workspace {self.workspace})"
        counts = [self.logged.line()] if self.logged else []
        return [*counts, f"review at    {self.url}", f"reviewers    {reviewers}"]


def plan_review(args: ReviewArguments) -> ReviewPlan:
    """The pack, the review task and the records of the drafts it lacks (the drafts read and checked)."""
    from ktokit.annotate.space import check_storage

    check_storage(args.storage)
    pack = load_pack(args.language)
    template = review_template(pack, args.min_submitted, args.dataset_name)
    folder = Path(args.drafts) if args.drafts else default_drafts_dir(pack.code)
    drafts = load_drafts(folder)
    records, in_pack = review_records(drafts, pack)
    return ReviewPlan(args, pack, template, folder, drafts, records, in_pack)


def review_pack(args: ReviewArguments, plan: ReviewPlan | None = None) -> ReviewResult:
    """Drafts → the review dataset on the language's server (created or reused), only the new ones added."""
    from ktokit.annotate import create
    from ktokit.annotate.credentials import save_target

    plan = plan or plan_review(args)
    pack, template = plan.pack, plan.template
    if not plan.records:
        raise KitError(
            f"every draft in {plan.folder}/ is already in languages/{pack.code}/: nothing to review"
        )
    if args.space:
        task = create.TaskArguments(
            language=pack.code,
            space=args.space,
            private=args.private,
            storage=args.storage,
            min_submitted=args.min_submitted,
            space_url=args.space_url,
        )
        client, api_url, target = create.space_client(task, pack, template)
    elif args.server:
        client, api_url, target = create.server_client(args.server)
    else:
        client, api_url, target = create.local_client(args.argilla_dir)
    logged, url = create.log_records(client, template, plan.records, api_url)
    save_target(
        review_key(pack.code), {**target, "workspace": template.workspace, "dataset": template.dataset}
    )
    return ReviewResult(url, api_url, template.workspace, target["kind"], logged)
