"""Japanese mora counter: hand-checked readings, whole lines, numerals, and the ja pack's examples."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ktokit.packs.counting import get_counter
from ktokit.packs.counting.japanese import kana_morae, kanji_number

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "benchmarks" / "gold"


@pytest.fixture(scope="module")
def ja():
    return get_counter("ja")


@pytest.mark.parametrize(
    ("kana", "morae"),
    [
        ("きょう", 2),  # small ょ merges: kyo-u
        ("びょういん", 4),  # 病院: byo-u-i-n
        ("びよういん", 5),  # 美容院: bi-yo-u-i-n, the classic contrast
        ("がっこう", 4),  # small っ counts
        ("しんぶん", 4),  # ん counts
        ("コーヒー", 4),  # ー counts
        ("ファイル", 3),
        ("ウィンドウ", 4),
        ("ヴァイオリン", 5),
        ("トゥデイ", 3),
        ("ぁ", 1),  # a small kana with nothing before it still sounds
        ("あ、い。う！", 3),  # punctuation counts nothing
    ],
)
def test_kana_morae(kana, morae):
    assert kana_morae(kana) == morae


@pytest.mark.parametrize(
    ("word", "morae"),
    [
        ("東京", 4),
        ("北海道", 6),
        ("法隆寺", 5),
        ("美容院", 5),
        ("病院", 4),
        ("自転車", 4),
        ("切手", 3),
        ("お母さん", 5),
        ("向日葵", 4),
        ("紫陽花", 4),
        ("菜の花", 4),
        ("コンピューター", 6),
        ("スマートフォン", 6),
        ("ｶﾀｶﾅ", 4),  # half-width katakana
        ("露", 2),  # the kigo つゆ, not ロ (Russia) as the dictionary has it
        ("燕", 3),
        ("NHK", 7),  # えぬえいちけー
        ("AI", 4),
    ],
)
def test_word_morae(ja, word, morae):
    assert ja.count(word).count == morae


@pytest.mark.parametrize(
    ("word", "readings"),
    [("今日", {2, 4}), ("私", {3, 4}), ("明日", {3, 2})],  # きょう/こんにち, わたし/わたくし, あした/あす
)
def test_ambiguous_kanji_offer_both_readings(ja, word, readings):
    assert readings <= set(ja.count(word).valid)


@pytest.mark.parametrize(
    ("line", "morae"),
    [
        ("古池や", 5),
        ("蛙飛びこむ", 7),
        ("水の音", 5),
        ("柿食へば", 5),  # old spelling: 食へ is くえ
        ("鐘が鳴るなり", 7),
        ("菜の花や", 5),
        ("月は東に", 7),
        ("日は西に", 5),
        ("旅に病んで", 6),  # Bashō's own extra mora (字余り)
        ("てふてふ", 4),  # all kana: counted as written, whatever the old spelling means
        ("つひの栖か", 7),
        ("今日はとても暑いですね", 12),
        ("コーヒーを一杯ください", 13),
    ],
)
def test_line_morae(ja, line, morae):
    assert ja.count(line).count == morae


@pytest.mark.parametrize(
    ("text", "morae"),
    [
        ("4月", 3),
        ("四月", 3),
        ("9時", 2),
        ("2024年", 9),
        ("二〇二四年", 9),
        ("100円", 4),
        ("10000", 4),
    ],  # 一万 いちまん,
)
def test_numerals_are_read_as_numbers(ja, text, morae):
    assert ja.count(text).count == morae


def test_kanji_number():
    assert kanji_number("2024") == "二千二十四"
    assert kanji_number("1100") == "千百"
    assert kanji_number("10000") == "一万"
    assert kanji_number("0") == "〇"


def test_empty_and_punctuation_count_nothing(ja):
    assert ja.count("").count == 0
    assert ja.count("。、！？　「」").count == 0


def test_missing_fugashi_is_one_clear_kit_error(tmp_path):
    # `-S` starts Python without site-packages: fugashi is really absent, only the repo is on the path.
    code = (
        "from ktokit.packs.counting.japanese import JapaneseMoraCounter\n"
        "from ktokit.console import KitError\n"
        "try:\n    JapaneseMoraCounter().count('古池や')\n"
        "except KitError as e:\n    print('KitError:', e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert result.stdout.startswith("KitError:"), result.stderr
    assert "[ja]" in result.stdout and len(result.stdout.strip().splitlines()) == 1


def _accuracy(counter, name: str) -> tuple[float, float]:
    rows = [
        line.rstrip("\n").split("\t")
        for line in (GOLD / name).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    ok = per_char = 0
    for text, counts in rows:
        gold = {int(c) for c in counts.split(",")}
        ok += counter.count(text).count in gold
        per_char += sum(ch.isalnum() for ch in text) in gold
    return ok / len(rows), per_char / len(rows)


@pytest.mark.parametrize(("name", "floor"), [("ja-words.tsv", 0.95), ("ja-lines.tsv", 0.9)])
def test_beats_one_unit_per_character_on_gold(ja, name, floor):
    accuracy, baseline = _accuracy(ja, name)
    assert accuracy >= floor and accuracy > baseline
