"""Benchmark: the kit's counters against pyphen on hand-checked gold lists.

    python benchmarks/syllables.py [--language CODE ...]

Prints word- and line-level exact accuracy per language (a count is right when it is among the gold
counts). pyphen counts hyphenation points + 1 per word; it has no Japanese, so ja is compared with one
unit per character. For English the out-of-dictionary heuristic is also run alone on CMUdict words held
out from anything it was fitted on. Targets: every language beats pyphen; English heuristic >= 90 %.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pyphen

from ktokit.packs.counting import get_counter
from ktokit.packs.counting.base import WORD_RE as _WORD_RE

GOLD = Path(__file__).parent / "gold"
PYPHEN_LANG = {"en": "en_US", "es": "es", "fr": "fr", "de": "de_DE", "nl": "nl_NL"}


def read_gold(path: Path) -> list[tuple[str, set[int]]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, _, counts = line.rpartition("\t")
        rows.append((text, {int(c) for c in counts.split(",") if c.strip()}))
    return rows


def baseline(code: str):
    """The comparison counter: pyphen hyphenation points + 1 per word, or characters for ja."""
    if code in PYPHEN_LANG:
        dic = pyphen.Pyphen(lang=PYPHEN_LANG[code])
        return "pyphen", lambda text: sum(len(dic.positions(w)) + 1 for w in _WORD_RE.findall(text.lower()))
    return "1/char", lambda text: sum(
        1 for ch in text if ch.isalnum() and ch not in "ゃゅょャュョぁぃぅぇぉァィゥェォ"
    )


def accuracy(rows, fn) -> float:
    return 100.0 * sum(fn(text) in gold for text, gold in rows) / max(len(rows), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", "-l", action="append", help="only these languages")
    args = parser.parse_args()
    codes = args.language or sorted({p.name.split("-")[0] for p in GOLD.glob("*-words.tsv")})
    print(f"{'lang':<5} {'level':<6} {'n':>5} {'kit %':>7} {'base %':>7}  baseline   kit ms/item")
    worse = []
    for code in codes:
        counter = get_counter(code)
        name, base = baseline(code)
        for level in ("words", "lines"):
            path = GOLD / f"{code}-{level}.tsv"
            if not path.exists():
                continue
            rows = read_gold(path)
            start = time.perf_counter()
            kit = accuracy(rows, lambda t, c=counter: c.count(t).count)
            ms = 1000 * (time.perf_counter() - start) / max(len(rows), 1)
            ref = accuracy(rows, base)
            worse += [f"{code} {level}"] if kit <= ref else []
            print(f"{code:<5} {level:<6} {len(rows):>5} {kit:>7.1f} {ref:>7.1f}  {name:<10} {ms:.2f}")
    if "en" in codes:
        from ktokit.packs.counting import english

        held = english.heldout_words()
        heur = 100.0 * sum(english.heuristic_syllables(w) in set(c) for w, c in held) / len(held)
        ref_fn = baseline("en")[1]
        ref = 100.0 * sum(ref_fn(w) in set(c) for w, c in held) / len(held)
        print(
            f"en heuristic alone on {len(held)} held-out CMUdict words: {heur:.1f} % exact "
            f"(pyphen {ref:.1f} %; target >= 90 %)"
        )
        worse += ["en heuristic < 90 %"] if heur < 90 else []
    print("targets met" if not worse else f"targets missed: {', '.join(worse)}")
    return 0 if not worse else 1


if __name__ == "__main__":
    sys.exit(main())
