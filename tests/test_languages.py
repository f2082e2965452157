"""Pack loading, validation, scaffolding and the CLI around them (one clear line on bad input)."""

import json

import pytest

from ktokit.console import KitError
from ktokit.packs.form import check_form
from ktokit.packs.languages import load_pack, pack_codes, pack_problems

SHIPPED = ["de", "en", "es", "fr", "ja", "nl"]


def test_the_six_packs_ship():
    assert set(SHIPPED) <= set(pack_codes())


@pytest.mark.parametrize("code", SHIPPED)
def test_every_shipped_pack_validates_and_its_examples_follow_its_rule(code):
    """Every example, line by line, has its pattern count among the counter's valid counts."""
    pack = load_pack(code)
    assert pack_problems(pack) == []
    assert pack.form.counter == code and pack.form.pattern == [5, 7, 5] and pack.form.lines == 3
    failing = [e for e in pack.examples if not check_form(e, pack.form, clean=False).passed]
    assert failing == []
    assert len(pack.prompts) >= 100 and len(pack.examples) >= 30
    assert "{prompt}" in pack.user_template
    msgs = pack.messages(pack.prompts[0])
    assert msgs[-1] == {"role": "user", "content": pack.user_prompt(pack.prompts[0])}


def test_unknown_language_is_one_clear_line(kit):
    result = kit("check", "--language", "xx", stdin="hello")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "no language pack 'xx'" in result.stderr and "new-language xx" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_counter_is_one_clear_line(kit):
    result = kit("count", "--counter", "klingon", stdin="qapla")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "error: unknown counter 'klingon': use one of de, en, es, fr, ja, nl"


def test_malformed_pack_is_one_clear_line(tmp_path, kit):
    bad = tmp_path / "xx"
    bad.mkdir()
    (bad / "pack.yaml").write_text("code: xx\nname: [unclosed\n")
    result = kit("check", "--language", "xx", stdin="x", env={"KTOKIT_LANGUAGES": str(tmp_path)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "pack.yaml: not valid YAML at line" in result.stderr
    (bad / "pack.yaml").write_text("- just\n- a list\n")
    result = kit("check", "--language", "xx", stdin="x", env={"KTOKIT_LANGUAGES": str(tmp_path)})
    assert "expected a mapping" in result.stderr and result.returncode == 2


def test_missing_required_field(tmp_path, monkeypatch):
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "pack.yaml").write_text("code: xx\n")
    monkeypatch.setenv("KTOKIT_LANGUAGES", str(tmp_path))
    with pytest.raises(KitError, match="missing field 'name'"):
        load_pack("xx")


def test_pack_schema_errors_are_one_line_naming_the_field(tmp_path, monkeypatch):
    """pack.yaml is checked by a pydantic schema; its errors come back as one line: the field, what is
    wrong, how to fix it (a typo is caught, not ignored)."""
    (tmp_path / "xx").mkdir()
    monkeypatch.setenv("KTOKIT_LANGUAGES", str(tmp_path))
    cases = {
        "system_promt: hi\n": "unknown key: 'system_promt'; the keys are code, .*mean 'system_prompt'",
        "annotation: {labels: {good: yes}}\n": "annotation.labels.good: expected text, got True; quote it",
        "form: {pattern: [5, x, 5]}\n": r"form\.pattern: expected a whole number, got 'x'; .*\[5, 7, 5\]",
        "form: [3]\n": "form: expected a mapping of fields, got list",
        "form: {lines: x}\ncolour: red\n": r"form\.lines: expected a whole number, got 'x'.* \(and 1 more\)$",
    }
    for extra, message in cases.items():
        (tmp_path / "xx" / "pack.yaml").write_text("code: xx\nname: X\n" + extra)
        with pytest.raises(KitError, match=message) as error:
            load_pack("xx")
        assert "\n" not in str(error.value) and str(error.value).startswith(
            str(tmp_path / "xx" / "pack.yaml")
        )


def test_new_language_scaffold_fails_validation_until_filled(tmp_path, kit):
    env = {"KTOKIT_LANGUAGES": str(tmp_path)}
    result = kit("new-language", "pt", "--name", "Portuguese", env=env)
    assert result.returncode == 0, result.stderr
    assert "fill in 'native_name'" in result.stdout and "fill in 'system_prompt'" in result.stdout
    assert "form.counter 'TODO' is unknown" in result.stdout
    assert "0 prompts, write at least 100" in result.stdout
    again = kit("new-language", "pt", "--name", "Portuguese", env=env)
    assert again.returncode == 2 and "already exists" in again.stderr

    validate = kit("validate", "pt", env=env)
    assert validate.returncode == 1 and "pt: " in validate.stdout and "to fix" in validate.stdout

    # Fill it in (borrowing Spanish texts and its counter) and it validates.
    es = load_pack("es")
    pack_yaml = (es.path / "pack.yaml").read_text(encoding="utf-8").replace("code: es", "code: pt")
    (tmp_path / "pt" / "pack.yaml").write_text(pack_yaml, encoding="utf-8")
    (tmp_path / "pt" / "prompts.txt").write_text("\n".join(es.prompts), encoding="utf-8")
    (tmp_path / "pt" / "examples.txt").write_text("\n\n".join(es.examples), encoding="utf-8")
    validate = kit("validate", "pt", env=env)
    assert validate.returncode == 0, validate.stdout
    assert validate.stdout.strip() == "pt: ok"


def test_new_language_rejects_a_bad_code(kit, tmp_path):
    result = kit("new-language", "Portuguese!", "--name", "P", env={"KTOKIT_LANGUAGES": str(tmp_path)})
    assert result.returncode == 2 and "not a language code" in result.stderr


def test_languages_lists_every_pack(kit):
    result = kit("languages", "--json")
    assert result.returncode == 0
    rows = {r["code"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(SHIPPED) <= set(rows)
    assert all(rows[c]["status"] == "ok" for c in SHIPPED)
    assert int(rows["es"]["prompts"]) >= 100 and rows["ja"]["form"].startswith("5-7-5")
    table = kit("languages")
    assert table.stdout.splitlines()[0].split()[:3] == ["code", "name", "native"]


def test_check_shows_each_line_and_a_verdict(kit):
    pack = load_pack("es")
    raw = f"¡Claro! Aquí tienes un haiku:\n\n{pack.examples[0]}\n\nEspero que te guste."
    result = kit("check", "--language", "es", stdin=raw)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("cleaned:")
    for i, text in enumerate(pack.examples[0].split("\n"), 1):
        assert any(line.startswith(f"{i}. {text}  [") for line in lines)
    assert lines[-1].startswith("verdict: pass")
    bad = kit("check", "--language", "es", stdin="una línea")
    assert bad.returncode == 1 and "verdict: fail" in bad.stdout


def test_count_prints_one_json_object_per_line(kit):
    result = kit("count", "--language", "en", stdin="the fire\nold pond\n\nan old silent pond\n")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["the fire", "old pond", "an old silent pond"]
    assert set(rows[0]) == {"text", "count", "alternatives"}
    assert {rows[0]["count"], *rows[0]["alternatives"]} >= {2, 3}  # fire: 1 or 2 syllables
    assert rows[1]["count"] == 2 and rows[2]["count"] == 5
