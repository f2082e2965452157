"""Nothing lost when things go wrong: real processes killed with SIGKILL mid-work, on the real server.

Each test kills a real process at a point of real work (the server while annotators submit; a
script right after one of its writes, `kit_testing.run_killed`), then checks what a user would: the
server's answers, a rerun, the backup folder, the training checkpoints. And a second copy of the kit
(another clone, the same `KTOKIT_HOME`) sees, restarts and stops the server the first one started.
docs/recovery.md lists what survives what, with these tests' names.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading

import httpx
import pytest
from kit_testing import (
    ROOT,
    make_generations,
    run_killed,
    run_kit,
    run_script,
    sign_in,
    task_with_examples,
)

from ktokit.annotate.argilla_local import ensure_running, manager
from ktokit.annotate.argilla_local.processes import PROCESSES, Layout, port_free
from ktokit.packs.languages import load_pack

pytestmark = pytest.mark.server
KILLED = -signal.SIGKILL


@pytest.fixture
def second_clone(tmp_path):
    """`python -m ktokit ...` run from another copy of the kit (a fork, a clone for another language)."""
    clone = tmp_path / "another-clone"
    shutil.copytree(ROOT / "ktokit", clone / "ktokit", ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(clone)}
    where = subprocess.run(
        [sys.executable, "-c", "import ktokit; print(ktokit.__file__)"],
        cwd=clone, env={**os.environ, **env}, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(clone)), where  # that copy is the one running, not this checkout
    return lambda *args: run_kit(*args, cwd=clone, env=env)


def owner_http(server: dict) -> httpx.Client:
    return httpx.Client(
        base_url=server["api_url"], headers={"X-Argilla-Api-Key": server["api_key"]}, timeout=60
    )


def stored_responses(server: dict, dataset_id: str, key: str = "external_id") -> dict[tuple[str, str], dict]:
    """(record's external id, or `key`, user id) -> every response the server holds, read as the owner."""
    with owner_http(server) as http:
        items = http.get(
            f"/api/v1/datasets/{dataset_id}/records", params={"include": "responses", "limit": 1000}
        ).json()["items"]
    return {(item[key], r["user_id"]): r for item in items for r in item["responses"]}


def stored_answers(server: dict, dataset_id: str, key: str = "external_id") -> dict[tuple[str, str], tuple]:
    """(record's external id, or `key`, user id) -> (status, 👍/👎 value) of every stored response."""
    return {
        at: (r["status"], (r["values"] or {}).get("label", {}).get("value"))
        for at, r in stored_responses(server, dataset_id, key).items()
    }


def test_server_killed_while_annotators_submit_then_a_second_clone_restarts_and_stops_it(
    haiku_dataset, annotator, argilla_server, second_clone
):
    """(a) Every answer the server acknowledged (201) is there after `argilla up`, and the annotators'
    queues and the progress agree with what is stored. The restart, `status` and `down` come from
    another copy of the kit."""
    from ktokit.campaign.progress import progress

    data_dir, dd = argilla_server["data_dir"], str(argilla_server["data_dir"])
    ds = haiku_dataset(40, min_submitted=2)
    team = [annotator(ds.workspace.name) for _ in range(4)]
    acked: list[tuple[str, str, str]] = []  # (record id, user id, value) answered 201
    lock, killed = threading.Lock(), threading.Event()
    server_pid = manager.status(data_dir)["processes"]["server"]

    def annotate(person) -> None:
        for n in range(40):
            try:
                items = person.pending(str(ds.id), limit=4)["items"]
                if not items:
                    return
                record = items[n % len(items)]["record"]["id"]
                value = "good" if (n + len(person.username)) % 3 else "bad"
                r = person.submit(record, value)
            except httpx.HTTPError:  # the server is gone: the annotator's page shows an error
                return
            if r.status_code == 201:
                with lock:
                    acked.append((record, person.id, value))
                    if len(acked) == 24 and not killed.is_set():
                        os.kill(server_pid, signal.SIGKILL)  # mid-submission: the others' requests in flight
                        killed.set()

    threads = [threading.Thread(target=annotate, args=(p,)) for p in team]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert killed.is_set() and not manager.status(data_dir)["healthy"]

    up = second_clone("argilla", "--data-dir", dd, "up")
    assert up.returncode == 0, up.stderr
    assert "Argilla is up at" in up.stdout + up.stderr and "in use" not in up.stderr

    stored = stored_answers(argilla_server, str(ds.id), key="id")
    for record, user, value in acked:
        assert stored[(record, user)] == ("submitted", value)
    assert len(acked) <= len(stored) <= len(acked) + len(team)  # at most the requests in flight more
    per_record: dict[str, int] = {}
    for record, _ in stored:
        per_record[record] = per_record.get(record, 0) + 1
    completed = {record for record, n in per_record.items() if n >= 2}
    report = progress(ds, language="en", min_submitted=2)
    assert (report["records"], report["completed"]) == (40, len(completed))
    assert report["responses"]["submitted"] == len(stored)
    for person in team:  # the annotator's queue: neither completed nor already answered by them
        mine = {record for record, user in stored if user == person.id}
        assert person.pending(str(ds.id))["total"] == 40 - len(completed | mine)

    status = second_clone("argilla", "--data-dir", dd, "status")
    assert status.stdout.splitlines()[0] == f"Argilla ({dd}): healthy"
    down = second_clone("argilla", "--data-dir", dd, "down")
    assert down.returncode == 0 and "Stopped worker, server, redis." in down.stdout + down.stderr
    info = manager.status(data_dir)
    assert not info["running"] and not info["healthy"]
    layout = Layout(data_dir)
    assert not any(layout.pid_file(name).exists() for name in PROCESSES)
    port = int(argilla_server["api_url"].rsplit(":", 1)[1])
    assert port_free("127.0.0.1", port)
    assert ensure_running(data_dir)["api_key"] == argilla_server["api_key"]  # this checkout starts it again


def test_create_task_killed_while_logging_reruns_to_exactly_the_missing_records(
    argilla_server, client, config_dir, tmp_path
):
    """(b) Killed right after its first batch of records was logged: the rerun adds exactly the rest,
    and an answer given in between stays."""
    gen = make_generations(tmp_path / "gen", "en", 6)  # 12 records: (good, broken) per prompt
    args = ("--language", "en", "--generations", str(gen), "--local")
    args += ("--argilla_dir", str(argilla_server["data_dir"]), "--dataset_name", "haiku-en-killed")
    args += ("--gold", "0")  # the counts below are the generations' records alone
    setup = "import ktokit.annotate.task as t; t.log_new_records.__defaults__ = (5,)"  # batches of 5
    cut = run_killed("argilla.records._dataset_records:DatasetRecords.log", 1, "create_task.py", *args,
                     setup=setup)  # fmt: skip
    assert cut.returncode == KILLED, cut.stderr[-2000:]
    dataset = client.datasets(name="haiku-en-killed", workspace="en")
    first = list(dataset.records)
    assert len(first) == 5
    ann = manager.add_annotator("killed-task-ann", workspace="en", data_dir=argilla_server["data_dir"])
    http = sign_in(argilla_server["api_url"], ann["username"], ann["password"])
    answered = str(first[0]._server_id)
    r = http.post(f"/api/v1/records/{answered}/responses",
                  json={"values": {"label": {"value": "bad"}}, "status": "submitted"})  # fmt: skip
    assert r.status_code == 201, r.text

    again = run_script("create_task.py", *args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "7 records added, 5 already there; 12 in the dataset" in again.stdout
    records = list(dataset.records(with_responses=True))
    assert len(records) == 12
    assert len({(r.fields["prompt"], r.fields["completion"]) for r in records}) == 12  # no duplicate
    (kept,) = [r for r in records if str(r._server_id) == answered]
    assert [(a.value, a.status) for a in kept.responses["label"]] == [("bad", "submitted")]


LANG, WORKSPACE, DATASET = "en", "en-crash", "haiku-en-crash"


@pytest.fixture
def answered_task(argilla_server, client, config_dir):
    """A task recorded for LANG (as create_task.py leaves it) with answers of two annotators."""
    from ktokit.annotate.credentials import save_target

    pack = load_pack(LANG)
    dataset, ids = task_with_examples(client, pack, range(8), lambda i: "tiny-a", 2, DATASET, WORKSPACE)
    save_target(LANG, {"kind": "local", "data_dir": str(argilla_server["data_dir"]), "workspace": WORKSPACE,
                       "dataset": DATASET})  # fmt: skip
    people = {}
    for name in ("crash-ana", "crash-ben"):
        user = manager.add_annotator(name, workspace=WORKSPACE, data_dir=argilla_server["data_dir"])
        people[name] = sign_in(argilla_server["api_url"], name, user["password"])
    record_ids = [ids[pack.examples[i]] for i in range(8)]
    for i, record in enumerate(record_ids):
        for k, http in enumerate(people.values()):
            if (i + k) % 3:
                r = http.post(f"/api/v1/records/{record}/responses",
                              json={"values": {"label": {"value": "good" if i % 2 else "bad"}},
                                    "status": "submitted"})  # fmt: skip
                assert r.status_code == 201, r.text
    yield {"dataset": dataset, "records": record_ids, "people": people}
    with contextlib.suppress(Exception):  # the test deletes it and restores it: whichever is there goes
        client.datasets(name=DATASET, workspace=WORKSPACE).delete()


def test_backup_and_restore_killed_halfway(argilla_server, client, answered_task, tmp_path):
    """(d) A backup killed while writing or between its two renames leaves the previous backup whole and
    loadable; (c) a restore killed after its first batch: the rerun completes it, no answer twice, and
    an answer changed in between is not overwritten."""
    from ktokit.campaign.backup import BACKUP_FILE, find_backup, fingerprint

    target = tmp_path / "backups"
    first = run_kit("backup", "--language", LANG, "--to", str(target))
    assert first.returncode == 0, first.stderr
    saved = json.loads((target / LANG / BACKUP_FILE).read_text())
    ana = answered_task["people"]["crash-ana"]
    r = ana.post(f"/api/v1/records/{answered_task['records'][0]}/responses",
                 json={"values": {"label": {"value": "good"}}, "status": "draft"})  # fmt: skip
    assert r.status_code == 201, r.text  # something new: the next backup differs

    # killed mid-copy, then between the two renames (the old one set aside, the new one not in yet)
    for spec, match in (("shutil:copyfile", f".{LANG}.incoming"), ("pathlib:Path.rename", f".{LANG}.old")):
        nth = 1 if "rename" in spec else 2
        cut = run_killed(spec, nth, "backup", "--language", LANG, "--to", str(target), match=match)
        assert cut.returncode == KILLED, cut.stderr[-2000:]
        folder = find_backup(str(target), LANG, str(tmp_path))  # what restore reads
        meta = json.loads((folder / BACKUP_FILE).read_text())
        records = json.loads((folder / "records.json").read_text())
        assert meta == saved and fingerprint(records, meta["answers"]) == saved["fingerprint"]
    second = run_kit("backup", "--language", LANG, "--to", str(target))
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in target.iterdir()) == [LANG]  # nothing set aside is left
    meta = json.loads((target / LANG / BACKUP_FILE).read_text())
    assert meta["fingerprint"] != saved["fingerprint"] and meta["responses"]["draft"] == 1

    answered_task["dataset"].delete()  # the server lost the dataset (a Space restarted empty)
    restore = ("restore", "--language", LANG, "--from", str(target), "--local")
    restore += ("--argilla-dir", str(argilla_server["data_dir"]))
    setup = "import ktokit.campaign.backup as b; b.BATCH = 3"  # 8 records: a kill between two batches
    cut = run_killed("ktokit.annotate.admin:request", 1, *restore, match="records/bulk", setup=setup)
    assert cut.returncode == KILLED, cut.stderr[-2000:]
    back = client.datasets(name=DATASET, workspace=WORKSPACE)
    assert len(list(back.records)) == 3  # the first batch only
    users = {str(u.id): u.username for u in client.users}
    halfway = stored_responses(argilla_server, str(back.id))
    (record, user), response = next(
        (key, r) for key, r in sorted(halfway.items()) if r["status"] == "submitted"
    )
    flipped = "bad" if response["values"]["label"]["value"] == "good" else "good"
    r = answered_task["people"][users[user]].put(  # the annotator changes it before the rerun
        f"/api/v1/responses/{response['id']}",
        json={"values": {"label": {"value": flipped}}, "status": "submitted"},
    )
    assert r.status_code == 200, r.text

    again = run_kit(*restore)
    assert again.returncode == 0, again.stderr
    stored = stored_answers(argilla_server, str(back.id))
    assert len(list(back.records)) == meta["records"] == 8
    assert sorted((rec, users[u]) for rec, u in stored) == sorted(
        (a["record"], a["username"]) for a in meta["answers"]
    )  # every answer of the backup, each once
    assert stored[(record, user)] == ("submitted", flipped)  # not overwritten by the rerun
