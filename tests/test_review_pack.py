"""review-pack and accept-pack: drafts reviewed in a real local Argilla server, kept ones written to the pack.

The drafts files are written here in the drafting commands' format, so these tests do not depend on a
model. The answers are given through Argilla's API as an owner (the SDK), as a reviewer's submitted
response is stored.
"""

import json
import shutil

import pytest
from kit_testing import ROOT, assert_one_error_line

from ktokit.console import KitError
from ktokit.draft.accept import ACCEPTED, EDITED, PENDING, REJECTED, Decision, apply_decisions, decide
from ktokit.draft.review import (
    EXAMPLE,
    NO_SOURCE,
    PROMPT,
    Draft,
    load_drafts,
    record_id,
    review_records,
    review_template,
)
from ktokit.packs.languages import REVIEW_DEFAULTS, load_pack, pack_problems

PORTUGUESE_HAIKU = (
    "Chuva de verão\nno telhado de zinco\nVento de outono"  # 5-7-5 for the borrowed Spanish counter
)


def write_drafts(folder, prompts=(), examples=(), model="m-a", source="src"):
    """Drafts as draft-prompts / draft-examples write them (appended, so several models can add theirs)."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, texts in ((PROMPT, prompts), (EXAMPLE, examples)):
        with open(folder / f"{kind}s.jsonl", "a", encoding="utf-8") as handle:
            for text in texts:
                handle.write(
                    json.dumps(
                        {"kind": kind, "text": text, "source": source, "model": model, "language": "pt"},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
    return folder


def pack_copy(tmp_path, monkeypatch, code="es"):
    """A copy of a shipped pack in a languages folder of its own, which the kit then reads."""
    root = tmp_path / "languages"
    shutil.copytree(ROOT / "languages" / code, root / code)
    monkeypatch.setenv("KTOKIT_LANGUAGES", str(root))
    return load_pack(code)


# ---- the pack's review texts, the drafts, the records (no server) -------------------------------------


def test_review_texts_come_from_the_pack_with_an_english_fallback(tmp_path, monkeypatch):
    ja = load_pack("ja")
    template = review_template(ja)
    assert ja.review.own and template.questions[0]["labels"] == ja.review.labels
    assert (
        list(ja.review.labels) == ["accept", "edit", "reject"]
        and ja.review.labels["edit"] != "✏️ Accept my edit"
    )
    assert ja.review.guidelines.strip() in template.guidelines and (template.dataset, template.workspace) == (
        "review-ja",
        "ja",
    )
    assert [f["title"] for f in template.fields] == [ja.review.draft_title, ja.review.source_title]
    en = load_pack("en")
    assert not en.review.own and en.review.guidelines == REVIEW_DEFAULTS["guidelines"]

    pack = pack_copy(tmp_path, monkeypatch)
    path = pack.path / "pack.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('accept: "✅ Aceptar tal cual"', 'accept: "TODO"'), encoding="utf-8")
    assert (
        "pack.yaml: fill in 'review.labels.accept' (or leave it out for the English text)"
        in pack_problems(load_pack("es"))
    )
    path.write_text(text.replace("    accept:", "    keep:"), encoding="utf-8")
    with pytest.raises(KitError, match="review.labels has 'keep'; the keys are accept, edit, reject"):
        load_pack("es")
    start, end = text.index("review:"), text.index("\n# La forma")
    path.write_text(text[:start] + "review:\n  question: ¿Lo guardamos?\n" + text[end:], encoding="utf-8")
    partial = load_pack("es").review  # what the pack leaves out stays English
    assert partial.question == "¿Lo guardamos?" and partial.labels == REVIEW_DEFAULTS["labels"]


def test_drafts_become_one_record_each_with_the_draft_as_the_edit_suggestion(tmp_path):
    pack = load_pack("es")
    folder = write_drafts(
        tmp_path / "drafts",
        prompts=["Un haiku  sobre\nel mar", pack.prompts[0]],
        examples=["  Lluvia de mayo \n\n el patio huele a tierra\n todo despierta"],
    )
    write_drafts(
        folder, prompts=["Un haiku sobre el mar"], model="m-b", source=""
    )  # the same text, another model
    drafts = load_drafts(folder)
    assert drafts[0] == Draft(
        PROMPT, "Un haiku sobre el mar", "src", "m-a", "pt"
    )  # one line, spaces collapsed
    assert (
        drafts[-1].text == "Lluvia de mayo\nel patio huele a tierra\ntodo despierta"
    )  # no blank line inside
    records, in_pack = review_records(drafts, pack)
    assert in_pack == 1 and len(records) == 2  # the pack's own prompt is not reviewed again; repeats merged
    prompt = next(r for r in records if r["metadata"]["kind"] == PROMPT)
    assert prompt["id"] == record_id("es", PROMPT, "Un haiku sobre el mar") and prompt["id"].startswith(
        "es-prompt-"
    )
    assert prompt["metadata"]["model"] == ["m-a", "m-b"]
    assert prompt["fields"] == {"draft": "Un haiku sobre el mar", "source": "src"}
    assert prompt["suggestion"] == {
        "question_name": "edit",
        "value": "Un haiku sobre el mar",
        "agent": "ktokit-draft/m-a",
    }
    assert record_id("es", EXAMPLE, "Un haiku sobre el mar") != prompt["id"]
    assert review_records([Draft(PROMPT, "x")], pack)[0][0]["fields"]["source"] == NO_SOURCE

    (folder / "prompts.jsonl").write_text('{"kind": "prompt", "text": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.raises(KitError, match=r"prompts.jsonl:2: not valid JSON"):
        load_drafts(folder)
    (folder / "prompts.jsonl").write_text('{"kind": "example", "text": "x"}\n', encoding="utf-8")
    with pytest.raises(KitError, match=r"prompts.jsonl:1: expected"):
        load_drafts(folder)
    with pytest.raises(KitError, match="no drafts in .*draft-prompts"):
        load_drafts(tmp_path / "nowhere")


def _item(kind, draft, *answers):
    """A record as the records endpoint returns it; answers are (user, status, decision, edit)."""
    return {
        "external_id": f"id-{draft[:8]}",
        "fields": {"draft": draft, "source": "s"},
        "metadata": [{"name": "kind", "value": kind}],
        "responses": [
            {
                "user_id": user,
                "status": status,
                "values": {"decision": {"value": choice}, **({"edit": {"value": edit}} if edit else {})},
            }
            for user, status, choice, edit in answers
        ],
    }


def test_the_submitted_answers_decide():
    d = "Escribe un haiku sobre el mar"
    assert decide(_item(PROMPT, d)).outcome == PENDING
    assert (
        decide(_item(PROMPT, d, ("u1", "draft", "accept", None))).outcome == PENDING
    )  # a draft is not a decision
    assert decide(_item(PROMPT, d, ("u1", "submitted", "accept", d))) == Decision(
        "id-Escribe ", PROMPT, d, ACCEPTED, d
    )
    edited = decide(_item(PROMPT, d, ("u1", "submitted", "edit", "Escribe un haiku\nsobre el río ")))
    assert (edited.outcome, edited.text) == (EDITED, "Escribe un haiku sobre el río")
    untouched = decide(
        _item(PROMPT, d, ("u1", "submitted", "edit", None))
    )  # edit chosen, box left as the draft
    assert (untouched.outcome, untouched.text) == (ACCEPTED, d)
    assert decide(_item(PROMPT, d, ("u1", "submitted", "reject", None))).outcome == REJECTED
    assert (
        decide(
            _item(PROMPT, d, ("u1", "submitted", "reject", None), ("u2", "submitted", "accept", None))
        ).outcome
        == PENDING
    )
    majority = decide(
        _item(
            EXAMPLE,
            d,
            ("u1", "submitted", "reject", None),
            ("u2", "submitted", "edit", "a\nb\nc"),
            ("u3", "submitted", "edit", None),
        )
    )
    assert (majority.outcome, majority.text) == (EDITED, "a\nb\nc")


def test_kept_drafts_are_appended_never_twice_and_bad_examples_refused(tmp_path, monkeypatch):
    pack = pack_copy(tmp_path, monkeypatch)
    before = {name: (pack.path / name).read_bytes() for name in ("prompts.txt", "examples.txt")}
    good = "Lluvia de mayo\nel patio huele a tierra\ntodo despierta"
    decisions = [
        Decision("p1", PROMPT, "Haiku del mar", ACCEPTED, "Haiku del mar"),
        Decision("p2", PROMPT, "x", EDITED, "Un haiku sobre el faro"),
        Decision("p3", PROMPT, pack.prompts[3], ACCEPTED, pack.prompts[3]),  # already a line of the pack
        Decision("p4", PROMPT, "Haiku del mar!", EDITED, "Haiku del mar"),  # edited into another kept draft
        Decision("p5", PROMPT, "Otro", REJECTED),
        Decision("p6", PROMPT, "Más", PENDING),
        Decision(
            "p7", PROMPT, "Haiku del faro", EDITED, "A haiku about the lighthouse at night"
        ),  # now English
        Decision(
            "p8", PROMPT, "Haiku del mar?", ACCEPTED, "¡HAIKU DEL MAR!"
        ),  # the same line, but for case and marks
        Decision("e1", EXAMPLE, good, ACCEPTED, good),
        Decision("e2", EXAMPLE, good, EDITED, "Lluvia de mayo\nel patio huele"),  # two lines: breaks the form
    ]
    result = apply_decisions(decisions, pack)
    assert dict(result.counts) == {ACCEPTED: 4, EDITED: 4, REJECTED: 1, PENDING: 1}
    assert result.written == {PROMPT: 2, EXAMPLE: 1} and result.present == {PROMPT: 3, EXAMPLE: 0}
    assert [(d.id, why.split(":")[0]) for d, why in result.refused] == [
        ("e2", "breaks the form rule"),
        ("p7", "not in Spanish by the language check (it reads en)"),
    ]
    prompts = (pack.path / "prompts.txt").read_bytes()
    assert prompts.startswith(before["prompts.txt"])  # nothing rewritten or deleted
    assert prompts[len(before["prompts.txt"]) :].decode().splitlines() == [
        "Haiku del mar",
        "Un haiku sobre el faro",
    ]
    examples = (pack.path / "examples.txt").read_bytes()
    assert examples.startswith(before["examples.txt"])
    after = load_pack("es")
    assert after.examples == [*pack.examples, good] and after.prompts == [
        *pack.prompts,
        "Haiku del mar",
        "Un haiku sobre el faro",
    ]
    again = apply_decisions(decisions, after)
    assert again.written == {PROMPT: 0, EXAMPLE: 0} and again.present == {PROMPT: 5, EXAMPLE: 1}
    assert (pack.path / "prompts.txt").read_bytes() == prompts


def test_accept_pack_before_review_pack_says_what_to_run(kit, config_dir):
    proc = kit("accept-pack", "--language", "es")
    assert_one_error_line(
        proc, "no review dataset recorded for 'es': run `python -m ktokit review-pack --language es"
    )
    proc = kit("review-pack", "--language", "es", "--drafts", str(config_dir / "none"))
    assert_one_error_line(proc, "no drafts in")
    drafts = write_drafts(config_dir / "drafts", prompts=[load_pack("es").prompts[0]])
    proc = kit("review-pack", "--language", "es", "--drafts", str(drafts))
    assert_one_error_line(proc, "is already in languages/es/: nothing to review")
    proc = kit("review-pack", "--language", "es", "--local", "--space", "a/b")
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr


# ---- the afternoon on the local server ------------------------------------------------------------------


@pytest.mark.server
def test_from_new_language_to_a_pack_that_validates(kit, kit_server, client, tmp_path, config_dir):
    """new-language pt → drafts → review-pack → answers in Argilla → accept-pack → a pack that validates;
    rerunning both adds nothing."""
    import argilla as rg

    languages = tmp_path / "languages"
    env = {"KTOKIT_LANGUAGES": str(languages)}
    assert kit("new-language", "pt", "--name", "Portuguese", env=env).returncode == 0
    es = load_pack("es")  # the texts are borrowed: what is tested is the flow, not the Portuguese
    (languages / "pt" / "pack.yaml").write_text(
        (es.path / "pack.yaml")
        .read_text(encoding="utf-8")
        .replace("code: es", "code: pt")
        .replace("name: Spanish", "name: Portuguese"),
        encoding="utf-8",
    )
    scaffolded = {
        name: (languages / "pt" / name).read_text(encoding="utf-8")
        for name in ("prompts.txt", "examples.txt")
    }
    prompts, examples = es.prompts[:108], es.examples[:34]
    drafts = write_drafts(tmp_path / "drafts", prompts=prompts[:100], examples=examples)
    write_drafts(drafts, prompts=prompts[95:], model="m-b")  # 5 drafted by both models

    args = (
        "review-pack",
        "--language",
        "pt",
        "--local",
        "--argilla-dir",
        str(kit_server["data_dir"]),
        "--drafts",
        str(drafts),
    )
    proc = kit(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (
        "drafts       147 in" in proc.stdout
        and "108 prompts and 34 examples to review, 5 repeated" in proc.stdout
    )
    assert "142 records added, 0 already there; 142 in the dataset" in proc.stdout
    assert kit_server["api_key"] not in proc.stdout + proc.stderr

    dataset = client.datasets(name="review-pt", workspace="pt")
    settings = dataset.settings
    assert es.review.guidelines.strip() in settings.guidelines  # the pack's language
    assert settings.questions["decision"].labels == ["accept", "edit", "reject"]
    records = {r.fields["draft"]: r for r in dataset.records(with_suggestions=True)}
    assert set(records) == {*prompts, *examples}
    assert all(r.suggestions["edit"].value == text for text, r in records.items())
    assert {r.metadata["kind"] for r in records.values()} == {PROMPT, EXAMPLE}

    owner = client.me.id
    new_prompts = ["Escreva um haiku sobre o farol", "Um haiku sobre a chuva em Lisboa"]
    edits = {
        prompts[0]: new_prompts[0],
        prompts[1]: new_prompts[1],
        prompts[7]: "Write a haiku about the lighthouse",  # into another language: refused
        examples[0]: PORTUGUESE_HAIKU,  # corrected into another valid example
        examples[1]: "\n".join(PORTUGUESE_HAIKU.splitlines()[:2]),
    }  # corrected into two lines: refused
    rejected, pending = {*prompts[2:5], examples[2]}, {prompts[5], prompts[6], examples[3]}
    answered = []
    for text, record in records.items():
        if text in pending:
            continue
        choice = "edit" if text in edits else "reject" if text in rejected else "accept"
        record.responses.add(rg.Response("decision", choice, user_id=owner, status="submitted"))
        record.responses.add(rg.Response("edit", edits.get(text, text), user_id=owner, status="submitted"))
        answered.append(record)
    dataset.records.log(answered)

    proc = kit("accept-pack", "--language", "pt", env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "drafts       142: 130 accepted, 5 edited, 4 rejected, 3 pending" in out
    assert (
        "prompts.txt  102 written, 0 already present" in out
        and "examples.txt 31 written, 0 already present" in out
    )
    assert "refused      2" in out and "breaks the form rule" in out and "not in Portuguese" in out
    assert out.rstrip().endswith("validate     pt: ok")

    pt = languages / "pt"
    kept_prompts = sorted([*new_prompts, *(p for p in prompts[8:])])
    written = (pt / "prompts.txt").read_text(encoding="utf-8")
    assert written.startswith(scaffolded["prompts.txt"])
    assert sorted(written[len(scaffolded["prompts.txt"]) :].splitlines()) == kept_prompts
    kept_examples = sorted([PORTUGUESE_HAIKU, *examples[4:]])
    assert sorted(load_pack(pt).examples) == kept_examples
    assert (pt / "examples.txt").read_text(encoding="utf-8").startswith(scaffolded["examples.txt"])

    files = {name: (pt / name).read_bytes() for name in ("prompts.txt", "examples.txt")}
    write_drafts(drafts, prompts=[prompts[5], "Um haiku novo"])  # a pending draft again, and a new one
    again = kit(*args, env=env)
    assert again.returncode == 0, again.stderr
    assert "1 records added" in again.stdout and "143 in the dataset" in again.stdout
    answers = {
        r.fields["draft"]: [(a.value, a.status) for a in r.responses["decision"]]
        for r in dataset.records(with_responses=True)
        if r.responses["decision"]
    }
    assert len(answers) == 139 and answers[prompts[2]] == [("reject", "submitted")]  # nothing overwritten
    again = kit("accept-pack", "--language", "pt", env=env)
    assert again.returncode == 0, again.stderr
    assert (
        "prompts.txt  0 written, 102 already present" in again.stdout
        and "examples.txt 0 written, 31" in again.stdout
    )
    assert {name: (pt / name).read_bytes() for name in files} == files


@pytest.mark.server
def test_review_on_the_language_space_and_accept_from_it(
    kit_server, client, tmp_path, monkeypatch, hub, capsys
):
    """--space reuses the language's Argilla Space as create_task does (the Hub is the recording stand-in,
    the Space's Argilla the local server); accept-pack then finds it without flags."""
    import argilla as rg
    from kit_testing import RecordingHfApi

    from ktokit.annotate.credentials import save_space_credentials
    from ktokit.cli import main
    from ktokit.draft.accept import accept_pack
    from ktokit.spaces import provision

    monkeypatch.setenv("KTOKIT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(provision, "POLL_S", 0.01)
    repo = "kit-community/haiku-es-annotation"
    save_space_credentials(repo, {"api_key": kit_server["api_key"], "password": "owner-password-123"})
    hub.api = RecordingHfApi(exists=True, stages=("RUNNING",))
    pack = pack_copy(tmp_path, monkeypatch)
    drafts = write_drafts(tmp_path / "drafts", prompts=["Un haiku sobre el faro de noche"])
    # in-process (the Hub double), as `python -m ktokit review-pack` runs it
    target = ["--space", repo, "--space-url", kit_server["api_url"], "--dataset-name", "review-es-space"]
    assert main(["review-pack", "--language", "es", *target, "--drafts", str(drafts)]) == 0
    out = capsys.readouterr().out
    assert hub.api.names() == ["repo_exists", "get_space_runtime"]  # reused as it is: nothing uploaded
    assert "1 records added" in out and "sign in with Hugging Face" in out

    (record,) = client.datasets(name="review-es-space", workspace="es").records(with_responses=True)
    record.responses.add(rg.Response("decision", "accept", user_id=client.me.id, status="submitted"))
    client.datasets(name="review-es-space", workspace="es").records.log([record])
    result = accept_pack("es")
    assert (
        result.written == {PROMPT: 1, EXAMPLE: 0}
        and "the Space " + repo in result.where
        and not result.problems
    )
    assert load_pack("es").prompts == [*pack.prompts, "Un haiku sobre el faro de noche"]
