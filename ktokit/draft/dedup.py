"""Exact and near duplicates among drafts, in any script: what the drafting commands keep only once.

Two texts are the same draft when they match after normalising (NFKC, so full-width and half-width
forms agree; case folded; punctuation, spaces and symbols removed), or when their character trigrams
overlap almost entirely (Dice coefficient >= NEAR = 0.9). Character n-grams need no word boundaries, so
Japanese counts like English (a Han character, which is a word, weighs three letters). The threshold
is well above the closest pair of distinct prompts in the six shipped packs (0.73: "Kun je een haiku
schrijven over de heide" / "... over dankbaarheid") and above one subject changed in a shared frame
("... sobre a chuva" / "... sobre a neve": 0.80; "雨の日の..." / "雪の日の...": 0.86), so those stay
apart, while a lost accent or a typo in a 30-character prompt (0.93) does not.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

NEAR = 0.9
N = 3


def normalise(text: str) -> str:
    """The text as compared: NFKC, case folded, letters and digits only."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _weighted(key: str) -> str:
    """A Han character carries a word's meaning (雨 rain, 雪 snow): it counts as three letters, so one
    changed kanji weighs like one changed short word rather than like one changed letter."""
    return "".join(ch * N if unicodedata.name(ch, "").startswith("CJK UNIFIED") else ch for ch in key)


def trigrams(text: str) -> frozenset[str]:
    key = _weighted(normalise(text))
    if len(key) <= N:
        return frozenset({key})
    return frozenset(key[i : i + N] for i in range(len(key) - N + 1))


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the two texts' character trigrams, in [0, 1]."""
    ga, gb = trigrams(a), trigrams(b)
    return 2 * len(ga & gb) / (len(ga) + len(gb)) if ga or gb else 1.0


class Seen:
    """Texts kept so far; `match` says which one a new text duplicates (exactly or nearly), if any."""

    def __init__(self, texts: Iterable[str] = (), threshold: float = NEAR) -> None:
        self.threshold = threshold
        self._exact: dict[str, str] = {}
        self._grams: list[tuple[frozenset[str], str]] = []
        for text in texts:
            self.add(text)

    def add(self, text: str) -> None:
        self._exact.setdefault(normalise(text), text)
        self._grams.append((trigrams(text), text))

    def match(self, text: str) -> str | None:
        if (hit := self._exact.get(normalise(text))) is not None:
            return hit
        grams = trigrams(text)
        for other, original in self._grams:
            if 2 * len(grams & other) / (len(grams) + len(other)) >= self.threshold:
                return original
        return None
