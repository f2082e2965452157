"""A running campaign against real local Argilla servers: progress, backup, restore into a fresh server.

Three annotators answer through the endpoints the annotation UI uses; every figure `progress` must
report is worked out below from ANSWERS. The backup then goes into a second, empty local server
(started here, its own data dir and port), and export_kto's rows must come out as before the loss.
"""

import json
from collections import Counter
from types import SimpleNamespace

import pytest
from kit_testing import PENDING_QUEUE, assert_one_error_line, free_port, sign_in, task_with_examples

from ktokit.annotate.argilla_local import manager
from ktokit.packs.languages import load_pack

LANG = "ja"
WORKSPACE, DATASET = "ja-campaign", "haiku-ja-campaign"
MIN_SUBMITTED = 2
# completion (pack example index) -> each annotator's answer:
# good/bad (submitted), draft:<v>, discarded[:<v>], None
ANSWERS = {
    0: ("good", "good", "bad"),
    1: ("bad", "draft:good", None),
    2: ("good", "discarded", "good"),
    3: (None, "bad", "discarded:bad"),
    4: ("draft:bad", None, None),
    5: ("good", "good", "good"),
    6: (None, None, None),
}
NAMES = ("camp-ana", "camp-ben", "camp-cho")


def kit(capsys, *args):
    """`python -m ktokit ARGS` in this process (`ktokit.cli.main`), with what it printed."""
    from ktokit.cli import main

    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)


def status_of(spec):
    return spec.partition(":")[0] if ":" in spec or spec == "discarded" else "submitted"


TRUST = ("reliable", "gold_answered", "gold_accuracy", "agreement", "flag", "why")


def counts_only(progress):
    """`progress` without each annotator's reliability, once it says what a handful of answers must:
    too few to tell (the campaign's reliability: tests/argilla/test_trust.py)."""
    for a in progress["annotators"]:
        trust = {k: a.pop(k) for k in TRUST}
        assert trust["flag"] == "check" and trust["why"][0].endswith("too few to tell (20 needed)")
        assert (trust["reliable"], trust["gold_answered"], trust["gold_accuracy"]) == (
            a["submitted"],
            0,
            None,
        )
        assert trust["agreement"] is None or -1 <= trust["agreement"] <= 1
    return progress


def expected_progress():
    """What `progress --json` must say, from ANSWERS alone."""
    per_user = {name: Counter() for name in NAMES}
    completed = 0
    for specs in ANSWERS.values():
        for name, spec in zip(NAMES, specs):
            if spec:
                per_user[name][status_of(spec)] += 1
        completed += sum(bool(s) and status_of(s) == "submitted" for s in specs) >= MIN_SUBMITTED
    annotators = [
        {"username": n, **{s: c[s] for s in ("submitted", "draft", "discarded")}}
        for n, c in per_user.items()
        if c
    ]
    annotators.sort(key=lambda a: (-a["submitted"], a["username"]))
    return {
        "language": LANG,
        "dataset": f"{WORKSPACE}/{DATASET}",
        "min_submitted": MIN_SUBMITTED,
        "records": len(ANSWERS),
        "completed": completed,
        "pending": len(ANSWERS) - completed,
        "responses": {s: sum(a[s] for a in annotators) for s in ("submitted", "draft", "discarded")},
        "annotators": annotators,
        "visitors": {
            "prefer_tuned": 0,
            "prefer_base": 0,
            "votes": 0,  # no demo Space in this campaign
            "by_side": {"base": {"good": 0, "bad": 0}, "tuned": {"good": 0, "bad": 0}},
        },
    }


def completed_so_far(k):
    """Records completed once the first k annotators have answered."""
    return sum(
        sum(bool(s) and status_of(s) == "submitted" for s in specs[:k]) >= MIN_SUBMITTED
        for specs in ANSWERS.values()
    )


def answer(http, record_id, spec):
    status, _, value = spec.partition(":") if status_of(spec) != "submitted" else ("submitted", "", spec)
    r = http.post(
        f"/api/v1/records/{record_id}/responses",
        json={"status": status, "values": {"label": {"value": value}} if value else {}},
    )
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def campaign(argilla_server, client, tmp_path_factory):
    """The task as create_task.py makes it, answered by three annotators, recorded for LANG."""
    from ktokit.annotate.credentials import save_target

    pack = load_pack(LANG)
    dataset, ids = task_with_examples(
        client, pack, ANSWERS, lambda i: "tiny-a", MIN_SUBMITTED, DATASET, WORKSPACE
    )
    for k, name in enumerate(NAMES):
        user = manager.add_annotator(name, workspace=WORKSPACE, data_dir=argilla_server["data_dir"])
        http = sign_in(argilla_server["api_url"], name, user["password"])
        queue = http.post(
            f"/api/v1/me/datasets/{dataset.id}/records/search", params={"limit": 50}, json=PENDING_QUEUE
        )
        mine = {
            item["record"]["fields"]["completion"]: item["record"]["id"] for item in queue.json()["items"]
        }
        assert len(mine) == len(ANSWERS) - completed_so_far(k)  # a completed record leaves the queue
        mine.update(ids)
        for ex, specs in ANSWERS.items():
            if specs[k]:
                answer(http, mine[pack.examples[ex]], specs[k])
    config = tmp_path_factory.mktemp("campaign-config")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KTOKIT_CONFIG_DIR", str(config))
        save_target(
            LANG,
            {
                "kind": "local",
                "data_dir": str(argilla_server["data_dir"]),
                "workspace": WORKSPACE,
                "dataset": DATASET,
            },
        )
        yield {"dataset": dataset, "config": config, "tmp": tmp_path_factory.mktemp("campaign")}


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory):
    """A second local server with nothing in it: the Space that restarted, the laptop that died."""
    data_dir = tmp_path_factory.mktemp("argilla-fresh")
    creds = manager.up(data_dir, port=free_port(), say=lambda _: None)
    yield {"data_dir": data_dir, **creds}
    manager.down(data_dir, say=lambda _: None)


def answers_to(server, example, user_id):
    """The responses `user_id` has on the record of pack example `example`, read as the owner."""
    import httpx

    owner = httpx.Client(
        base_url=server["api_url"], headers={"X-Argilla-Api-Key": server["api_key"]}, timeout=60
    )
    datasets = owner.get("/api/v1/me/datasets").json()["items"]
    (dataset_id,) = [d["id"] for d in datasets if d["name"] == DATASET]
    items = owner.get(
        f"/api/v1/datasets/{dataset_id}/records", params={"include": "responses", "limit": 50}
    ).json()
    (record,) = [r for r in items["items"] if r["fields"]["completion"] == load_pack(LANG).examples[example]]
    return [r for r in record["responses"] if r["user_id"] == user_id]


def kto_rows(tmp, name):
    from ktokit.export.build import ExportArguments, export_kto

    folder = export_kto(ExportArguments(language=LANG, output_dir=str(tmp / name))).folder
    return (folder / "train.jsonl").read_text(encoding="utf-8")


@pytest.mark.server
def test_progress_reflects_every_answer(campaign, capsys):
    from ktokit.campaign.progress import progress_for

    result = kit(capsys, "progress", "--all", "--json")  # every language with a task: here only LANG
    assert result.returncode == 0, result.stderr
    got = [counts_only(json.loads(line)) for line in result.stdout.splitlines()]
    assert got == [expected_progress()]
    table = kit(capsys, "progress", "--language", LANG)
    assert table.returncode == 0, table.stderr
    board = [
        line.split()[1] for line in table.stdout.splitlines() if line.split()[:1] in (["1"], ["2"], ["3"])
    ]
    assert board == [a["username"] for a in expected_progress()["annotators"]]
    # another bar than the task's own: completed records are counted from the records
    one = progress_for(LANG, min_submitted=1)
    assert one["completed"] == sum(
        any(s and status_of(s) == "submitted" for s in specs) for specs in ANSWERS.values()
    )


@pytest.mark.server
def test_backup_restore_into_a_fresh_server_gives_the_same_rows(campaign, fresh_server, capsys):
    from ktokit.campaign.backup import backup, restore
    from ktokit.campaign.progress import progress_for

    tmp, folder = campaign["tmp"], str(campaign["tmp"] / "backups")
    before = kto_rows(tmp, "before")
    done = kit(capsys, "backup", "--language", LANG, "--to", folder)
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp / "backups" / LANG / "ktokit-backup.json").read_text())
    assert {a["username"] for a in saved["answers"]} == set(NAMES)
    n_answers = sum(bool(s) for specs in ANSWERS.values() for s in specs)
    assert len(saved["answers"]) == n_answers
    assert not backup(LANG, folder, only_if_changed=True)["changed"]

    restored = kit(
        capsys,
        "restore",
        "--language",
        LANG,
        "--from",
        folder,
        "--local",
        "--argilla-dir",
        str(fresh_server["data_dir"]),
    )
    assert restored.returncode == 0, restored.stderr
    assert f"{len(ANSWERS)} added, 0 already there; answers added: {n_answers}" in restored.stdout
    assert "reset-password" in restored.stdout
    # export_kto now reads the fresh server (restore recorded it) and gives the same rows
    assert kto_rows(tmp, "after") == before and before.count("\n") > 0
    assert counts_only(progress_for(LANG)) == expected_progress()

    # a recreated annotator gets in again with a new password, and changes an answer after the restore
    reset = kit(capsys, "argilla", "--data-dir", str(fresh_server["data_dir"]), "reset-password", NAMES[0])
    assert reset.returncode == 0, reset.stderr
    http = sign_in(fresh_server["api_url"], NAMES[0], reset.stdout.split("password: ")[1].split()[0])
    me = http.get("/api/v1/me").json()
    assert me["role"] == "annotator"
    (response,) = answers_to(fresh_server, 0, me["id"])
    assert response["values"]["label"]["value"] == ANSWERS[0][0] == "good"
    changed = http.put(
        f"/api/v1/responses/{response['id']}",
        json={"values": {"label": {"value": "bad"}}, "status": "submitted"},
    )
    assert changed.status_code == 200, changed.text

    twice = restore(LANG, folder, local=True, argilla_dir=str(fresh_server["data_dir"]))
    assert (twice["records_added"], twice["responses_added"], twice["annotators_created"]) == (0, 0, [])
    assert [r["values"]["label"]["value"] for r in answers_to(fresh_server, 0, me["id"])] == ["bad"]  # kept


@pytest.mark.server
def test_hub_backup_is_a_private_dataset_repo_and_restores(campaign, fresh_server, argilla_server, hub):
    from ktokit.campaign.backup import backup, restore
    from ktokit.campaign.progress import progress_for

    first = backup(LANG, "my-org/haiku-backups", only_if_changed=True)
    assert first["changed"]
    (create,) = [args for name, args in hub.api.calls if name == "create_repo"]
    assert (create["repo_id"], create["repo_type"], create["private"]) == (
        "my-org/haiku-backups",
        "dataset",
        True,
    )
    (upload,) = [args for name, args in hub.api.calls if name == "upload_folder"]
    assert (upload["repo_type"], upload["path_in_repo"]) == ("dataset", LANG)
    assert set(hub.api.repos["my-org/haiku-backups"]) == {
        f"{LANG}/{f}"
        for f in ("ktokit-backup.json", "records.json", ".argilla/dataset.json", ".argilla/settings.json")
    }
    keys = (
        argilla_server["api_key"],
        argilla_server["password"],
        fresh_server["api_key"],
        fresh_server["password"],
    )
    assert not any(key in text for text in hub.api.repos["my-org/haiku-backups"].values() for key in keys)

    second = backup(LANG, "my-org/haiku-backups", only_if_changed=True)
    assert not second["changed"] and hub.api.names().count("upload_folder") == 1

    back = restore(LANG, "my-org/haiku-backups", local=True, argilla_dir=str(fresh_server["data_dir"]))
    assert back["records_added"] + back["records_existing"] == len(ANSWERS)
    assert counts_only(progress_for(LANG)) == expected_progress()


def test_restore_and_progress_errors_are_one_line(tmp_path, config_dir, capsys):
    from ktokit.campaign.backup import restore
    from ktokit.console import KitError

    (tmp_path / "empty").mkdir()
    assert_one_error_line(
        kit(capsys, "restore", "-l", LANG, "--from", str(tmp_path / "empty"), "--local"), "no backup in"
    )
    (tmp_path / "other" / "es").mkdir(parents=True)
    (tmp_path / "other" / "es" / "ktokit-backup.json").write_text(json.dumps({"language": "es"}))
    with pytest.raises(KitError, match="holds backups of es, not 'ja'"):
        restore(LANG, str(tmp_path / "other"), local=True)
    with pytest.raises(KitError, match="is of 'es', not 'ja'"):
        restore(LANG, str(tmp_path / "other" / "es"), local=True)
    with pytest.raises(KitError, match="--local .*, --space ORG/NAME or --server URL"):
        restore(LANG, str(tmp_path / "other"))
    assert_one_error_line(kit(capsys, "progress", "--all"), "no language has an annotation task")
    assert_one_error_line(
        kit(capsys, "backup", "-l", LANG, "--to", str(tmp_path)), "no annotation dataset recorded"
    )
