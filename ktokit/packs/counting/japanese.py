"""Japanese: haiku count morae (on, 音), not syllables, read from kana.

Kanji have no fixed reading, so a line is tagged as a whole with fugashi + unidic-lite (MeCab and
its dictionary, both offline) and each token's kana reading is counted: one mora per kana, a small
ゃゅょぁぃぅぇぉゎ merges with the kana before it, and っ, ん and the long mark ー count one each.
Kana the author wrote are counted as written: the dictionary may pick another word for them.
Readings can be ambiguous (今日 きょう/こんにち, 私 わたし/わたくし), so the next-best parses give
the alternatives. Arabic numerals become kanji numerals first, so that 4月 reads しがつ, not 4 + つき.
"""

from __future__ import annotations

import re
import unicodedata

from ktokit.console import KitError
from ktokit.packs.counting.base import Count, Counter

# Small kana that glide into the kana before them (きゃ, ファ, ウィ, クヮ): no mora of their own.
SMALL_KANA = frozenset("ゃゅょぁぃぅぇぉゎャュョァィゥェォヮ")
# Hiragana and katakana letters, the long mark ー and the iteration marks ゝゞヽヾ: one mora each.
KANA_RE = re.compile(r"[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe]")
ALL_KANA_RE = re.compile(r"^[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe]+$")
DIGITS_RE = re.compile(r"[0-9]+")
ZERO_DIGITS_RE = re.compile(r"[〇一二三四五六七八九]*〇[〇一二三四五六七八九]*")  # 二〇二四: digit by digit
LATIN_RE = re.compile(r"^[A-Za-z]+$")

_KANJI_DIGITS = "〇一二三四五六七八九"
_PLACES = ("", "十", "百", "千")
_GROUPS = ("", "万", "億", "兆")
# How a letter of an acronym is said in Japanese (NHK えぬえいちけー, DNA でぃーえぬえー), in morae.
LETTER_MORAE = {
    **dict.fromkeys("ABCDEFGIJKLMNOPQSTUVY", 2),
    "H": 3,
    "R": 3,
    "Z": 3,
    "W": 4,
    "X": 4,
}
# Before these counters 4 and 9 take their short readings (しがつ, よじ, よにん, くじ); the dictionary
# reads the numeral alone and would say よん/きゅう.
SHORT_NUMERALS = {
    ("四", "月"): "シ",
    ("四", "時"): "ヨ",
    ("四", "人"): "ヨ",
    ("四", "年"): "ヨ",
    ("四", "円"): "ヨ",
    ("九", "月"): "ク",
    ("九", "時"): "ク",
}
# Season words (kigo) that unidic, a dictionary of modern prose, reads as another word: 露 is ロ
# (Russia) there, 燕 エン. A haiku means the kigo; the dictionary's reading stays an alternative.
KIGO_READINGS = {
    "露": "ツユ",
    "燕": "ツバメ",
    "蝸牛": "カタツムリ",
    "天河": "アマノガワ",
    "東風": "コチ",
    "芒": "ススキ",
    "短夜": "ミジカヨ",
    "氷柱": "ツララ",
    "蜻蛉": "トンボ",
}
NBEST = 3  # the best parse plus two more: enough for 今日/私/一日, few enough to stay plausible


def kana_morae(kana: str) -> int:
    """Morae in a kana string; anything that is not kana counts nothing."""
    morae = 0
    previous_kana = False
    for char in kana:
        if not KANA_RE.match(char):
            previous_kana = False
            continue
        if char not in SMALL_KANA or not previous_kana:
            morae += 1
        previous_kana = True
    return morae


def kanji_number(digits: str) -> str:
    """`2024` -> `二千二十四`, the way the number is read, so the dictionary gives its reading."""
    n = int(digits)
    if n == 0 or len(digits.lstrip("0")) > 16:
        return "".join(_KANJI_DIGITS[int(d)] for d in digits)  # 0, or read digit by digit
    parts = []
    for group_index in range(len(_GROUPS) - 1, -1, -1):
        group = n // 10 ** (4 * group_index) % 10_000
        if not group:
            continue
        text = ""
        for place in range(3, -1, -1):
            d = group // 10**place % 10
            if d:
                # 十, 百 and 千 stand alone for one (not 一十); 一万 keeps its 一.
                text += ("" if d == 1 and place else _KANJI_DIGITS[d]) + _PLACES[place]
        parts.append(text + _GROUPS[group_index])
    return "".join(parts)


def _load_tagger():
    try:
        import fugashi
    except ImportError:
        raise KitError(
            "the Japanese counter needs fugashi and unidic-lite: "
            "run `pip install -e '.[ja]'` (the `ja` extra)"
        ) from None
    try:
        return fugashi.Tagger()
    except RuntimeError as exc:
        raise KitError(
            f"fugashi found no dictionary ({exc}); install unidic-lite with `pip install -e '.[ja]'`"
        ) from None


class JapaneseMoraCounter(Counter):
    """Morae of a whole line, from fugashi + unidic-lite readings; other parses give alternatives."""

    name = "ja"
    unit = "morae"
    max_alternatives = 4

    def __init__(self) -> None:
        self._tagger = None  # built on the first count: importing this module stays cheap

    @property
    def tagger(self):
        if self._tagger is None:
            self._tagger = _load_tagger()
        return self._tagger

    def token_morae(self, node, next_surface: str = "") -> tuple[int, ...]:
        """Valid mora counts of one token, preferred first."""
        surface = node.surface
        if short := SHORT_NUMERALS.get((surface, next_surface)):
            return (kana_morae(short),)
        if ALL_KANA_RE.match(surface):
            return (kana_morae(surface),)  # written kana beat the dictionary's guess
        feature = node.feature
        kana = getattr(feature, "kana", None)
        if not node.is_unk and kana not in (None, "*"):
            counts = [kana_morae(KIGO_READINGS.get(surface, kana)), kana_morae(kana)]
            pron = getattr(feature, "pron", None)
            if pron not in (None, "*", ""):
                counts.append(kana_morae(pron))  # 言う いう/ゆう: the spoken form
            return tuple(dict.fromkeys(counts))
        if LATIN_RE.match(surface) and surface.isupper() and len(surface) <= 6:
            return (sum(LETTER_MORAE[c] for c in surface),)  # an acronym is spelled out
        # Unknown word: count its characters, but not punctuation, symbols or spaces.
        return (sum(1 for c in surface if c.isalnum()),)

    def _parse_counts(self, nodes) -> tuple[int, set[int]]:
        preferred = 0
        totals = {0}
        for node, after in zip(nodes, [*nodes[1:], None]):
            counts = self.token_morae(node, after.surface if after is not None else "")
            preferred += counts[0]
            totals = {t + c for t in totals for c in counts}
        return preferred, totals

    def count(self, text: str) -> Count:
        text = unicodedata.normalize("NFKC", text).strip()
        text = ZERO_DIGITS_RE.sub(lambda m: "".join(str(_KANJI_DIGITS.index(c)) for c in m.group()), text)
        text = DIGITS_RE.sub(lambda m: kanji_number(m.group()), text)
        if not text:
            return Count(0)
        if ALL_KANA_RE.match(re.sub(r"[\s\W_]+", "", text) or "-"):
            return Count(kana_morae(text))  # all kana: what is written is what is said
        parses = self.tagger.nbestToNodeList(text, NBEST)
        preferred, totals = self._parse_counts(parses[0])
        for nodes in parses[1:]:
            if len(nodes) > len(parses[0]):
                continue  # a finer cut is mostly the dictionary splitting a word it lacks: 東京 -> 東 + 京
            best, others = self._parse_counts(nodes)
            totals |= {best, *others}
        others = sorted(totals - {preferred}, key=lambda t: (abs(t - preferred), t))
        return Count(preferred, tuple(sorted(others[: self.max_alternatives])))
