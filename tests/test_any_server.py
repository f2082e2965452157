"""`--server URL`: any Argilla server a campaign runs itself, with the session's local server in its place.

The local server is reached only through its URL and an owner's key in ARGILLA_API_KEY, as a server on
the campaign's own machines would be: create_task.py records it, and export, progress, backup and restore
work against it with no flag. A wrong URL, a refused key, an annotator's key: one line each.
"""

import json
import stat

import pytest
from kit_testing import PENDING_QUEUE, assert_one_error_line, free_port, make_generations, run_script, sign_in
from kit_testing import SPACE_LANGUAGE as LANG

WORKSPACE, DATASET = "srv", "haiku-ja-srv"


@pytest.fixture(scope="module")
def annotator(argilla_server):
    """An annotator of the workspace, made through the kit's admin layer: name, password and key."""
    from ktokit.annotate import admin

    with admin.session(argilla_server["api_url"], argilla_server["api_key"]) as http:
        user = admin.create_user(http, "srv-annotator", "srv-annotator-pass")
        admin.add_to_workspace(http, admin.ensure_workspace(http, WORKSPACE)["id"], user["id"])
    key = admin.api_key_of(argilla_server["api_url"], "srv-annotator", "srv-annotator-pass")
    return {"name": "srv-annotator", "password": "srv-annotator-pass", "api_key": key}


@pytest.mark.server
def test_a_server_given_by_url_carries_export_progress_and_backup(
    argilla_server, annotator, tmp_path, config_dir, kit, monkeypatch
):
    from ktokit.annotate.credentials import argilla_target, server_credentials_path, targets_path

    url, key = argilla_server["api_url"], argilla_server["api_key"]
    gen = make_generations(tmp_path / "gen", LANG, 2)
    task = [
        "--language",
        LANG,
        "--generations",
        str(gen),
        "--workspace",
        WORKSPACE,
        "--dataset_name",
        DATASET,
        "--gold",
        "0",  # the counts below are the generations' records alone
    ]
    proc = run_script("create_task.py", *task, "--server", url + "/", env={"ARGILLA_API_KEY": key})
    assert proc.returncode == 0, proc.stderr
    assert f"target       Argilla server {url}\n" in proc.stdout
    assert "4 records added, 0 already there; 4 in the dataset" in proc.stdout
    assert key not in proc.stdout + proc.stderr + targets_path().read_text()
    assert json.loads(targets_path().read_text())[LANG]["kind"] == "server"
    stored = server_credentials_path(url)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and json.loads(stored.read_text())["api_key"] == key
    monkeypatch.delenv("ARGILLA_API_KEY", raising=False)
    target = argilla_target(LANG)  # later steps need neither the flag nor the variable
    assert (target.kind, target.api_url, target.workspace, target.dataset) == (
        "server",
        url,
        WORKSPACE,
        DATASET,
    )

    # the annotator answers every record of their queue, as the UI does; then the later steps read the server
    http = sign_in(url, annotator["name"], annotator["password"])
    dataset = target.client().datasets(name=DATASET, workspace=WORKSPACE)
    queue = http.post(
        f"/api/v1/me/datasets/{dataset.id}/records/search", params={"limit": 50}, json=PENDING_QUEUE
    ).json()["items"]
    assert len(queue) == 4
    for n, item in enumerate(queue):
        answered = http.post(
            f"/api/v1/records/{item['record']['id']}/responses",
            json={"status": "submitted", "values": {"label": {"value": "good" if n % 2 else "bad"}}},
        )
        assert answered.status_code == 201, answered.text

    progress = kit("progress", "--language", LANG, "--json")
    assert progress.returncode == 0, progress.stderr
    assert json.loads(progress.stdout)["responses"]["submitted"] == 4

    out = tmp_path / "kto"
    export = run_script("export_kto.py", "--language", LANG, "--output_dir", str(out))
    assert export.returncode == 0, export.stderr
    assert f"on the Argilla server at {url}" in export.stdout + export.stderr
    rows = [json.loads(line) for split in out.glob("*.jsonl") for line in split.read_text().splitlines()]
    assert sorted(r["label"] for r in rows) == [False, False, True, True]

    backups = tmp_path / "backups"
    backup = kit("backup", "--language", LANG, "--to", str(backups))
    assert backup.returncode == 0, backup.stderr
    assert "4 records, 4 submitted" in backup.stdout
    # restore through --server into the same server: nothing is missing, so nothing is added
    restore = kit("restore", "--language", LANG, "--from", str(backups), "--server", url)
    assert restore.returncode == 0, restore.stderr
    assert "records: 0 added, 4 already there; answers added: 0" in restore.stdout
    assert key not in "".join(p.stdout + p.stderr for p in (progress, export, backup, restore))


@pytest.mark.server
def test_a_wrong_url_a_refused_key_and_an_annotators_key_are_one_line_each(
    argilla_server, annotator, tmp_path, config_dir, monkeypatch
):
    from ktokit.annotate.create import TaskArguments, create_task, plan_task
    from ktokit.console import KitError

    url, key = argilla_server["api_url"], argilla_server["api_key"]
    gen = make_generations(tmp_path / "gen", LANG, 1)
    proc = run_script(  # as a user sees it: one line, exit 2
        "create_task.py", "--language", LANG, "--generations", str(gen), "--server", url,
        env={"ARGILLA_API_KEY": annotator["api_key"]},
    )  # fmt: skip
    assert_one_error_line(proc, "'srv-annotator''s, an annotator on the Argilla server at")
    assert annotator["api_key"] not in proc.stderr
    nobody = f"http://127.0.0.1:{free_port()}"
    for server, env_key, needle in [
        ("argilla.example.org", key, "give the Argilla server's address"),
        (nobody, key, f"cannot reach the Argilla server at {nobody}"),
        (url + "/api", key, "is not an Argilla server"),
        (url, "", "set ARGILLA_API_KEY to the API key of an owner or admin"),
        (url, "not-a-key-this-server-knows", "refused the key in ARGILLA_API_KEY"),
    ]:
        monkeypatch.setenv("ARGILLA_API_KEY", env_key)
        with pytest.raises(KitError, match="^[^\n]*$") as caught:
            create_task(plan_task(TaskArguments(language=LANG, generations=str(gen), server=server)))
        assert needle in str(caught.value) and key not in str(caught.value)
    with pytest.raises(KitError, match="choose one target"):
        plan_task(TaskArguments(language=LANG, generations=str(gen), server=url, local=True))
