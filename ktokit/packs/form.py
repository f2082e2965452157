"""Form check: does a response have the shape the pack's form rule asks for?

The verdict is strict (every line on its count); the score in [0, 1] is graded so it can serve as an
Argilla suggestion score and as an evaluation metric: one syllable off costs little, a missing line a lot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ktokit.packs.cleaning import clean_response
from ktokit.packs.counting import get_counter
from ktokit.packs.languages import FormRule, LanguagePack, pack_problems

PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "n/a"


@dataclass
class LineCheck:
    text: str
    count: int | None = None
    alternatives: list[int] = field(default_factory=list)
    expected: int | None = None
    ok: bool | None = None


@dataclass
class FormCheck:
    raw: str
    cleaned: str
    lines: list[LineCheck]
    verdict: str
    score: float
    unit: str = ""
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict == PASS

    def to_dict(self) -> dict:
        return asdict(self)

    def report_lines(self, rule: str) -> list[str]:
        """What `python -m ktokit check` prints: each line with its count, then the verdict under `rule`."""
        raw_lines = [line for line in self.raw.splitlines() if line.strip()]
        lines = []
        if self.cleaned != self.raw.strip():
            lines.append(f"cleaned: {len(raw_lines)} raw lines -> {len(self.lines)} lines")
        unit = self.unit or "units"
        for i, line in enumerate(self.lines, 1):
            alt = f" (or {', '.join(map(str, line.alternatives))})" if line.alternatives else ""
            want = f" / {line.expected}" if line.expected is not None else ""
            mark = {True: "ok", False: "x", None: ""}[line.ok]
            count = "-" if line.count is None else str(line.count)
            lines.append(f"{i}. {line.text}  [{count}{alt}{want} {unit}] {mark}".rstrip())
        reason = f" ({self.reason})" if self.reason else ""
        lines.append(f"verdict: {self.verdict}{reason}  score: {self.score:.2f}  rule: {rule}")
        return lines


def _line_score(valid: tuple[int, ...], expected: int) -> float:
    off = min(abs(v - expected) for v in valid)
    return max(0.0, 1.0 - off / max(expected, 1))


def check_form(raw: str | None, rule: FormRule, *, clean: bool = True) -> FormCheck:
    """Clean `raw` (unless `clean=False`), count each line and compare with `rule`."""
    raw = raw or ""
    cleaned = clean_response(raw, rule.lines) if clean else raw.strip()
    texts = [line.strip() for line in cleaned.split("\n") if line.strip()]
    if not texts:
        return FormCheck(raw, cleaned, [], FAIL, 0.0, reason="empty response")
    counter = get_counter(rule.counter) if rule.counter else None
    expected = rule.pattern or []
    lines = []
    for i, text in enumerate(texts):
        line = LineCheck(text, expected=expected[i] if i < len(expected) else None)
        if counter is not None:
            c = counter.count(text)
            line.count, line.alternatives = c.count, list(c.alternatives)
            if line.expected is not None:
                line.ok = line.expected in c.valid
        lines.append(line)
    unit = counter.unit if counter else ""

    if not rule.lines and not rule.pattern:
        return FormCheck(raw, cleaned, lines, NOT_APPLICABLE, 1.0, unit)
    want = rule.lines or len(expected)
    if not expected:  # a line count only
        ok = len(texts) == want
        score = max(0.0, 1.0 - abs(len(texts) - want) / want)
        reason = "" if ok else f"{len(texts)} lines, expected {want}"
        return FormCheck(raw, cleaned, lines, PASS if ok else FAIL, round(score, 4), unit, reason)

    per_line = [
        _line_score((line.count, *line.alternatives), line.expected)
        for line in lines
        if line.expected is not None and line.count is not None
    ]
    score = sum(per_line) / max(len(texts), want)
    problems = []
    if len(texts) != want:
        problems.append(f"{len(texts)} lines, expected {want}")
    problems += [
        f"line {i + 1}: {line.count} {unit}, expected {line.expected}"
        for i, line in enumerate(lines)
        if line.ok is False
    ]
    verdict = FAIL if problems else PASS
    return FormCheck(raw, cleaned, lines, verdict, round(score, 4), unit, "; ".join(problems))


def check_examples(pack: LanguagePack) -> list[FormCheck]:
    """The form check of each of a pack's examples, as written (they are clean by definition)."""
    return [check_form(example, pack.form, clean=False) for example in pack.examples]


def validation_problems(pack: LanguagePack) -> list[str]:
    """What `validate` reports: the pack's fields and counts, then each example that breaks the form rule."""
    return pack_problems(pack) + [
        f"examples.txt: example {i} breaks the form rule ({result.reason})"
        for i, result in enumerate(check_examples(pack), 1)
        if result.verdict == FAIL
    ]
