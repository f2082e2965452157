"""`accept-pack`: the submitted review answers → new lines in the pack's prompts.txt and examples.txt.

Only submitted answers count (a draft is not a decision). Several reviewers of one draft: the most
frequent decision wins, a tie stays pending. An accepted or edited draft is written as the reviewer's
text (the edit question starts as the draft, so an untouched box is the draft itself). The files are
only ever appended to: a line already in the pack (exactly or nearly, as drafting judges duplicates)
is never written twice, none is ever deleted, and an edit that fails the language check or an example
that breaks the form rule is reported rather than written. `validate` then says how far the pack is
from done.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ktokit.console import KitError
from ktokit.draft.dedup import Seen
from ktokit.draft.review import (
    ACCEPT,
    EDIT,
    EXAMPLE,
    FIELD_DRAFT,
    PROMPT,
    QUESTION_DECISION,
    QUESTION_EDIT,
    REJECT,
    normalize,
    pack_texts,
    review_fix,
    review_key,
)
from ktokit.packs.form import FAIL, check_form, validation_problems
from ktokit.packs.languages import EXAMPLES_FILE, PROMPTS_FILE, TODO, LanguagePack, load_pack
from ktokit.paths import write_text

if TYPE_CHECKING:
    import argilla as rg

SUBMITTED = "submitted"
ACCEPTED, EDITED, REJECTED, PENDING = "accepted", "edited", "rejected", "pending"


@dataclass
class Decision:
    """What the review says about one draft: the outcome and, when kept, the text to write."""

    id: str
    kind: str
    draft: str
    outcome: str
    text: str | None = None


def decide(item: dict[str, Any]) -> Decision:
    """One record as the records endpoint returns it (JSON, with responses) → its decision."""
    fields = item.get("fields") or {}
    metadata = item.get("metadata") or {}
    if isinstance(metadata, list):
        metadata = {m["name"]: m["value"] for m in metadata}
    kind = str(metadata.get("kind") or PROMPT)
    draft = normalize(kind, str(fields.get(FIELD_DRAFT) or ""))
    answers = []
    for response in sorted(item.get("responses") or [], key=lambda r: str(r.get("user_id"))):
        values = response.get("values") or {}
        choice = (values.get(QUESTION_DECISION) or {}).get("value")
        if response.get("status") == SUBMITTED and choice in (ACCEPT, EDIT, REJECT):
            answers.append(
                (choice, normalize(kind, str((values.get(QUESTION_EDIT) or {}).get("value") or "")))
            )
    rid = str(item.get("external_id") or item.get("id"))
    ranked = Counter(choice for choice, _ in answers).most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return Decision(rid, kind, draft, PENDING)
    choice = ranked[0][0]
    if choice == REJECT:
        return Decision(rid, kind, draft, REJECTED)
    text = next((edit for c, edit in answers if c == choice and edit and edit != draft), draft)
    return Decision(rid, kind, draft, EDITED if text != draft else ACCEPTED, text)


def _review_settings(dataset: rg.Dataset) -> None:
    """The dataset must be a review dataset (review-pack's question), else nothing could be read."""
    questions = {q.name for q in dataset.settings.questions}
    if QUESTION_DECISION not in questions:
        raise KitError(
            f"dataset {dataset.name!r} has no {QUESTION_DECISION!r} question: accept-pack reads datasets "
            "made by review-pack"
        )


@dataclass
class AcceptResult:
    """The counts `accept-pack` reports, and what it refused."""

    counts: Counter = field(default_factory=Counter)
    refused: list[tuple[Decision, str]] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=lambda: {PROMPT: 0, EXAMPLE: 0})
    present: dict[str, int] = field(default_factory=lambda: {PROMPT: 0, EXAMPLE: 0})
    problems: list[str] = field(default_factory=list)
    where: str = ""
    language: str = ""

    def report_lines(self) -> list[str]:
        """What `accept-pack` prints: the review's counts, what went into each file, the validate verdict."""
        c, written, present = self.counts, self.written, self.present
        lines = [
            f"review       {self.where}",
            f"drafts       {sum(c.values())}: {c[ACCEPTED]} accepted, {c[EDITED]} edited, "
            f"{c[REJECTED]} rejected, {c[PENDING]} pending",
            f"{PROMPTS_FILE:<12} {written[PROMPT]} written, {present[PROMPT]} already present",
            f"{EXAMPLES_FILE:<12} {written[EXAMPLE]} written, {present[EXAMPLE]} already present",
        ]
        if self.refused:
            lines.append(
                f"refused      {len(self.refused)} (correct them in Argilla and rerun; one the check "
                "misjudges, add to the file by hand):"
            )
            lines += [f"  - {d.kind} {d.id}: {why}: {d.text!r}" for d, why in self.refused]
        verdict = "ok" if not self.problems else f"{len(self.problems)} to fix"
        lines.append(f"validate     {self.language}: {verdict}")
        lines += [f"  - {problem}" for problem in self.problems]
        return lines


def problem_with(decision: Decision, pack: LanguagePack) -> str | None:
    """Why a kept draft cannot go into the pack as it is (None: it can). An edit is checked again as
    the draft was: the language check, and for an example the form check."""
    from ktokit.packs import language_id

    text = decision.text or ""
    if not text or TODO in text:
        return "empty, or holds TODO"
    if decision.outcome == EDITED and not language_id.is_language(text, pack.code):
        return f"not in {pack.name} by the language check (it reads {language_id.detect(text)})"
    if decision.kind == EXAMPLE:
        check = check_form(text, pack.form, clean=False)
        if check.verdict == FAIL:
            return f"breaks the form rule: {check.reason}"
    return None


def append_texts(path: Path, texts: list[str], kind: str) -> None:
    """Add texts at the end of a pack file, never changing what is there: prompts one per line,
    examples separated by blank lines. The file is replaced whole (ktokit.paths.write_text), so an
    interrupted accept-pack leaves the pack as it was, never a half-written line."""
    if not texts:
        return
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    lead = "" if not existing or existing.endswith("\n") else "\n"
    if kind == EXAMPLE and existing.strip():
        lead += "\n"
    joiner = "\n" if kind == PROMPT else "\n\n"
    write_text(path, existing + lead + joiner.join(texts) + "\n")


def apply_decisions(decisions: list[Decision], pack: LanguagePack) -> AcceptResult:
    """Write the accepted and edited drafts the pack lacks into its files; count everything."""
    if pack.path is None:
        raise KitError(f"pack {pack.code!r} has no folder to write to")
    result = AcceptResult()
    new: dict[str, list[str]] = {PROMPT: [], EXAMPLE: []}
    have = {kind: Seen(pack_texts(pack, kind)) for kind in new}  # exact and near duplicates, in any script
    for decision in sorted(decisions, key=lambda d: (d.kind, d.id)):
        result.counts[decision.outcome] += 1
        if decision.outcome in (REJECTED, PENDING):
            continue
        problem = problem_with(decision, pack)
        if problem:
            result.refused.append((decision, problem))
        elif have[decision.kind].match(decision.text) is not None:
            result.present[decision.kind] += 1
        else:
            have[decision.kind].add(decision.text)
            new[decision.kind].append(decision.text)
    append_texts(pack.path / PROMPTS_FILE, new[PROMPT], PROMPT)
    append_texts(pack.path / EXAMPLES_FILE, new[EXAMPLE], EXAMPLE)
    result.written = {kind: len(texts) for kind, texts in new.items()}
    return result


def accept_pack(language: str, dataset_name: str | None = None) -> AcceptResult:
    """The whole command: read the review, append to the pack, validate it again."""
    from ktokit.export.read import connect, record_items

    pack = load_pack(language)
    client, dataset, where = connect(
        pack.code, dataset_name, key=review_key(pack.code), fix=review_fix(pack.code), check=_review_settings
    )
    decisions = [decide(item) for item in record_items(client, dataset)]
    result = apply_decisions(decisions, pack)
    result.where, result.language = where, pack.code
    result.problems = validation_problems(load_pack(pack.path))
    return result
