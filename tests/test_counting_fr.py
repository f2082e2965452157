"""French counter: mute e, vowel groups, glides, diaeresis, line totals in speech and verse, and the
fr pack."""

import pytest

from ktokit.packs.counting import get_counter


@pytest.fixture(scope="module")
def counter():
    return get_counter("fr")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("papillon", 3),  # pyphen: pa-pillon
        ("lune", 1),  # final mute e
        ("lunes", 1),
        ("chantent", 1),  # verb -ent is silent
        ("moment", 2),  # noun -ent is not
        ("souvent", 2),
        ("vient", 1),
        ("étaient", 2),
        ("oiseau", 2),  # eau, oi
        ("beaucoup", 2),
        ("cœur", 1),
        ("feuille", 1),
        ("soleil", 2),
        ("nuit", 1),  # glides
        ("lion", 1),
        ("nation", 2),
        ("pied", 1),
        ("crier", 2),  # no glide after a consonant + r/l
        ("oublier", 3),
        ("cruel", 2),
        ("naïf", 2),  # diaeresis
        ("noël", 2),
        ("ouïe", 2),
        ("aiguë", 2),
        ("poésie", 3),
        ("théâtre", 2),
        ("voyage", 2),  # y between vowels
        ("pays", 2),
        ("yeux", 1),
        ("guerre", 1),  # silent u
        ("quand", 1),
        ("pigeon", 2),  # silent e after g
        ("vie", 1),  # e after a vowel
        ("année", 2),
        ("gaiement", 2),
        ("bleuet", 2),  # but -et after a vowel is heard
        ("le", 1),  # the only vowel is never mute
        ("les", 1),
        ("l'eau", 1),  # elision
        ("qu'il", 1),
        ("aujourd'hui", 3),
        ("arc-en-ciel", 3),
    ],
)
def test_word_spoken(counter, word, expected):
    assert counter.count(word).count == expected


@pytest.mark.parametrize(
    ("word", "valid"),
    [
        ("lune", (1, 2)),  # spoken, classic verse
        ("lion", (1, 2)),  # li-on
        ("nation", (2, 3)),  # na-ti-on
        ("jouer", (1, 2)),
        ("nuit", (1,)),
        ("vie", (1,)),
        ("porte-monnaie", (3, 4)),
    ],
)
def test_word_alternatives(counter, word, valid):
    assert tuple(sorted(counter.word_counts(word))) == valid
    assert counter.word_counts(word)[0] == valid[0]  # the spoken count comes first


def test_mute_e_at_line_end_is_not_counted_in_verse(counter):
    assert counter.count("lune").valid == (1,)
    assert counter.count("sous la lune").valid == (3,)


def test_line_spoken_and_verse():
    counter = get_counter("fr")
    result = counter.count("La lune brille sur le lac")
    assert result.count == 6
    assert result.valid == (6, 8)  # la lu-ne bril-le sur le lac


def test_verse_elides_before_vowel_and_not_at_line_end(counter):
    assert counter.count("Une âme seule").valid == (3, 4)  # u-n(e)_â-me seul(e)
    assert counter.count("Les lunes ont froid").valid == (4, 5)  # -es is counted before a vowel


def test_verse_counts_before_aspirated_h(counter):
    assert counter.count("une haie").valid == (2, 3)  # u-ne haie
    assert counter.count("une herbe").valid == (2,)  # u-n(e)_her-be
