"""German syllables: one per vowel group, with the diphthongs, long vowels and loanwords spelled out.

German spelling is regular enough that counting vowel nuclei beats hyphenation patterns: pyphen
will not split short words (Idee, Abend, Ufer come out as one) and splits every -ion and -ie.
The few places where the spelling hides the sound are named here as small tables:
hiatus after a prefix (be|enden, ge|impft), -ie/-ien in loanwords (Fa-mi-li-e), -ion and -iell
with a glide that speakers may or may not say (Na-tion or Na-ti-on: both valid), and English or
French loanwords with a silent e (Software, Creme).
"""

from __future__ import annotations

import re

from ktokit.packs.counting.base import WordCounter, vowel_nuclei

VOWELS = "aeiouyäöüéèêàáâëïôóûú"

# Spellings of one vowel sound, longest first (greedy match inside a run of vowels).
NUCLEI = ("eau", "ieu", "aa", "ee", "oo", "ai", "au", "ei", "eu", "äu", "ie", "ay", "ey", "oy", "ou")
_NUCLEUS_RE = re.compile("|".join(NUCLEI) + f"|[{VOWELS}]")

# Words where the spelling's ei/ai/ee/... is two vowels, not one (hiatus). Matched as word starts.
HIATUS_PREFIXES = {
    "beeil": 2,
    "beend": 2,
    "beerb": 2,
    "beerdig": 3,
    "beeindr": 2,
    "beeinfl": 2,
    "beeint": 2,
    "beinhalt": 3,
    "beurteil": 3,
    "beurkund": 3,
    "beurlaub": 3,
    "geeign": 2,
    "geehrt": 2,
    "geebnet": 3,
    "geerbt": 2,
    "geeicht": 2,
    "geirrt": 2,
    "geimpft": 2,
    "koffein": 3,
    "protein": 3,
    "kokain": 3,
    "naiv": 2,
    "atheis": 3,
}

# Loanwords whose -ie is i-e (Fa-mi-li-e), found anywhere in a word (Familienfest, Fernsehserie).
# The i is often a glide (Fa-mi-lje), so one fewer is valid too.
LOAN_IE = (
    "familie",
    "linie",
    "lilie",
    "studie",
    "serie",
    "akazie",
    "aktie",
    "folie",
    "tragödie",
    "komödie",
    "begonie",
    "petersilie",
    "pinie",
    "kastanie",
    "geranie",
    "prämie",
    "glorie",
    "grazie",
    "hortensie",
    "materie",
    "mumie",
    "dahlie",
    "magnolie",
    "bestie",
    "furie",
    "historie",
    "arterie",
    "spezies",
    "zeremonie",
    "hostie",
    "orgie",
    "asien",
    "belgien",
)
_LOAN_IE_RE = re.compile("(?:" + "|".join(LOAN_IE) + r")(?!r)|^arien?$")  # not: studieren, Marie
# Final -ien is two vowels (Ferien, Melodien, knien) except in these words.
ONE_SYLLABLE_IEN = ("schien", "wien")

# Words whose spelling overcounts (silent e, English vowels), as whole words; the long ones also as
# compound tails (Bürosoftware).
LOANWORDS = {
    "software": 2,
    "hardware": 2,
    "smartphone": 2,
    "online": 2,
    "offline": 2,
    "hotline": 2,
    "deadline": 2,
    "skyline": 2,
    "homepage": 2,
    "homeoffice": 3,
    "office": 2,
    "service": 2,
    "team": 1,
    "teams": 1,
    "jeans": 1,
    "steak": 1,
    "steaks": 1,
    "coach": 1,
    "toast": 1,
    "date": 1,
    "update": 2,
    "skateboard": 2,
    "live": 1,
    "creme": 1,
    "croissant": 2,
    "croissants": 2,
    "baguette": 2,
    "portemonnaie": 3,
    "cake": 1,
    "cakes": 1,
    "fastfood": 2,
    "food": 1,
    "cool": 1,
    "goal": 1,
    "sale": 1,
    "file": 1,
    "feature": 2,
    "bike": 1,
    "beach": 1,
    "jazz": 1,
    "rave": 1,
    "timeline": 2,
    "airline": 2,
    "baseball": 2,
    "ahoi": 2,
    "pfui": 1,
}
# Hiatus that speakers often glide over (Pa-ti-ent / Pa-tjent, Ra-di-o / Ra-djo): both counts are valid.
_IE_HIATUS = re.compile(r"(?<!d)ie(?=nt(?:en|in|innen|s)?$|nz|ll(?:e[mnrs]?)?$)")  # not: dient, vielleicht
_TION = re.compile(r"[ts]ion")  # Na-tion: usually one syllable, Na-ti-on when sung or clapped
_I_GLIDE = re.compile(r"(?<=[^aeiouäöüy])i(?=[aouäöü])")


def _nuclei(word: str) -> int:
    return vowel_nuclei(word, _NUCLEUS_RE, VOWELS)


class GermanCounter(WordCounter):
    name = "de"

    def word_counts(self, word: str) -> list[int]:
        word = word.replace("'", "").replace("’", "")
        if "-" in word:  # E-Mail, Ost-West: count the parts
            parts = [self.word_counts(p) for p in word.split("-") if p]
            return [sum(p[0] for p in parts)] if parts else [0]
        if not word:
            return [0]
        if not any(c in VOWELS for c in word):
            return [1] if word.isalpha() else [0]  # hm, pst; digits and symbols are not read
        if word in LOANWORDS:
            return [LOANWORDS[word]]
        for loan, n in LOANWORDS.items():  # Bürosoftware; short ones only whole (Olive, Kandidate)
            if len(loan) >= 6 and word.endswith(loan):
                return [n + self.word_counts(word[: -len(loan)])[0]]
        count = _nuclei(word)
        for prefix, n in HIATUS_PREFIXES.items():
            if word.startswith(prefix):
                count += n - _nuclei(prefix)
                break
        alternatives = []
        if _LOAN_IE_RE.search(word) or (
            word.endswith("ien") and len(word) > 3 and not word.endswith(ONE_SYLLABLE_IEN)
        ):
            count += 1  # Fa-mi-li-e, Fe-ri-en, Me-lo-di-en
            alternatives.append(count - 1)
        elif _IE_HIATUS.search(word):
            count += 1
            alternatives.append(count - 1)
        if word.endswith(("eum", "äum", "een")) and len(word) > 3:  # Mu-se-um, I-de-en
            count += 1
            if word.endswith("een"):
                alternatives.append(count - 1)
        if "ieu" in word:  # Mi-lieu, In-ge-nieur (Duden splits the i off)
            alternatives.append(count + 1)
        if _TION.search(word):
            alternatives.append(count)
            count -= len(_TION.findall(word))
        elif _I_GLIDE.search(word):
            alternatives.append(count - 1)
        return [count, *[a for a in dict.fromkeys(alternatives) if a != count and a > 0]]
