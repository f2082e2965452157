import pytest

from ktokit.packs.cleaning import clean_response

POEM = "Waves fold into foam\nsalt wind combing the dune grass\ngulls write on the sky"


@pytest.mark.parametrize(
    "raw",
    [
        POEM,
        f"Sure! Here's a haiku about the sea:\n\n{POEM}",
        f"Here is a haiku about the sea:\n{POEM}",
        f"**The Sea**\n\n{POEM}",
        f"# The Sea\n{POEM}",
        f"Title: The Sea\n\n{POEM}",
        f'"{POEM}"',
        "\n".join(f'"{line}"' for line in POEM.split("\n")),
        "\n".join(f"{i}. {line}" for i, line in enumerate(POEM.split("\n"), 1)),
        "\n".join(f"- {line}" for line in POEM.split("\n")),
        "Waves fold into foam (5)\nsalt wind combing the dune grass (7)\ngulls write on the sky (5)",
        (
            "Waves fold into foam - 5 syllables\nsalt wind combing the dune grass - 7 syllables\n"
            "gulls write on the sky - 5 syllables"
        ),
        "*Waves fold into foam*\n*salt wind combing the dune grass*\n*gulls write on the sky*",
        f"```\n{POEM}\n```",
        "Waves fold into foam /\nsalt wind combing the dune grass /\ngulls write on the sky",
        "Waves fold into foam\n\nsalt wind combing the dune grass\n\ngulls write on the sky",
        f"{POEM}\n\nThis haiku captures the restless energy of the shore.",
        f"{POEM}\nThis haiku follows the traditional 5-7-5 syllable pattern and evokes the shore at dawn.",
        f"\n\n  {POEM}  \n\n",
        f"Certainly! Here's a haiku inspired by the sea.\n\n**Shoreline**\n\n{POEM}\n\nI hope you enjoy it!",
        "> Waves fold into foam\n> salt wind combing the dune grass\n> gulls write on the sky",
    ],
)
def test_realistic_english_answers_clean_to_the_poem(raw):
    assert clean_response(raw, expected_lines=3) == POEM


@pytest.mark.parametrize(
    ("raw", "poem"),
    [
        (
            "¡Claro! Aquí tienes un haiku:\n\n*Luna de otoño*\n*sobre el río dormido*\n*canta la garza*\n\n"
            "Espero que te guste.",
            "Luna de otoño\nsobre el río dormido\ncanta la garza",
        ),
        (
            "Voici un haïku :\n\nLa lune d'automne\nsur la rivière endormie\nchante le héron",
            "La lune d'automne\nsur la rivière endormie\nchante le héron",
        ),
        (
            "Hier ist ein Haiku:\n\nAlter Teich im Wald\nein Frosch springt hinein ins Nass\n"
            "Wasser klingt leise",
            "Alter Teich im Wald\nein Frosch springt hinein ins Nass\nWasser klingt leise",
        ),
        (
            "Zeker! Hier is een haiku:\nDe oude vijver\neen kikker springt in het nat\ngeluid van water",
            "De oude vijver\neen kikker springt in het nat\ngeluid van water",
        ),
        ("「古池や\n蛙飛び込む\n水の音」", "古池や\n蛙飛び込む\n水の音"),
        ("もちろんです。以下が俳句です：\n\n古池や\n蛙飛び込む\n水の音", "古池や\n蛙飛び込む\n水の音"),
    ],
)
def test_other_languages(raw, poem):
    assert clean_response(raw, expected_lines=3) == poem


def test_keeps_a_poem_with_no_wrapping_and_no_rule():
    assert clean_response(POEM) == POEM


def test_empty_answers():
    assert clean_response(None) == ""
    assert clean_response("") == ""
    assert clean_response("  \n \n") == ""


def test_a_lone_preamble_is_not_mistaken_for_nothing():
    # Without a poem the cleaner keeps what is there rather than inventing one.
    assert clean_response("I cannot write that.", expected_lines=3) == "I cannot write that."
