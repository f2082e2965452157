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

    def totals(self, words: list[str]) -> tuple[int, set[int]]:
        """The sum of the words' preferred counts, and every sum their valid counts can make."""
        preferred, totals = 0, {0}
        for word in words:
            counts = self.word_counts(word) or [0]
            preferred += counts[0]
            totals = {t + c for t in totals for c in set(counts)}
        return preferred, totals

    def nearest(self, preferred: int, totals: set[int]) -> Count:
        """The preferred count, with the other totals nearest to it as alternatives."""
        others = sorted(totals - {preferred}, key=lambda t: (abs(t - preferred), t))
        return Count(preferred, tuple(sorted(others[: self.max_alternatives])))

    def count(self, text: str) -> Count:
        return self.nearest(*self.totals(self.words(text)))


def vowel_nuclei(word: str, nucleus_re: re.Pattern, vowels: str) -> int:
    """Vowel nuclei of a lower-case word in a Germanic spelling: qu's u is a consonant, so is a y before a
    vowel at the start."""
    word = word.replace("qu", "kw")
    if word.startswith("y") and len(word) > 1 and word[1] in vowels:
        word = "j" + word[1:]
    return len(nucleus_re.findall(word))
