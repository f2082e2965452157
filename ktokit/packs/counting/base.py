"""What every counter shares: the `Count` result and word-by-word counting for spaced scripts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Letters (any script), digits and inner apostrophes/hyphens stay in a word; everything else splits.
WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*", re.UNICODE)


@dataclass(frozen=True)
class Count:
    """`count` is the preferred reading; `alternatives` are the other valid totals, sorted."""

    count: int
    alternatives: tuple[int, ...] = field(default=())

    @property
    def valid(self) -> tuple[int, ...]:
        return tuple(sorted({self.count, *self.alternatives}))

    def to_dict(self) -> dict:
        return {"count": self.count, "alternatives": list(self.alternatives)}


class Counter:
    """A language's counter. Subclasses set `name`/`unit` and implement `count`."""

    name: str = ""
    unit: str = "syllables"

    def count(self, text: str) -> Count:
        raise NotImplementedError


class WordCounter(Counter):
    """For languages written with spaces: a line's counts are the sums of its words' counts.

    Subclasses implement `word_counts(word)` -> valid counts of one lower-cased word, preferred first.
    """

    max_alternatives = 6  # a long line of ambiguous words would otherwise list every sum

    def words(self, text: str) -> list[str]:
        return [w.lower() for w in WORD_RE.findall(text)]

    def word_counts(self, word: str) -> list[int]:
        raise NotImplementedError

    def count(self, text: str) -> Count:
        preferred = 0
        totals = {0}
        for word in self.words(text):
            counts = self.word_counts(word) or [0]
            preferred += counts[0]
            totals = {t + c for t in totals for c in set(counts)}
        others = sorted(totals - {preferred}, key=lambda t: (abs(t - preferred), t))
        return Count(preferred, tuple(sorted(others[: self.max_alternatives])))
