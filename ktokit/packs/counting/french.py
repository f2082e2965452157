"""French syllables: vowel sounds from the spelling, with the mute e (e muet) handled both ways.

Hyphenation dictionaries split for the printer: pyphen gives "lu-ne" (2) and "pa-pillon" (2) and
leaves "chantent" whole. French spells one vowel sound with several letters (eau, oi, ou, ai, eu,
œu), turns i/u/ou before a vowel into a glide (nuit, lion, jouer), and writes letters it does not
say: the final e, es and the -ent of verbs are silent in speech but counted in classic verse before
a consonant ("la lu-ne brille"). The preferred count is the spoken one; the verse count and the
diaeresis readings (li-on, na-ti-on) are alternatives, at word and at line level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ktokit.packs.counting.base import Count, WordCounter

VOWEL_CHARS = "aeiouyàâäéèêëîïôöùûüœæ"
VOWELS = set(VOWEL_CHARS)
# Letter groups that spell one vowel sound, longest first.
UNITS = (
    "oeu",
    "œu",
    "eau",
    "aî",
    "ai",
    "ei",
    "eî",
    "eu",
    "eû",
    "au",
    "oi",
    "oî",
    "ou",
    "oû",
    "où",
    "œ",
    "æ",
    "ee",
)
UNIT_RE = re.compile("|".join(UNITS) + f"|[{VOWEL_CHARS}]")
GLIDES = {"i", "ï", "u", "ou", "où", "oû"}  # before another vowel they become [j], [ɥ], [w]
# A diaeresis (li-on, na-ti-on, ou-er) is a common reading when the glide meets one of these.
DIAERESIS_NEXT = {"a", "â", "o", "ô", "au", "é", "è", "ê", "ai", "eau"}
GLIDE_E_END = re.compile(r"(r|z|t|rs|ts)?$")  # jou-er, fou-et, mu-et; not ouest, accueil
CLUSTER_RE = re.compile(r"[bcdfgkptv][lr]$")  # after "cr", "bl"... i/u/ou stay a vowel: cri-er, cru-el


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Whole words the rules get wrong.
EXCEPTIONS: dict[str, int] = {
    "pays": 2,
    "paysan": 3,
    "paysans": 3,
    "paysanne": 3,
    "paysage": 3,
    "paysages": 3,
    "abbaye": 3,
    "paon": 1,
    "paons": 1,
    "faon": 1,
    "faons": 1,
    "taon": 1,
    "taons": 1,
    "août": 1,
    "saoul": 1,
    "aïe": 1,
    "asseoir": 2,
    "rasseoir": 2,
    "jean": 1,
    "jeans": 1,
    "aiguille": 2,
    "aiguilles": 2,
    "aiguiser": 3,
    "linguiste": 3,
    "linguistique": 4,
    "ambiguïté": 5,
    "zoo": 1,
    "zoos": 1,
    "alcool": 2,
    "alcools": 2,
    "football": 2,
    "foot": 1,
    "cool": 1,
    "shampooing": 2,
    "paella": 3,
}

# Words ending in -ent that say it ([ɑ̃]); other -ent endings are taken for verbs (ils chantent).
ENT_WORDS = _wordset("""
absent accent accident adjacent adolescent agent ambivalent antécédent apparent ardent argent arpent
auvent cent client coefficient cohérent compétent concurrent conscient content continent couvent
décadent décent dément dent différent diligent dissident divergent efficient éloquent éminent
émergent entregent équivalent évent évident excellent expédient fervent fluorescent fréquent gent
impatient imminent impertinent imprudent incandescent incident inconscient inconvénient indécent
indifférent indigent indulgent ingrédient innocent insolent intelligent latent lent luminescent
malcontent mécontent négligent occident omnipotent onguent opulent orient paravent parent patent
patient pénitent permanent pertinent polyvalent précédent présent président prévalent proéminent
prudent quotient récent récipient régent relent résident réticent sergent serpent somnolent souvent
strident subséquent succulent talent torrent transparent trident truculent turbulent urgent vent
violent virulent accidents ment sent
""")
# -ment words are nouns and adverbs (moment, doucement) except these verb forms (ils aiment).
MENT_VERBS = _wordset("""
aiment sèment parsèment dorment endorment ferment enferment renferment referment germent calment
fument parfument allument rallument consument assument présument résument hument écument chôment
nomment somment assomment consomment gomment blâment clament réclament proclament acclament
déclament enflamment affament trament rament brament entament rythment liment miment triment
briment estiment abîment déciment arriment essaiment animent raniment impriment suppriment
expriment dépriment compriment oppriment répriment désarment alarment charment arment filment
affirment infirment confirment forment conforment informent réforment transforment déforment
embaument priment riment frément
""")
# Words starting with an aspirated h: no elision before them (la / haie), so a mute e counts.
H_ASPIRE = _wordset("""
hache haie haies haine haïr hall halte hameau hameaux hamac hanche handicap hangar hanter happer
harceler hardi hareng haricot harpe hasard hâte haut haute hauts hautes hauteur hérisson héron
héros hêtre hibou hiboux hisser hochet homard honte hors houle houx hublot huche huer huit hurler
hutte hamster hockey
""")
ELIDING = set("aeiouyàâéèêîôûœh")


@dataclass(frozen=True)
class FrenchWord:
    """Spoken syllables, mute e's that verse may count, and optional diaereses of one word."""

    spoken: int
    verse_inner: int = 0  # mute e's inside a compound (porte-monnaie) that verse counts
    final_mute: str = ""  # "e", "es" or "ent": a final mute e after a consonant (lune, lunes, chantent)
    diaereses: int = 0

    def counts(self) -> list[int]:
        verse = self.spoken + self.verse_inner + (1 if self.final_mute else 0)
        out = [self.spoken]
        for base in (self.spoken, verse):
            for d in range(self.diaereses + 1):
                if base + d not in out:
                    out.append(base + d)
        return out


def _ent_is_verb(word: str) -> bool:
    if word in ENT_WORDS or len(word) <= 4:
        return False
    if word.endswith(("aient", "oient")):
        return True
    if word.endswith("ment"):
        return word in MENT_VERBS
    return not re.search(r"[vt]ient$", word)  # vient, tient, obtient say [jɛ̃]


def _vowel_runs(w: str) -> list[tuple[str, str, str]]:
    """(run, letters before, letters after) for each maximal run of vowel letters."""
    return [(m.group(), w[: m.start()], w[m.end() :]) for m in re.finditer(f"[{VOWEL_CHARS}]+", w)]


def _nuclei(w: str) -> tuple[int, int]:
    """Spoken nuclei of a word whose final mute e is already removed, and its optional diaereses."""
    total = diaereses = 0
    for run, before, after in _vowel_runs(w):
        if len(run) > 1 and run.endswith("i") and after.startswith("l"):
            run = run[:-1]  # the i of ail, eil, euil, ouil, ueil is the consonant [j]
        units = UNIT_RE.findall(run)
        i = 0
        while i < len(units):
            unit = units[i]
            nxt = units[i + 1] if i + 1 < len(units) else None
            prev = units[i - 1] if i else None
            if (
                unit == "e"
                and prev is not None
                and prev not in GLIDES | {"é", "è", "ê"}
                and nxt is None
                and after
                and not GLIDE_E_END.match(after)
            ):
                i += (
                    1  # gaiement, paiement: an e after a vowel and before a consonant is silent (not bleu-et)
                )
                continue
            total += 1
            if nxt is not None and unit in GLIDES and nxt not in {"ï", "ë", "ü"}:  # ou-ïe: ï is its own vowel
                cluster = i == 0 and CLUSTER_RE.search(before)
                if not cluster or (unit == "u" and nxt in {"i", "î"}):
                    if nxt in DIAERESIS_NEXT or (
                        unit not in {"i", "ï"}
                        and nxt == "e"
                        and i + 2 == len(units)
                        and GLIDE_E_END.match(after)
                    ):
                        diaereses += 1
                    i += 2  # the glide and the next vowel make one syllable: nuit, lion, pied
                    continue
            i += 1
    return total, diaereses


def _part(word: str) -> FrenchWord:
    """One apostrophe- and hyphen-free piece of a word."""
    if word in EXCEPTIONS:
        return FrenchWord(EXCEPTIONS[word])
    w = word
    w = re.sub(r"guë", "gu", w)  # aiguë: the ë says the u is heard, and is itself silent
    w = re.sub(r"(?<=q)u(?=[" + VOWEL_CHARS + "])", "", w)  # qu: quand, quoi
    w = re.sub(r"(?<=g)u(?=[eiyéèêî])", "", w)  # gu: guerre, guide
    w = re.sub(r"(?<=g)e(?=[aoâôu])", "", w)  # ge: mangeait, pigeon
    w = re.sub(r"^y(?=[" + VOWEL_CHARS + "])", "j", w)  # yeux
    w = re.sub(r"(?<=[" + VOWEL_CHARS + "])y(?=[" + VOWEL_CHARS + "])", "ij", w)  # voyage: voi-yage
    w = w.replace("y", "i")
    final_mute = ""
    stem = w
    if stem.endswith("ent") and _ent_is_verb(word):
        stem, final_mute = stem[:-2], "ent"
    elif stem.endswith("es"):
        stem, final_mute = stem[:-1], "es"
    elif stem.endswith("e"):
        final_mute = "e"
    if final_mute and stem.endswith("e") and re.search(f"[{VOWEL_CHARS}]", stem[:-1]):
        after_vowel = stem[-2] in VOWELS
        stem = stem[:-1]
        if after_vowel:  # vie, année, jouent: silent in verse too
            final_mute = ""
    else:
        final_mute = ""
    spoken, diaereses = _nuclei(stem)
    if spoken == 0:
        return FrenchWord(0)
    return FrenchWord(spoken, 0, final_mute, diaereses)


def analyse_word(word: str) -> FrenchWord:
    """Counts of one lower-cased word, pieces after apostrophes and hyphens counted one by one."""
    pieces = [p for p in re.split(r"['’]", word.lower()) if p]
    # An elided piece has no vowel of its own: l', j', qu' (its u is silent), jusqu', lorsqu'.
    pieces = [p[:-1] if p.endswith("qu") and k < len(pieces) - 1 else p for k, p in enumerate(pieces)]
    parts: list[tuple[str, FrenchWord]] = []
    for piece in pieces:
        parts.extend((p, _part(p)) for p in piece.split("-") if p)
    if not parts:
        return FrenchWord(0)
    spoken = sum(p.spoken for _, p in parts)
    inner = sum(p.verse_inner for _, p in parts)
    for (_, part), (nxt, _) in zip(parts, parts[1:], strict=False):
        if part.final_mute and (part.final_mute != "e" or nxt[:1] not in ELIDING):
            inner += 1  # porte-monnaie: por-te-mon-naie in verse
    last = parts[-1][1]
    return FrenchWord(spoken, inner, last.final_mute, sum(p.diaereses for _, p in parts))


def french_word_counts(word: str) -> list[int]:
    """Valid counts of one word: spoken first, then the verse count and the diaeresis readings."""
    return analyse_word(word).counts()


class FrenchCounter(WordCounter):
    """Spoken syllables preferred; verse (e muet counted before a consonant) and diaereses as alternatives."""

    name = "fr"

    word_counts = staticmethod(french_word_counts)

    def count(self, text: str) -> Count:
        words = self.words(text)
        infos = [analyse_word(w) for w in words]
        spoken = sum(i.spoken for i in infos)
        verse = spoken + sum(i.verse_inner for i in infos)
        for k, info in enumerate(infos):
            if not info.final_mute or k == len(infos) - 1:
                continue  # at the end of a line the mute e is never counted
            nxt = words[k + 1]
            if info.final_mute != "e" or not _elides_before(nxt):
                verse += 1
        diaereses = sum(i.diaereses for i in infos)
        return self.nearest(spoken, {base + d for base in (spoken, verse) for d in range(diaereses + 1)})


def _elides_before(word: str) -> bool:
    """A final e is elided before a vowel or a mute h (une âme, une herbe), not before an aspirated h."""
    if word.startswith("h"):
        return re.split(r"['’-]", word)[0] not in H_ASPIRE
    return word[:1] in ELIDING
