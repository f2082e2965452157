"""Language packs: everything the kit knows about a task in one language, read from `languages/<code>/`.

A pack is three files: `pack.yaml` (names, prompts' framing, annotation texts, form rule),
`prompts.txt` (one prompt per line) and `examples.txt` (texts that satisfy the form rule, separated
by blank lines). Nothing here knows about haiku: the task and its form rule are data.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import Field

from ktokit.console import KitError
from ktokit.packs.schema import Strict, validate
from ktokit.paths import CHECKOUT

PACK_FILE = "pack.yaml"
PROMPTS_FILE = "prompts.txt"
EXAMPLES_FILE = "examples.txt"
TODO = "TODO"
CODE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
MIN_PROMPTS = 100
MIN_EXAMPLES = 30
FORMAT_DOC = "see languages/README.md for the format"


def languages_dir() -> Path:
    """`$KTOKIT_LANGUAGES`, else the `languages/` folder of the checkout the kit runs from."""
    if env := os.environ.get("KTOKIT_LANGUAGES"):
        return Path(env)
    return CHECKOUT / "languages"


@dataclass
class FormRule:
    """The shape a good response has. `pattern` gives units per line; None means free form."""

    lines: int | None = None
    pattern: list[int] | None = None
    counter: str | None = None

    def describe(self) -> str:
        if self.pattern:
            return f"{'-'.join(map(str, self.pattern))} ({self.counter})"
        if self.lines:
            return f"{self.lines} lines"
        return "free form"


@dataclass
class Annotation:
    """Texts the annotators read, in the pack's language."""

    dataset_title: str
    guidelines: str
    question: str
    label_good: str
    label_bad: str
    comment: str = ""
    prompt_title: str = ""
    completion_title: str = ""
    flag: str = ""  # the optional flag question (English when the pack has none: FLAG_DEFAULTS)
    flag_labels: dict[str, str] = field(default_factory=dict)


# The flag question annotators answer instead of 👍/👎 (then Discard), when the pack gives no text of its own.
FLAG_DEFAULTS = {
    "flag": "Or flag it instead of rating it (choose one, then press Discard)",
    "labels": {
        "wrong_language": "🌐 Wrong language",
        "harmful": "⚠️ Harmful or offensive",
        "cant_judge": "🤷 I can't judge it",
    },
}


# What reviewers of drafted prompts and examples read (`review-pack`), when the pack has no `review:`.
REVIEW_DEFAULTS = {
    "dataset_title": "Drafts for the language pack: keep, correct or drop",
    "question": "Should this draft go into the pack?",
    "labels": {"accept": "✅ Accept as it is", "edit": "✏️ Accept my edit", "reject": "❌ Reject"},
    "edit": "Your version (the draft is filled in: correct it in place)",
    "draft_title": "Draft",
    "source_title": "Drafted from",
    "guidelines": """\
## Review drafts of the language pack, one at a time

A model wrote each **draft**: a *prompt* (a request people would make, one line) or an *example*
(an answer that follows the pack's form). **Drafted from** shows what it was drafted from.

- **Accept** a draft that is correct, natural and idiomatic in this language, as a native speaker
  would write it.
- **Edit** a draft that is nearly right: correct it in the text box (the draft is already there),
  then choose *Accept my edit*. An example must keep the pack's form (lines and syllables).
- **Reject** a draft in another language, a literal translation that sounds foreign, a repeat of
  another draft, a draft with talk around it ("Here is..."), or anything offensive.

Only accepted and edited drafts go into the pack, and only after an organiser runs
`python -m ktokit accept-pack`.
""",
}


@dataclass
class Review:
    """Texts the reviewers of drafted prompts and examples read, in the pack's language (English fallback)."""

    dataset_title: str = REVIEW_DEFAULTS["dataset_title"]
    guidelines: str = REVIEW_DEFAULTS["guidelines"]
    question: str = REVIEW_DEFAULTS["question"]
    labels: dict[str, str] = field(default_factory=lambda: dict(REVIEW_DEFAULTS["labels"]))
    edit: str = REVIEW_DEFAULTS["edit"]
    draft_title: str = REVIEW_DEFAULTS["draft_title"]
    source_title: str = REVIEW_DEFAULTS["source_title"]
    own: bool = False  # the pack has texts of its own (else English)


def _review(data: ReviewFile | None) -> Review:
    """The pack's optional `review:` texts; a missing one falls back to English."""
    if data is None:
        return Review()
    texts = {k: v for k in REVIEW_DEFAULTS if k != "labels" and (v := getattr(data, k))}
    labels = {k: v for k, v in (data.labels.model_dump() if data.labels else {}).items() if v}
    return Review(**texts, labels={**REVIEW_DEFAULTS["labels"], **labels}, own=True)


# pack.yaml as written (languages/README.md): what is left out or empty takes the default below.
class AnnotationLabels(Strict):
    good: str | None = None
    bad: str | None = None


class FlagLabels(Strict):
    wrong_language: str | None = None
    harmful: str | None = None
    cant_judge: str | None = None


class AnnotationFile(Strict):
    dataset_title: str | None = None
    guidelines: str | None = None
    question: str | None = None
    labels: AnnotationLabels | None = None
    comment: str | None = None
    flag: str | None = None
    flag_labels: FlagLabels | None = None
    prompt_title: str | None = None
    completion_title: str | None = None


class FormFile(Strict):
    lines: int | None = None
    pattern: list[int] | None = None
    counter: str | None = None


class ReviewLabels(Strict):
    accept: str | None = None
    edit: str | None = None
    reject: str | None = None


class ReviewFile(Strict):
    dataset_title: str | None = None
    guidelines: str | None = None
    question: str | None = None
    labels: ReviewLabels | None = None
    edit: str | None = None
    draft_title: str | None = None
    source_title: str | None = None


class PackFile(Strict):
    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    native_name: str | None = None
    task: str | None = None
    system_prompt: str | None = None
    user_template: str | None = None
    annotation: AnnotationFile | None = None
    form: FormFile | None = None
    review: ReviewFile | None = None


@dataclass
class LanguagePack:
    code: str
    name: str
    native_name: str
    task: str
    system_prompt: str
    user_template: str
    annotation: Annotation
    form: FormRule
    prompts: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    path: Path | None = None
    review: Review = field(default_factory=Review)

    def user_prompt(self, prompt: str) -> str:
        return self.user_template.format(prompt=prompt)

    def messages(self, prompt: str) -> list[dict[str, str]]:
        """The chat a model is given for one prompt."""
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return [*messages, {"role": "user", "content": self.user_prompt(prompt)}]


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [
        s
        for line in path.read_text(encoding="utf-8").splitlines()
        if (s := line.strip()) and not s.startswith("#")
    ]


def _read_blocks(path: Path) -> list[str]:
    if not path.exists():
        return []
    text = "\n".join(ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#"))
    return [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]


def pack_codes(root: Path | None = None) -> list[str]:
    root = root or languages_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / PACK_FILE).is_file())


def load_pack(code_or_path: str | Path) -> LanguagePack:
    """Load a pack by code (`es`) or folder path; one clear error if it is missing or malformed."""
    path = Path(code_or_path)
    if not (path / PACK_FILE).is_file():
        code = str(code_or_path)
        path = languages_dir() / code
        if not (path / PACK_FILE).is_file():
            known = ", ".join(pack_codes()) or "none"
            raise KitError(
                f"no language pack {code!r} (known: {known}); "
                f"create one with `python -m ktokit new-language {code} --name NAME`"
            )
    where = str(path / PACK_FILE)
    try:
        data = yaml.safe_load((path / PACK_FILE).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise KitError(f"{where}: not valid YAML{at}; fix the syntax and retry") from None
    file = validate(
        PackFile,
        data,
        where,
        doc=FORMAT_DOC,
        hints={"form.pattern": "write it as a list of whole numbers, e.g. [5, 7, 5]"},
    )
    ann, form = file.annotation or AnnotationFile(), file.form or FormFile()
    labels = ann.labels or AnnotationLabels()
    return LanguagePack(
        code=file.code,
        name=file.name,
        native_name=file.native_name or "",
        task=file.task or "",
        system_prompt=file.system_prompt or "",
        user_template=file.user_template or "{prompt}",
        annotation=Annotation(
            dataset_title=ann.dataset_title or "",
            guidelines=ann.guidelines or "",
            question=ann.question or "",
            label_good=labels.good or "",
            label_bad=labels.bad or "",
            comment=ann.comment or "",
            prompt_title=ann.prompt_title or "",
            completion_title=ann.completion_title or "",
            flag=ann.flag or FLAG_DEFAULTS["flag"],
            flag_labels={
                k: getattr(ann.flag_labels, k, None) or v for k, v in FLAG_DEFAULTS["labels"].items()
            },
        ),
        form=FormRule(
            lines=form.lines or (len(form.pattern) if form.pattern else None),
            pattern=form.pattern,
            counter=form.counter,
        ),
        prompts=_read_lines(path / PROMPTS_FILE),
        examples=_read_blocks(path / EXAMPLES_FILE),
        path=path,
        review=_review(file.review),
    )


def pack_problems(pack: LanguagePack) -> list[str]:
    """Everything still wrong with a pack, each as one line naming the field to fix (empty: valid)."""
    from ktokit.packs.counting import COUNTERS

    problems = []
    if not CODE_RE.match(pack.code):
        problems.append(f"code {pack.code!r} is not a language code such as 'es' or 'pt-BR'")
    if pack.path is not None and pack.path.name != pack.code:
        problems.append(f"code {pack.code!r} differs from the folder name {pack.path.name!r}")
    fields = {
        "name": pack.name,
        "native_name": pack.native_name,
        "task": pack.task,
        "system_prompt": pack.system_prompt,
        "user_template": pack.user_template,
        "annotation.dataset_title": pack.annotation.dataset_title,
        "annotation.guidelines": pack.annotation.guidelines,
        "annotation.question": pack.annotation.question,
        "annotation.labels.good": pack.annotation.label_good,
        "annotation.labels.bad": pack.annotation.label_bad,
        "annotation.prompt_title": pack.annotation.prompt_title,
        "annotation.completion_title": pack.annotation.completion_title,
    }
    for name, value in fields.items():
        if not value.strip() or TODO in value:
            problems.append(f"{PACK_FILE}: fill in '{name}'")
    review = pack.review
    for name, value in [
        *((k, getattr(review, k)) for k in REVIEW_DEFAULTS if k != "labels"),
        *((f"labels.{k}", v) for k, v in review.labels.items()),
    ]:
        if TODO in value:
            problems.append(f"{PACK_FILE}: fill in 'review.{name}' (or leave it out for the English text)")
    if "{prompt}" not in pack.user_template:
        problems.append(f"{PACK_FILE}: 'user_template' must contain {{prompt}}")
    rule = pack.form
    if rule.counter is not None and rule.counter not in COUNTERS:
        problems.append(
            f"{PACK_FILE}: form.counter {rule.counter!r} is unknown (known: {', '.join(sorted(COUNTERS))})"
        )
    if rule.pattern is not None:
        if rule.counter is None:
            problems.append(f"{PACK_FILE}: form.pattern needs form.counter")
        if rule.lines is not None and rule.lines != len(rule.pattern):
            problems.append(
                f"{PACK_FILE}: form.lines is {rule.lines} but form.pattern has {len(rule.pattern)}"
            )
    real_prompts = [p for p in pack.prompts if TODO not in p]
    if len(real_prompts) < MIN_PROMPTS:
        problems.append(
            f"{PROMPTS_FILE}: {len(real_prompts)} prompts, write at least {MIN_PROMPTS} (one per line)"
        )
    if len(set(real_prompts)) != len(real_prompts):
        problems.append(f"{PROMPTS_FILE}: some prompts are repeated")
    real_examples = [e for e in pack.examples if TODO not in e]
    if len(real_examples) < MIN_EXAMPLES:
        problems.append(
            f"{EXAMPLES_FILE}: {len(real_examples)} examples, write at least {MIN_EXAMPLES} "
            "(separated by blank lines) that follow the form rule"
        )
    return problems
