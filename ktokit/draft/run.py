"""`draft-prompts` and `draft-examples`: a model set drafts a new pack's lines, the kit keeps the usable ones.

The models answer through preference_gen.py's pipeline (same model sets, backends, retries,
concurrency, checkpoint and summary table); each answer is then cleaned (the answer's talk removed),
and dropped, with its reason counted, when it is only talk, not in the pack's language, not in the
form (one line for a prompt, the pack's form rule for an example), or a duplicate of a line of the
pack, of an earlier draft or of another answer (ktokit.draft.dedup). What is kept is appended to
`outputs/<code>/drafts/{prompts,examples}.jsonl`, one JSON object per line with exactly the keys
`kind, text, source, model, language`, for people to review.

A rerun resumes: a source already answered by the same model set is not asked again, and a draft
already in the file is not written twice.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ktokit.console import KitError, say
from ktokit.draft import asks
from ktokit.draft.dedup import Seen
from ktokit.generate import output
from ktokit.generate.models import ModelSet
from ktokit.generate.run import answer_rows, choose_model_set
from ktokit.packs.cleaning import is_talk
from ktokit.packs.counting import COUNTERS
from ktokit.packs.form import FAIL
from ktokit.packs.languages import FormRule, LanguagePack, load_pack
from ktokit.paths import write_jsonl

PROMPT, EXAMPLE = "prompt", "example"
FILES = {PROMPT: "prompts.jsonl", EXAMPLE: "examples.jsonl"}
KEYS = ("kind", "text", "source", "model", "language")
ONE_LINE = FormRule(lines=1)


def drafts_dir(code: str) -> Path:
    return Path("outputs") / code / "drafts"


def read_drafts(path: Path) -> list[dict[str, Any]]:
    """The drafts of a file; a line cut short by a killed run is skipped (it is drafted again)."""
    if not path.is_file():
        return []
    drafts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            drafts.append(item)
    return drafts


@dataclass
class DraftCounts:
    """What happened to the answers of one run (sources answered earlier are not counted again)."""

    asked: int = 0
    answered: int = 0
    chatter: int = 0
    duplicate: int = 0
    wrong_language: int = 0
    form_fail: int = 0
    kept: int = 0

    def line(self) -> str:
        return (
            f"asked {self.asked}, answered {self.answered}; dropped: {self.chatter} chatter only, "
            f"{self.duplicate} duplicate, {self.wrong_language} wrong language, {self.form_fail} form fail; "
            f"kept {self.kept}"
        )

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class DraftRun:
    """What one drafting run did, and the report `draft-prompts` / `draft-examples` print."""

    kind: str
    code: str
    out_file: Path
    counts: DraftCounts
    answered: int  # sources answered in this run
    seconds: float
    summary: str  # the generation summary table of this run's answers ("" when none)
    drafts: int  # drafts in the file now
    new: int  # of which written by this run

    def report_lines(self) -> list[str]:
        lines = (
            [f"{self.answered} sources answered in {self.seconds:.1f} s", self.summary]
            if self.answered
            else []
        )
        return [
            *lines,
            self.counts.line(),
            f"drafts: {self.drafts} {self.kind}s in {self.out_file} ({self.new} new); review them with "
            f"`python -m ktokit review-pack --language {self.code}`",
        ]


@dataclass
class DraftJob:
    """One drafting run: what is asked (source -> messages), of whom, checked how, written where."""

    kind: str
    pack: LanguagePack
    model_set: ModelSet
    token: str
    origin: str  # "from-en", "topics-<file>", "examples": runs of another origin keep their own checkpoint
    sources: list[str]
    messages: dict[str, list[dict[str, str]]]
    form: FormRule
    known: list[str]  # the pack's own lines of this kind: a draft must not repeat one

    @property
    def out_file(self) -> Path:
        return drafts_dir(self.pack.code) / FILES[self.kind]

    @property
    def run_dir(self) -> Path:
        """The checkpoint of this origin and these models (a hash of their names: a set renamed or edited
        starts a checkpoint of its own rather than clashing with the old one)."""
        models = hashlib.sha256(json.dumps([m.name for m in self.model_set.models]).encode()).hexdigest()[:8]
        return (
            drafts_dir(self.pack.code)
            / ".runs"
            / f"{self.kind}s-{self.origin}-{self.model_set.name}-{models}"
        )


def draft_prompts(
    language: str,
    models: str | None,
    source: str | None = None,
    topics: str | None = None,
    n: int | None = None,
    runner: str = "local",
) -> DraftRun:
    """Prompts for pack `language`: `source`'s prompts translated, or one per line of the `topics` file."""
    pack = load_pack(language)
    if bool(source) == bool(topics):
        raise KitError("say what to draft from: --from CODE (translate that pack's prompts) or --topics FILE")
    if source:
        origin_pack = load_pack(source)
        if origin_pack.code == pack.code:
            raise KitError(f"--from {source}: pick another pack than the one drafted for")
        items = list(dict.fromkeys(origin_pack.prompts))
        if not items:
            raise KitError(f"pack {origin_pack.code!r} has no prompts to translate")
        origin = f"from-{origin_pack.code}"
        ask = lambda text: asks.translate_messages(pack, origin_pack, text)  # noqa: E731
    else:
        path = Path(topics)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KitError(f"cannot read --topics {path}: {exc.strerror or exc}") from None
        items = list(
            dict.fromkeys(s for line in text.splitlines() if (s := line.strip()) and not s.startswith("#"))
        )
        if not items:
            raise KitError(f"--topics {path} has no topic: write one per line")
        origin = f"topics-{path.stem}"
        ask = lambda text: asks.topic_messages(pack, text)  # noqa: E731
    items = _first(items, n)
    model_set, note, token = choose_model_set(models, pack.code)
    if note:
        say(note)
    job = DraftJob(
        PROMPT,
        pack,
        model_set,
        token,
        origin,
        items,
        {s: ask(s) for s in items},
        ONE_LINE,
        known=pack.prompts,
    )
    return run_job(job, runner)


def draft_examples(
    language: str, models: str | None, n: int | None = None, runner: str = "local"
) -> DraftRun:
    """Examples for pack `language`: answers, in the pack's form, to its prompts and drafted prompts."""
    pack = load_pack(language)
    rule = pack.form
    if rule.counter is not None and rule.counter not in COUNTERS:
        raise KitError(
            f"languages/{pack.code}/pack.yaml: set form.counter to one of {', '.join(sorted(COUNTERS))} "
            "(or leave out pattern and counter): draft-examples keeps only answers that pass the form check"
        )
    prompts = list(
        dict.fromkeys(
            [*pack.prompts, *(d["text"] for d in read_drafts(drafts_dir(pack.code) / FILES[PROMPT]))]
        )
    )
    if not prompts:
        raise KitError(
            f"pack {pack.code!r} has no prompts yet: write some in languages/{pack.code}/prompts.txt, or "
            f"run `python -m ktokit draft-prompts --language {pack.code} --from en` first"
        )
    prompts = _first(prompts, n)
    model_set, note, token = choose_model_set(models, pack.code)
    if note:
        say(note)
    job = DraftJob(
        EXAMPLE,
        pack,
        model_set,
        token,
        "examples",
        prompts,
        {p: asks.example_messages(pack, p) for p in prompts},
        rule,
        known=pack.examples,
    )
    return run_job(job, runner)


def _first(items: list[str], n: int | None) -> list[str]:
    if n is None:
        return items
    if n < 1:
        raise KitError(f"--n must be at least 1, got {n}")
    return items[:n]


def run_job(job: DraftJob, runner: str = "local") -> DraftRun:
    """Ask what is left to ask, then sort every answer into kept or dropped; return what happened."""
    identity = {**output.run_identity(job.pack, job.model_set), "kind": job.kind, "origin": job.origin}
    output.claim_output_dir(job.run_dir, identity)
    done = output.read_checkpoint(job.run_dir)
    todo = [s for s in job.sources if s not in done]
    n_models = len(job.model_set.models)
    say(
        f"drafting {job.kind}s for {job.pack.code} ({job.pack.name}) with model set {job.model_set.path}: "
        f"{len(job.sources)} sources ({len(job.sources) - len(todo)} done earlier), "
        f"{len(todo) * n_models} requests ({len(todo)} x {n_models} models)"
    )
    start = time.perf_counter()
    answer_rows(
        [{"input": s, "messages": job.messages[s]} for s in todo],
        job.pack,
        job.model_set,
        form=job.form,
        output_dir=job.run_dir,
        token=job.token,
        runner=runner,
    )
    seconds = time.perf_counter() - start
    done = output.read_checkpoint(job.run_dir)
    rows = [done[s] for s in job.sources if s in done]
    new = {s for s in todo if s in done}
    counts = DraftCounts(asked=len(todo) * n_models)
    written = read_drafts(job.out_file)
    seen = Seen([*job.known, *(d["text"] for d in written)])
    kept = []
    for row in rows:
        for draft, reason in sort_answers(row, job, seen):
            if row["input"] in new:
                counts.answered += 1
                setattr(counts, reason, getattr(counts, reason) + 1)
            if reason == "kept":
                kept.append(draft)
    if kept:
        write_jsonl(job.out_file, kept, append=True)
    stats = output.model_stats(
        [done[s] for s in job.sources if s in new], [m.name for m in job.model_set.models]
    )
    return DraftRun(
        job.kind,
        job.pack.code,
        job.out_file,
        counts,
        answered=len(new),
        seconds=seconds,
        summary=output.summary_table(stats) if new else "",
        drafts=len(written) + len(kept),
        new=len(kept),
    )


def sort_answers(row: dict[str, Any], job: DraftJob, seen: Seen) -> list[tuple[dict[str, Any] | None, str]]:
    """Each answer of one source with its fate: "kept" or the DraftCounts field that counts it."""
    kept_by_model = {
        m: (text, lang, check)
        for m, text, lang, check in zip(
            row["generation_model"], row["generations"], row["detected_languages"], row["form_checks"]
        )
    }
    out: list[tuple[dict[str, Any] | None, str]] = []
    for request in row["requests"]:
        if not request["ok"]:
            if request["error"] == "nothing left after cleaning":
                out.append((None, "chatter"))
            continue  # a failed request, or an empty answer: not answered
        if request["duplicate_of"]:  # another model gave the same text for this source
            out.append((None, "duplicate"))
            continue
        text, language, check = kept_by_model[request["model"]]
        if is_talk(text):
            out.append((None, "chatter"))
        elif language != job.pack.code:
            out.append((None, "wrong_language"))
        elif check["verdict"] == FAIL:
            out.append((None, "form_fail"))
        elif seen.match(text) is not None:
            out.append((None, "duplicate"))
        else:
            seen.add(text)
            out.append(
                (
                    {
                        "kind": job.kind,
                        "text": text,
                        "source": row["input"],
                        "model": request["model"],
                        "language": language,
                    },
                    "kept",
                )
            )
    return out
