"""Dutch counter: hand-checked words and lines, and the Dutch pack's examples under the form rule."""

import pytest

from ktokit.packs.counting import get_counter

counter = get_counter("nl")

# word -> count (checked by hand)
WORDS = {
    # ordinary words, final -e is a full syllable
    "huis": 1,
    "water": 2,
    "kinderen": 3,
    "lente": 2,
    "grote": 2,
    "ene": 2,
    "alle": 2,
    "de": 1,
    # two- and three-letter vowels
    "tijd": 1,
    "trein": 1,
    "uit": 1,
    "oud": 1,
    "blauw": 1,
    "deur": 1,
    "boek": 1,
    "lief": 1,
    "draaien": 2,
    "mooie": 2,
    "groeien": 2,
    "nieuwe": 2,
    "eeuwen": 2,
    "leeuw": 1,
    "sneeuw": 1,
    "uien": 2,
    "eieren": 3,
    "ooievaar": 3,
    "maan": 1,
    "manen": 2,
    "muur": 1,
    "zee": 1,
    # diaeresis opens a syllable
    "België": 3,
    "Italië": 4,
    "ruïne": 3,
    "poëzie": 3,
    "ideeën": 3,
    "knieën": 2,
    "beëindigen": 4,
    "coördinatie": 5,
    "reünie": 3,
    "naïef": 2,
    # hiatus without a mark
    "museum": 3,
    "theater": 3,
    "piano": 3,
    "januari": 4,
    "individueel": 5,
    "situatie": 4,
    # loanwords
    "station": 2,
    "bureau": 2,
    "milieu": 2,
    "crème": 1,
    "garage": 3,
    "computer": 3,
    "website": 2,
    "game": 1,
    "team": 1,
    "e-mail": 2,
    "yoghurt": 2,
    "aquarium": 4,
    # compounds and clitics
    "zeearend": 3,
    "zee-egel": 3,
    "sneeuwvlok": 2,
    "oliebollen": 4,
    "m'n": 1,
    "'t": 0,
    "auto's": 2,
}


@pytest.mark.parametrize("word", WORDS)
def test_word(word):
    assert counter.count(word).count == WORDS[word]


@pytest.mark.parametrize(
    ("line", "total"),
    [
        ("Een nieuwe lente en een nieuw geluid", 10),
        ("Denkend aan Holland zie ik brede rivieren", 12),
        ("Midden in de week, maar 's zondags niet", 9),
        ("Zij zingt een liedje over België en Italië.", 15),
        ("Hij zet z'n fiets tegen m'n muur", 8),
        ("Uitwaaien op het strand bij Scheveningen", 11),
    ],
)
def test_line(line, total):
    assert counter.count(line).count == total
