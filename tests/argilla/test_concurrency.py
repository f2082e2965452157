"""Many annotators at once on one SQLite file: no request may fail, no response may be lost."""

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import argilla as rg
import httpx
import pytest

ANNOTATORS = 12
EACH = 25  # 300 responses in all

pytestmark = pytest.mark.server  # every test here works on the session's Argilla server


def test_twelve_annotators_submit_at_once(haiku_dataset, annotator, client, argilla_server):
    ds = haiku_dataset(200, min_submitted=2)
    team = [annotator(ds.workspace.name) for _ in range(ANNOTATORS)]
    start = threading.Barrier(ANNOTATORS + 1)
    failures: list[str] = []

    def annotate(person) -> list[str]:
        done: list[str] = []
        start.wait()
        while len(done) < EACH:
            queue = person.pending(str(ds.id), limit=3)
            todo = [i["record"]["id"] for i in queue["items"] if i["record"]["id"] not in done]
            if not todo:
                failures.append(f"{person.username}: empty queue after {len(done)}")
                break
            r = person.submit(todo[0], "good" if len(done) % 2 else "bad")
            if r.status_code != 201:
                failures.append(f"{person.username}: {r.status_code} {r.text[:200]}")
                break
            done.append(todo[0])
        return done

    def owner_meanwhile() -> None:
        """The organiser logs more records and edits the dataset (each edit queues a worker job)."""
        start.wait()
        http = httpx.Client(
            base_url=argilla_server["api_url"], headers={"X-Argilla-Api-Key": argilla_server["api_key"]}
        )
        for round_ in range(3):
            extra = [
                rg.Record(fields={"prompt": f"late {round_}-{i}", "completion": "x"}, id=f"late{round_}-{i}")
                for i in range(20)
            ]
            ds.records.log(extra)
            http.patch(f"/api/v1/datasets/{ds.id}", json={"guidelines": f"round {round_}"}).raise_for_status()

    with ThreadPoolExecutor(ANNOTATORS + 1) as pool:
        owner = pool.submit(owner_meanwhile)
        results = list(pool.map(annotate, team))
        owner.result()

    assert failures == []
    submitted = sum(len(r) for r in results)
    assert submitted == ANNOTATORS * EACH
    assert all(len(set(r)) == len(r) for r in results)

    with sqlite3.connect(argilla_server["data_dir"] / "argilla.db") as db:
        (stored,) = db.execute(
            "SELECT count(*) FROM responses x JOIN records r ON r.id = x.record_id WHERE r.dataset_id = ?",
            (str(ds.id).replace("-", ""),),
        ).fetchone()
    assert stored == submitted
    records = list(ds.records(with_responses=True))
    assert len(records) == 260
    assert sum(len(r.responses["label"] or []) for r in records) == submitted
    completed = sum(1 for r in records if len(r.responses["label"] or []) >= 2)
    assert ds.progress()["completed"] == completed

    for name in ("server", "worker"):
        log = (argilla_server["data_dir"] / "logs" / f"{name}.log").read_text()
        assert "database is locked" not in log
