"""Spanish syllables from the spelling, which is close to the sound.

Hyphenation dictionaries split for the printer, not the ear: pyphen gives "poe-sía" (2) for
po-e-sí-a (4). Spanish spelling marks almost everything a counter needs: two strong vowels
(a, e, o) never share a syllable, an accent on í/ú breaks a diphthong, the u of que/qui/gue/gui is
silent and ü is not. A word's count is its grammatical syllables; synalepha (sinalefa), the merging
of a word-final vowel with the next word's first vowel ("la_alba"), is a poet's choice, so a line
offers the merged totals as alternatives and never prefers them.
"""

from __future__ import annotations

import re

from ktokit.packs.counting.base import Count, WordCounter

STRONG = set("aeoáéóàèò")
ALONE = set("íú")  # an accented í/ú is its own syllable: it joins neither neighbour (tí-o, ti-í-ta)
WEAK = set("iuüy")
VOWELS = STRONG | WEAK | ALONE

# Words whose weak+strong pair is commonly said as two syllables (hiatus) though spelt as one.
HIATUS_WORDS = {
    "cruel",
    "crueles",
    "guion",
    "guiones",
    "truhan",
    "piano",
    "pianos",
    "pianista",
    "diario",
    "diarios",
    "riel",
    "rieles",
    "dueto",
    "dual",
    "cliente",
    "clientes",
    "criatura",
    "criaturas",
    "triunfo",
    "reunir",
    "reunión",
    "reuniones",
    "reunido",
    "reunida",
    "maullar",
    "aullar",
    "aullido",
    "aullidos",
    "viaje",
    "viajes",
    "viajar",
    "suave",
    "suaves",
    "suavemente",
    "fiel",
    "fieles",
    "ruido",
    "ruidos",
    "ruin",
    "fluir",
    "huir",
    "incluir",
    "construir",
    "destruir",
    "jesuita",
    "biología",
    "biografía",
    "reutilizar",
    "reusar",
    "triunfal",
}

SILENT_U_RE = re.compile(r"(?<=[qg])u(?=[eiéí])")
Y_VOWEL_RE = re.compile(r"y(?![aeiouáéíóú])")  # y not followed by a vowel is a vowel (hoy, muy, y)


def _types(run: str) -> str:
    return "".join("S" if ch in STRONG else "A" if ch in ALONE else "W" for ch in run)


def _base(ch: str) -> str:
    return {"í": "i", "ú": "u", "ü": "u"}.get(ch, ch)


def _nuclei(run: str) -> int:
    """Syllable nuclei in one vowel run: S S split; W S, S W, W S W and W W each make one; A alone."""
    types = _types(run)
    count, i, n = 0, 0, len(types)
    while i < n:
        count += 1
        if types[i] == "A":
            i += 1
            continue
        if types[i] == "W":
            if i + 1 < n and types[i + 1] == "A" and _base(run[i]) != _base(run[i + 1]):
                i += 2  # uí, iú: the accent marks the stress of a diphthong (lin-güís-ti-ca, vein-tiún)
                continue
            if (
                i + 1 < n
                and types[i + 1] == "W"
                and run[i] != run[i + 1]
                and not (i + 2 < n and types[i + 2] == "S")
            ):
                i += 2  # iu, ui: a falling or rising diphthong of two weak vowels
                continue
            if i + 1 < n and types[i + 1] == "S":
                i += 1  # rising diphthong: the strong vowel below may close it with a weak one
            else:
                i += 1
                continue
        # here types[i] == "S": a following weak vowel joins unless the next strong vowel claims it
        i += 1
        if i < n and types[i] == "W" and not (i + 1 < n and types[i + 1] == "S"):
            i += 1
    return count


def spanish_word_counts(word: str) -> list[int]:
    """Valid syllable counts of one lower-cased word, the grammatical one first."""
    w = SILENT_U_RE.sub("", word.lower().replace("'", "").replace("’", ""))
    if not w:
        return [0]
    if "-" in w:  # compounds such as "franco-alemán" count part by part
        parts = [spanish_word_counts(p) for p in w.split("-") if p]
        return [sum(p[0] for p in parts)] if parts else [0]
    w = Y_VOWEL_RE.sub("i", w) if w != "y" else "i"
    alt = 0
    # Vowel runs; a silent h between vowels does not stop a diphthong (prohi-bir, ahu-ma-do), but
    # many speakers split there, so that reading is an alternative.
    total = 0
    for run in re.findall(r"[aeiouáéíóúàèòü](?:h?[aeiouáéíóúàèòü])*", w):
        if "h" in run:
            joined = _nuclei(run.replace("h", ""))
            split = sum(_nuclei(p) for p in run.split("h"))
            total += joined
            alt += split - joined
        else:
            total += _nuclei(run)
    if total == 0:  # no vowel: an interjection such as "shh" is one beat; digits are not counted
        return [1] if w.isalpha() else [0]
    counts = [total]
    if alt:
        counts.append(total + alt)
    elif word in HIATUS_WORDS:
        counts.append(total + 1)
    return counts


class SpanishCounter(WordCounter):
    """Grammatical syllables per word; a line's synalepha-merged totals are its alternatives."""

    name = "es"

    word_counts = staticmethod(spanish_word_counts)

    def count(self, text: str) -> Count:
        words = self.words(text)
        preferred, totals = self.totals(words)
        # Each junction of a vowel-final word and a vowel-initial one may merge into one syllable.
        merges = sum(1 for a, b in zip(words, words[1:], strict=False) if _ends_vowel(a) and _starts_vowel(b))
        return self.nearest(preferred, {t - m for t in totals for m in range(merges + 1)})


def _ends_vowel(word: str) -> bool:
    return word[-1:] in VOWELS or word in {"y"}


def _starts_vowel(word: str) -> bool:
    w = word[1:] if word.startswith("h") else word  # h is silent: "la hoja" may merge
    return w[:1] in VOWELS - {"y"} or word == "y"
