"""create_task.py and ktokit.annotate.task against a real local Argilla server (started once per session).

The server is configured like the Space: it reads the rendered `.oauth.yaml` (HF sign-in to the
language's workspace) with a dummy client id, so the same server also proves the Space files work.
"""

import dataclasses
import stat

import httpx
import pytest
from kit_testing import PENDING_QUEUE, make_generations, run_script, sign_in
from kit_testing import SPACE_LANGUAGE as LANG  # a non-Latin script: English left over shows

from ktokit.annotate.task import (
    BAD,
    GOOD,
    build_records,
    load_generations,
    record_id,
    shuffle_records,
    task_template,
)
from ktokit.console import KitError
from ktokit.packs.languages import FormRule, load_pack


def run_create_task(*args: str, env: dict | None = None):
    return run_script("create_task.py", *args, env=env)


# ---- the template and the records (no server) ----------------------------------------------------


def test_template_comes_from_the_pack_in_its_language():
    pack = load_pack(LANG)
    template = task_template(pack)
    assert (template.dataset, template.workspace, template.min_submitted) == ("haiku-ja", "ja", 2)
    assert template.labels() == {GOOD: "👍 よい", BAD: "👎 よくない"}
    assert pack.annotation.guidelines.strip() in template.guidelines
    assert pack.annotation.dataset_title in template.guidelines
    assert [q["name"] for q in template.questions] == ["label", "flag", "comment"]
    flag = template.questions[1]
    assert not flag["required"] and flag["labels"]["wrong_language"] == "🌐 言語が違う"
    assert template.questions[1]["required"] is False
    assert {m["name"] for m in template.metadata} == {
        "model",
        "language",
        "detected_language",
        "form_verdict",
        "form_score",
        "lines",
        "round",
    }
    assert task_template(pack, min_submitted=3, dataset="x", workspace="w").to_dict()["min_submitted"] == 3
    with pytest.raises(KitError, match="min_submitted"):
        task_template(pack, min_submitted=0)
    empty = dataclasses.replace(pack, annotation=dataclasses.replace(pack.annotation, question=""))
    with pytest.raises(KitError, match="annotation.question"):
        task_template(empty)


def test_records_have_content_ids_suggestions_and_metadata(tmp_path):
    pack = load_pack(LANG)
    rows = load_generations(make_generations(tmp_path / "gen", LANG, 4))
    rows.append(dict(rows[0], generation_model=["tiny-d", "tiny-e", "tiny-f"]))  # same texts, other models
    records = build_records(rows, pack)
    assert len(records) == 8  # 4 prompts x (good, broken); failed (None) generations dropped; repeats merged
    ids = [r["id"] for r in records]
    assert len(set(ids)) == 8 and all(i.startswith("ja-") for i in ids)
    first = records[0]
    assert first["id"] == record_id("ja", first["fields"]["prompt"], first["fields"]["completion"])
    assert first["metadata"]["model"] == ["tiny-a", "tiny-d"]
    good = [r for r in records if r["metadata"]["form_verdict"] == "pass"]
    bad = [r for r in records if r["metadata"]["form_verdict"] == "fail"]
    assert len(good) == len(bad) == 4
    assert all(r["suggestion"]["value"] == GOOD and r["suggestion"]["score"] == 1.0 for r in good)
    assert all(r["suggestion"]["value"] == BAD and 0 <= r["suggestion"]["score"] <= 1 for r in bad)
    assert all(r["metadata"]["lines"] == 2 for r in bad)
    assert good[0]["suggestion"]["agent"] == "ktokit-form-check/ja/5-7-5"
    free = dataclasses.replace(pack, form=FormRule())
    assert all(r["suggestion"] is None for r in build_records(rows, free))  # no rule: nothing to suggest

    shuffled = shuffle_records(records, seed=1)
    assert shuffled == shuffle_records(list(reversed(records)), seed=1)  # input order does not matter
    assert [r["id"] for r in shuffled] != sorted(ids) and sorted(r["id"] for r in shuffled) == sorted(ids)
    models = [r["metadata"]["model"][0] for r in shuffle_records(build_records(rows[:4], pack), 0)]
    assert models != sorted(models)  # one model's answers don't all come in a row


def test_generations_input_errors(tmp_path):
    with pytest.raises(KitError, match="preference_gen.py"):
        load_generations(tmp_path / "missing")
    bad = tmp_path / "g.jsonl"
    bad.write_text('{"input": "x"}\n')
    with pytest.raises(KitError, match="missing column"):
        load_generations(bad)
    bad.write_text("{not json\n")
    with pytest.raises(KitError, match=r"g.jsonl:1: not valid JSON"):
        load_generations(bad)
    jsonl = make_generations(tmp_path / "gen", LANG, 2) / "generations.jsonl"
    assert len(load_generations(jsonl)) == 2


def test_cli_errors_are_one_line(tmp_path):
    gen = make_generations(tmp_path / "gen", LANG, 2)
    for args, needle in [
        (["--language", "xx", "--generations", str(gen), "--dry-run"], "no language pack 'xx'"),
        (["--language", LANG, "--generations", str(tmp_path / "nope"), "--dry-run"], "no generations at"),
        (["--language", LANG, "--generations", str(gen), "--local", "--space", "a/b"], "choose one target"),
        (
            ["--language", LANG, "--generations", str(gen), "--storage", "small", "--dry-run"],
            "storage buckets",
        ),
        (["--language", LANG, "--generations", str(gen), "--space", "not a repo", "--dry-run"], "ORG/NAME"),
    ]:
        proc = run_create_task(*args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("error: ") and needle in proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# ---- against the server ---------------------------------------------------------------------------


@pytest.mark.server
def test_local_task_settings_records_and_rerun(kit_server, client, tmp_path, config_dir):
    gen = make_generations(tmp_path / "gen", LANG, 5)
    args = [
        "--language",
        LANG,
        "--generations",
        str(gen),
        "--local",
        "--argilla_dir",
        str(kit_server["data_dir"]),
        "--dataset_name",
        "haiku-ja-cli",
        "--gold",
        "0",  # gold has its own test (tests/argilla/test_trust.py): the counts here are the generations'
    ]
    proc = run_create_task(*args)
    assert proc.returncode == 0, proc.stderr
    assert "10 records added, 0 already there; 10 in the dataset" in proc.stdout
    url = next(line.split()[-1] for line in proc.stdout.splitlines() if line.startswith("annotate at"))
    assert url.startswith(kit_server["api_url"] + "/dataset/") and url.endswith("/annotation-mode")
    assert httpx.get(url).status_code == 200  # the UI serves the page
    assert kit_server["api_key"] not in proc.stdout + proc.stderr

    dataset = client.datasets(name="haiku-ja-cli", workspace=LANG)
    pack = load_pack(LANG)
    settings = dataset.settings
    assert [f.name for f in settings.fields] == ["prompt", "completion"]
    label = settings.questions["label"]
    assert label.labels == ["good", "bad"] and label.title == pack.annotation.question
    assert settings.questions["comment"].title == pack.annotation.comment
    assert pack.annotation.guidelines.strip() in settings.guidelines
    assert settings.distribution.min_submitted == 2
    assert {m.name for m in settings.metadata} == {
        "model",
        "language",
        "detected_language",
        "form_verdict",
        "form_score",
        "lines",
        "round",
    }

    records = list(dataset.records(with_suggestions=True))
    assert len(records) == 10
    assert {r.metadata["round"] for r in records} == {1}  # a new dataset starts at round 1
    verdicts = {r.metadata["form_verdict"] for r in records}
    assert verdicts == {"pass", "fail"}
    for r in records:
        s = r.suggestions["label"]
        assert s.value == (GOOD if r.metadata["form_verdict"] == "pass" else BAD)
        assert s.agent == "ktokit-form-check/ja/5-7-5" and 0 <= s.score <= 1
    served_order = [r.metadata["model"][0] for r in records]
    assert served_order != sorted(served_order)

    # the target is recorded (0600) so later steps need no flags
    from ktokit.annotate.credentials import argilla_target, targets_path

    assert stat.S_IMODE(targets_path().stat().st_mode) == 0o600
    assert kit_server["api_key"] not in targets_path().read_text()
    target = argilla_target(LANG)
    assert (target.kind, target.dataset, target.api_url) == ("local", "haiku-ja-cli", kit_server["api_url"])
    assert kit_server["api_key"] not in repr(target)
    assert target.client().datasets(name="haiku-ja-cli", workspace=LANG).id == dataset.id

    again = run_create_task(*args)
    assert again.returncode == 0, again.stderr
    assert "0 records added, 10 already there; 10 in the dataset" in again.stdout


@pytest.mark.server
def test_rerun_with_more_generations_keeps_given_responses(kit_server, client, tmp_path, config_dir):
    import argilla as rg

    from ktokit.annotate.task import ensure_dataset, log_new_records

    pack = load_pack(LANG)
    template = task_template(pack, min_submitted=1, dataset="haiku-ja-grow")
    rows = load_generations(make_generations(tmp_path / "g1", LANG, 2))
    dataset, created = ensure_dataset(client, template)
    assert created
    first = log_new_records(dataset, shuffle_records(build_records(rows, pack)))
    assert (first.added, first.existing, first.total) == (4, 0, 4)

    rated = next(iter(dataset.records(with_responses=True)))
    owner = client.me
    rated.responses.add(rg.Response("label", BAD, user_id=owner.id, status="submitted"))
    dataset.records.log([rated])

    more = load_generations(make_generations(tmp_path / "g2", LANG, 3))  # the 2 prompts again + 1 new
    again, created = ensure_dataset(client, template)
    assert not created and again.id == dataset.id
    second = log_new_records(again, shuffle_records(build_records(more, pack)))
    assert (second.added, second.existing, second.total) == (2, 4, 6)
    kept = {str(r.id): r for r in dataset.records(with_responses=True)}
    assert len(kept) == 6
    answers = kept[str(rated.id)].responses["label"]
    assert [(a.value, a.status, a.user_id) for a in answers] == [(BAD, "submitted", owner.id)]

    other = task_template(pack, dataset="haiku-ja-grow")
    other.questions[0]["labels"] = {"yes": "yes", "no": "no"}
    with pytest.raises(KitError, match="exists with other settings"):
        ensure_dataset(client, other)


@pytest.mark.server
def test_a_second_round_adds_only_new_answers_to_a_dataset_made_before_rounds(
    kit_server, client, tmp_path, config_dir
):
    """Round two lands in the dataset of round one, made before rounds existed: the `round` property is
    added, only the answers not there yet come in (round 2); round one's records and answers stay."""
    import argilla as rg

    from ktokit.annotate.task import ROUND, ensure_dataset, log_new_records

    pack, name = load_pack(LANG), "haiku-ja-rounds"
    old = task_template(pack, min_submitted=1, dataset=name)
    old.metadata = [m for m in old.metadata if m["name"] != ROUND]  # as an older kit made it
    dataset, _ = ensure_dataset(client, old)
    round1 = build_records(load_generations(make_generations(tmp_path / "r1", LANG, 2)), pack)
    assert log_new_records(dataset, round1).added == 4
    rated = next(iter(dataset.records(with_responses=True)))
    rated.responses.add(rg.Response("label", BAD, user_id=client.me.id, status="submitted"))
    dataset.records.log([rated])
    before = {str(r.id): (r.metadata, r.fields) for r in dataset.records}

    round2 = make_generations(tmp_path / "r2", LANG, 3)  # the 2 prompts again (same answers) + 1 new
    server = ["--local", "--argilla_dir", str(kit_server["data_dir"])]
    args = ["--language", LANG, "--generations", str(round2), *server, "--dataset_name", name, "--gold", "0"]
    proc = run_create_task(*args, "--round", "2")
    assert proc.returncode == 0, proc.stderr
    assert "round        2" in proc.stdout
    added = "2 records added, 4 already there; 6 in the dataset; the new ones are round 2"
    assert f"{added}; by round 1: 4, 2: 2" in proc.stdout
    again = client.datasets(name=name, workspace=LANG)
    assert ROUND in {m.name for m in again.settings.metadata}
    after = {str(r.id): r for r in again.records(with_responses=True)}
    assert {i: (r.metadata, r.fields) for i, r in after.items() if i in before} == before  # untouched
    assert [r.metadata[ROUND] for i, r in after.items() if i not in before] == [2, 2]
    answers = after[str(rated.id)].responses["label"]
    assert [(a.value, a.status) for a in answers] == [(BAD, "submitted")]

    # a rerun adds nothing, with or without --round; without, new answers join the highest round there
    assert log_new_records(again, build_records(load_generations(round2), pack)).added == 0
    rerun = run_create_task(*args, "--round", "2")
    assert "0 records added, 6 already there; 6 in the dataset; by round 1: 4, 2: 2\n" in rerun.stdout
    more = build_records(load_generations(make_generations(tmp_path / "r3", LANG, 4)), pack)
    grown = log_new_records(again, more)
    assert (grown.added, grown.round, grown.rounds) == (2, 2, {1: 4, 2: 4})


@pytest.mark.server
def test_annotator_queue_shows_records_with_the_suggestion(kit_server, client, tmp_path, config_dir):
    from ktokit.annotate.argilla_local import manager

    gen = make_generations(tmp_path / "gen", LANG, 3)
    proc = run_create_task(
        "--language",
        LANG,
        "--generations",
        str(gen),
        "--local",
        "--argilla_dir",
        str(kit_server["data_dir"]),
        "--dataset_name",
        "haiku-ja-queue",
        "--gold",
        "0",
    )
    assert proc.returncode == 0, proc.stderr
    dataset = client.datasets(name="haiku-ja-queue", workspace=LANG)
    user = manager.add_annotator("queue-annotator", workspace=LANG, data_dir=kit_server["data_dir"])
    http = sign_in(kit_server["api_url"], user["username"], user["password"])
    mine = http.get("/api/v1/me/datasets").json()["items"]
    assert "haiku-ja-queue" in {d["name"] for d in mine}
    r = http.post(
        f"/api/v1/me/datasets/{dataset.id}/records/search",
        params={"include": "suggestions", "limit": 50},
        json=PENDING_QUEUE,
    )
    r.raise_for_status()
    items = [i["record"] for i in r.json()["items"]]
    assert r.json()["total"] == 6 and len(items) == 6
    for item in items:
        (suggestion,) = item["suggestions"]
        assert suggestion["value"] in (GOOD, BAD) and suggestion["agent"] == "ktokit-form-check/ja/5-7-5"
    assert {i["fields"]["prompt"] for i in items} <= set(load_pack(LANG).prompts)


@pytest.mark.server
def test_dry_run_prints_the_plan_and_touches_nothing(kit_server, client, tmp_path, config_dir):
    gen = make_generations(tmp_path / "gen", LANG, 3)
    proc = run_create_task(
        "--language",
        LANG,
        "--generations",
        str(gen),
        "--space",
        "my-org/haiku-ja",
        "--dry-run",
        env={"HF_TOKEN": ""},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for needle in [
        "Space my-org/haiku-ja",
        "https://my-org-haiku-ja.hf.space",
        "README.md",
        "Dockerfile",
        ".oauth.yaml",
        "API_KEY, PASSWORD, ARGILLA_AUTH_SECRET_KEY",
        "TaskDistribution(min_submitted=2)",
        "records      6",
        "NO persistent storage",
    ]:
        assert needle in out, needle
    assert not config_dir.exists()  # no credentials generated, no target recorded

    local = run_create_task(
        "--language",
        LANG,
        "--generations",
        str(gen),
        "--dry-run",
        "--dataset_name",
        "haiku-ja-dry",
        "--argilla_dir",
        str(kit_server["data_dir"]),
    )
    assert local.returncode == 0 and "dry run: nothing was created" in local.stdout
    assert client.datasets(name="haiku-ja-dry", workspace=LANG) is None
