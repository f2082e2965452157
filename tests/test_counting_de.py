"""German counter: hand-checked words and lines, and the German pack's examples under the form rule."""

import pytest

from ktokit.packs.counting import get_counter

counter = get_counter("de")

# word -> valid counts, preferred first (checked by hand)
WORDS = {
    # ordinary words
    "Haus": [1],
    "Sonne": [2],
    "Abend": [2],
    "Ufer": [2],
    "Schmetterling": [3],
    "Erinnerung": [4],
    # diphthongs and long vowels
    "Ei": [1],
    "Eier": [2],
    "Feuer": [2],
    "Bäume": [2],
    "Leute": [2],
    "Moos": [1],
    "Seele": [2],
    "Idee": [2],
    "Lied": [1],
    "Knie": [1],
    "Bayern": [2],
    "Poesie": [3],
    "Melodien": [4],
    # hiatus the spelling hides
    "Theater": [3],
    "Oase": [3],
    "Museum": [3],
    "Jubiläum": [4],
    "Ideen": [3, 2],
    "Ruine": [3],
    "Januar": [3],
    "aktuell": [3],
    "Koffein": [3],
    "naiv": [2],
    # prefixes before a vowel
    "beenden": [3],
    "beeilen": [3],
    "beurteilen": [4],
    "beinhalten": [4],
    "geimpft": [2],
    "Geist": [1],
    # -ie / -ien loanwords, and words where ie stays one vowel
    "Familie": [4, 3],
    "Familienfest": [5, 4],
    "Ferien": [3, 2],
    "Studien": [3, 2],
    "Kastanie": [4, 3],
    "studieren": [3],
    "Marie": [2],
    "Wien": [1],
    "schien": [1],
    "dient": [1],
    "vielleicht": [2],
    # -ion, -iell, -ient: glide or full vowel
    "Nation": [2, 3],
    "Station": [2, 3],
    "Religion": [4, 3],
    "Million": [3, 2],
    "Patient": [3, 2],
    "speziell": [3, 2],
    "Milieu": [2, 3],
    # compounds
    "Morgenrot": [3],
    "Schneeeule": [3],
    "Seeufer": [3],
    "Hauseingang": [3],
    "Sonnenuntergang": [5],
    # loanwords
    "Software": [2],
    "Smartphone": [2],
    "Team": [1],
    "Computer": [3],
    "Café": [2],
    "Garage": [3],
    "Niveau": [2],
    "E-Mail": [2],
    "Yoga": [2],
    "Quelle": [2],
}


@pytest.mark.parametrize("word", WORDS)
def test_word(word):
    count = counter.count(word)
    assert count.count == WORDS[word][0]
    assert set(WORDS[word]) <= set(count.valid)


@pytest.mark.parametrize(
    ("line", "total"),
    [
        ("Über allen Gipfeln ist Ruh", 8),
        ("Der Mond ist aufgegangen", 7),
        ("Ich weiß nicht, was soll es bedeuten", 9),
        ("Im Theater sitzt das Publikum ganz still.", 11),
        ("Die Schneeeule sitzt am Seeufer.", 9),
        ("Ich schreibe dir eine E-Mail aus dem Homeoffice.", 13),
        ("Gibt's heute Kaffee?", 5),
    ],
)
def test_line(line, total):
    assert counter.count(line).count == total


def test_line_alternatives_add_up():
    # Familie 4 or 3 syllables: the line is 13, or 12 with the glide.
    count = counter.count("Die Familie trifft sich am Sonntag zum Kaffee.")
    assert (count.count, count.valid) == (13, (12, 13))


def test_no_vowel_words():
    assert counter.count("hm").count == 1
    assert counter.count("2024").count == 0
