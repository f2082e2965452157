"""The language check on the six packs, duplicates in any script, and `draft-prompts` / `draft-examples`
for a freshly scaffolded Portuguese pack against the scripted OpenAI-compatible server (a real HTTP server)
answering with a mix of good drafts, wrong-language drafts, duplicates and chatter."""

from __future__ import annotations

import itertools
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml
from kit_testing import ROOT, assert_one_error_line, run_kit
from scripted_openai import DraftScript, ScriptedOpenAI

from ktokit.draft.dedup import NEAR, Seen, similarity, trigrams
from ktokit.packs import language_id
from ktokit.packs.languages import load_pack

CODES = ["en", "es", "fr", "de", "nl", "ja"]

# English prompts, and the Portuguese a good model drafts for each (in the double's script)
SOURCES = {
    "Write a haiku about summer rain": "Escreva um haiku sobre a chuva de verão",
    "A haiku about the sea at dusk, please": "Um haiku sobre o mar ao entardecer, por favor",
    "Write a haiku about dry autumn leaves": "Escreva um haiku sobre as folhas secas do outono",
    "Can you write a haiku about the first snow?": "Pode escrever um haiku sobre a primeira neve?",
    "Write a haiku about a cat sleeping in the sun": "Escreva um haiku sobre um gato dormindo ao sol",
    "A haiku about the smell of morning coffee": "Um haiku sobre o cheiro do café de manhã",
    "Write a haiku about an empty train station": "Escreva um haiku sobre uma estação de trem vazia",
    "Can you write a haiku about cherry blossoms?": "Pode escrever um haiku sobre as cerejeiras em flor?",
    "Write a haiku about the full moon over the city": "Escreva um haiku sobre a lua cheia sobre a cidade",
    "A haiku about the wind in the mountains, please": "Um haiku sobre o vento nas montanhas, por favor",
}
# Haiku in Portuguese that pass the 5-7-5 check of the Spanish counter (the pt pack borrows it)
HAIKU = [
    "Chuva de verão\nNo telhado de zinco\nA casa dorme",
    "Folhas no quintal\nO vento leva o outono\nNinguém as varre",
]


# ---- the language check ----------------------------------------------------------------------------


def test_language_check_on_the_six_packs():
    packs = {code: load_pack(code) for code in CODES}
    for code, pack in packs.items():
        texts = pack.prompts + pack.examples
        detected = Counter(language_id.detect(t) for t in texts)
        assert detected[code] >= 0.98 * len(texts), (code, detected.most_common(4))
        assert sum(language_id.is_language(t, code) for t in texts) >= 0.99 * len(texts)
        # every other pack's examples judged against this one: (almost) all rejected
        others = [e for other, p in packs.items() if other != code for e in p.examples]
        wrongly_accepted = [e for e in others if language_id.is_language(e, code)]
        assert len(wrongly_accepted) <= 0.02 * len(others), (code, wrongly_accepted[:3])
        lines = [ln for e in pack.examples for ln in e.splitlines()]  # a haiku line: 3-6 words
        assert sum(language_id.is_language(ln, code) for ln in lines) >= 0.85 * len(lines)


def test_language_check_edges():
    assert (
        language_id.detect("") == language_id.UNKNOWN
        and language_id.detect("12 · 34 !") == language_id.UNKNOWN
    )
    assert language_id.is_language("575", "ja")  # nothing to judge
    assert language_id.language_code("pt-BR") == "pt"
    assert language_id.is_language(SOURCES["Write a haiku about summer rain"], "pt-BR")
    assert not language_id.is_language("Write a haiku about summer rain", "pt")
    assert language_id.answer_language("Write a haiku about summer rain", "pt") == "en"
    assert language_id.answer_language(HAIKU[0], "pt") == "pt"
    assert not language_id.is_language(load_pack("es").examples[0], "pt")  # Spanish is not Portuguese


# ---- duplicates ---------------------------------------------------------------------------------------


def test_near_duplicates_in_any_script():
    seen = Seen(
        [
            "Escreva um haiku sobre a chuva de verão",
            "雨の日の俳句を書いてください。",
            "Ｈａｉｋｕ ａｂｏｕｔ ｒａｉｎ",
        ]
    )
    assert seen.match("ESCREVA UM HAIKU SOBRE A CHUVA DE VERÃO!!") is not None  # case, punctuation
    assert seen.match("Escreva um haiku sobre a chuva de verao") is not None  # a near duplicate (accent lost)
    assert seen.match("Escreva um haiku sobre a chuva de inverno") is None
    assert seen.match("雨の日の俳句を書いてください") is not None  # Japanese, without the full stop
    assert seen.match("Haiku about rain.") is not None  # full-width and half-width forms agree
    assert seen.match("Escreva um haiku sobre a neve") is None  # same frame, another subject
    assert seen.match("雪の日の俳句を書いてください。") is None
    assert similarity("雨の日の俳句を書いてください。", "雪の日の俳句を書いてください。") < NEAR


def test_no_two_prompts_or_examples_of_a_shipped_pack_count_as_duplicates():
    for code in CODES:
        pack = load_pack(code)
        for items in (pack.prompts, pack.examples):
            grams = [trigrams(t) for t in items]
            closest = max(2 * len(a & b) / (len(a) + len(b)) for a, b in itertools.combinations(grams, 2))
            assert closest < NEAR, (code, closest)


# ---- draft-prompts and draft-examples, end to end -----------------------------------------------------


@pytest.fixture
def checkout(tmp_path):
    """A working folder with a languages/ of its own: the English source pack, then `new-language pt`."""
    languages = tmp_path / "languages"
    (languages / "en").mkdir(parents=True)
    shutil.copy(ROOT / "languages" / "en" / "pack.yaml", languages / "en" / "pack.yaml")
    (languages / "en" / "prompts.txt").write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    env = {"KTOKIT_LANGUAGES": str(languages), "HF_TOKEN": ""}
    made = run_kit("new-language", "pt", "--name", "Portuguese", "--counter", "es", env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    return tmp_path, env


def model_set(path: Path, base_url: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "backend": "openai",
                "base_url": base_url,
                "concurrency": 4,
                "batch_size": 4,
                "max_retries": 1,
                "models": [{"model": "org/a", "name": "a"}, {"model": "org/b", "name": "b"}],
            }
        )
    )
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def expected(
    answered: list[tuple[str, str]], models: int, form_fail_kind: str | None = None
) -> dict[str, int]:
    """The counts that follow from what the double's first model answered (the others repeat it)."""
    kinds = Counter(kind for _, kind in answered)
    n = len(answered)
    wrong = kinds["source"] if form_fail_kind != "source" else 0
    return {
        "asked": n * models,
        "answered": n * models,
        "chatter": kinds["chatter"],
        "duplicate": kinds["repeat"] + n * (models - 1),
        "wrong_language": wrong,
        "form_fail": kinds["source"] - wrong,
        "kept": kinds["good"] + kinds["wrapped"],
    }


def counts_line(c: dict[str, int]) -> str:
    return (
        f"asked {c['asked']}, answered {c['answered']}; "
        f"dropped: {c['chatter']} chatter only, {c['duplicate']} duplicate, "
        f"{c['wrong_language']} wrong language, {c['form_fail']} form fail; kept {c['kept']}"
    )


def test_draft_prompts_then_examples_for_a_new_pack(checkout):
    cwd, env = checkout
    script = DraftScript({source: pt for source, pt in SOURCES.items()})
    with ScriptedOpenAI(script=script) as api:
        models = str(model_set(cwd / "models.yaml", api.base_url))
        run = run_kit(
            "draft-prompts", "--language", "pt", "--from", "en", "--models", models, env=env, cwd=cwd
        )
        assert run.returncode == 0, run.stderr
        want = expected(script.answered, models=2)
        assert sorted(s for s, _ in script.answered) == sorted(SOURCES)
        assert counts_line(want) in run.stdout, run.stdout
        assert want["kept"] == 4 and want["wrong_language"] == 2 and want["chatter"] == 2
        assert "other language" in run.stdout  # the generation summary table, with the language column

        drafts = read_jsonl(cwd / "outputs" / "pt" / "drafts" / "prompts.jsonl")
        kept = {source for source, kind in script.answered if kind in ("good", "wrapped")}
        assert all(list(d) == ["kind", "text", "source", "model", "language"] for d in drafts)
        assert sorted((d["source"], d["text"]) for d in drafts) == sorted((s, SOURCES[s]) for s in kept)
        assert {(d["kind"], d["model"], d["language"]) for d in drafts} == {("prompt", "a", "pt")}

        asked = len(api.log)
        again = run_kit(
            "draft-prompts", "--language", "pt", "--from", "en", "--models", models, env=env, cwd=cwd
        )
        assert again.returncode == 0, again.stderr
        assert len(api.log) == asked  # resumed: nothing asked twice
        assert counts_line(expected([], models=2)) in again.stdout
        assert read_jsonl(cwd / "outputs" / "pt" / "drafts" / "prompts.jsonl") == drafts  # nothing added

        # examples: answers to the drafted prompts, in the pack's form (5-7-5 with the borrowed counter)
        prompts = [d["text"] for d in drafts]
        api.script = examples = DraftScript(dict(zip(prompts, HAIKU + HAIKU)))
        run = run_kit("draft-examples", "--language", "pt", "--models", models, env=env, cwd=cwd)
        assert run.returncode == 0, run.stderr
        want = expected(examples.answered, models=2, form_fail_kind="source")  # the prompt itself: one line
        assert counts_line(want) in run.stdout, run.stdout
        assert want["kept"] == 2 and want["form_fail"] == 1
        drafts = read_jsonl(cwd / "outputs" / "pt" / "drafts" / "examples.jsonl")
        assert sorted(d["text"] for d in drafts) == sorted(HAIKU)
        assert {(d["kind"], d["language"]) for d in drafts} == {("example", "pt")}
        assert {d["source"] for d in drafts} <= set(prompts)


def test_drafting_bad_input_is_one_line(checkout):
    cwd, env = checkout
    for args, needle in [
        (("draft-prompts", "--language", "pt", "--from", "pt"), "pick another pack"),
        (
            ("draft-prompts", "--language", "pt", "--topics", "missing.txt"),
            "cannot read --topics missing.txt",
        ),
        (("draft-prompts", "--language", "xx", "--from", "en"), "no language pack 'xx'"),
        (
            ("draft-examples", "--language", "pt", "--models", "offline"),
            "draft-prompts --language pt --from en",
        ),
        (("draft-prompts", "--language", "pt", "--from", "en", "--n", "0"), "--n must be at least 1"),
    ]:
        assert_one_error_line(run_kit(*args, env=env, cwd=cwd), needle)
