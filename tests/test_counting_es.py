"""Spanish counter: the cases hyphenation gets wrong, line totals with synalepha, and the es pack."""

import pytest

from ktokit.packs.counting import get_counter


@pytest.fixture(scope="module")
def counter():
    return get_counter("es")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("poesía", 4),  # hiatus: po-e-sí-a (pyphen says 2)
        ("día", 2),
        ("aéreo", 4),  # strong + strong: a-é-re-o
        ("poeta", 3),
        ("leer", 2),
        ("héroe", 3),
        ("maíz", 2),  # accented í breaks the diphthong
        ("baúl", 2),
        ("continúa", 4),
        ("ciudad", 2),  # diphthongs
        ("cielo", 2),
        ("aire", 2),
        ("estudiáis", 3),  # triphthong
        ("buey", 1),  # triphthong with final y
        ("hoy", 1),  # final y is a vowel
        ("muy", 1),
        ("y", 1),
        ("ayer", 2),  # y before a vowel is a consonant
        ("queso", 2),  # silent u
        ("guitarra", 3),
        ("pingüino", 3),  # ü is heard
        ("vergüenza", 3),
        ("chiita", 3),  # two equal weak vowels never merge
        ("tiíta", 3),
        ("lingüística", 4),  # an accent on the second weak vowel marks stress, not hiatus
        ("veintiún", 2),
        ("búho", 2),
        ("zanahoria", 4),
        ("murciélago", 4),
        ("montaña", 3),
        ("primavera", 4),
        ("sol", 1),
        ("rascacielos", 4),
    ],
)
def test_word_preferred(counter, word, expected):
    assert counter.count(word).count == expected


@pytest.mark.parametrize(
    ("word", "valid"),
    [("cruel", (1, 2)), ("piano", (2, 3)), ("ahumado", (3, 4)), ("prohibir", (2, 3)), ("casa", (2,))],
)
def test_word_alternatives(counter, word, valid):
    assert counter.count(word).valid == valid


def test_line_prefers_grammatical_count_and_offers_synalepha(counter):
    result = counter.count("La luna sobre el agua")
    assert result.count == 8  # la lu-na so-bre el a-gua
    assert result.valid == (7, 8)  # so-bre_el


def test_line_synalepha_over_silent_h_and_y(counter):
    result = counter.count("Mi abuela teje y canta")
    assert result.count == 9
    assert result.valid == (7, 8, 9)  # mi_a-bue-la, te-je_y


def test_line_without_vowel_junction_has_no_alternative(counter):
    assert counter.count("Los niños juegan en la plaza").valid == (9,)


def test_empty_line(counter):
    assert counter.count("¡¿...?!").count == 0
