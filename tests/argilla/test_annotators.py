"""Annotators through the endpoints the UI uses: the queue, submitting, task distribution, access rules."""

import sqlite3
import time

import httpx
import pytest
from kit_testing import PENDING_QUEUE

pytestmark = pytest.mark.server  # every test here works on the session's Argilla server


def _record_statuses(http: httpx.Client, dataset_id: str) -> dict:
    items = http.post(
        f"/api/v1/datasets/{dataset_id}/records/search", json={"query": {}}, params={"limit": 100}
    )
    return {item["record"]["external_id"]: item["record"]["status"] for item in items.json()["items"]}


def test_queue_shrinks_as_annotator_submits(haiku_dataset, annotator):
    ds = haiku_dataset(8)
    alice = annotator(ds.workspace.name)
    queue = alice.pending(str(ds.id), limit=3)
    assert queue["total"] == 8
    assert len(queue["items"]) == 3
    first = queue["items"][0]["record"]
    assert first["fields"]["completion"].startswith("haiku")

    assert alice.submit(first["id"], "good").status_code == 201
    after = alice.pending(str(ds.id), limit=10)
    assert after["total"] == 7
    assert first["id"] not in {item["record"]["id"] for item in after["items"]}
    assert [item["record"]["id"] for item in after["items"]][:2] == [
        i["record"]["id"] for i in queue["items"][1:]
    ]

    metrics = alice.http.get(f"/api/v1/me/datasets/{ds.id}/metrics").json()
    assert metrics["responses"]["submitted"] == 1
    assert metrics["responses"]["pending"] == 7


def test_annotators_start_at_different_records(haiku_dataset, annotator):
    ds = haiku_dataset(40)
    firsts = {
        annotator(ds.workspace.name).pending(str(ds.id), limit=1)["items"][0]["record"]["id"]
        for _ in range(8)
    }
    # Each annotator enters the shuffled order at its own point; with 8 random points over 40 records
    # fewer than 4 distinct first records is a ~1e-4 event, not a flake.
    assert len(firsts) >= 4


def test_a_text_search_in_the_queue_keeps_the_annotators_order(haiku_dataset, annotator):
    """A text search reads the table in file order (engine.py) but pages in the queue's own order."""
    ds = haiku_dataset(30)
    alice = annotator(ds.workspace.name)

    def search(text: str | None, limit: int, offset: int = 0) -> tuple[list[str], int]:
        body = {**PENDING_QUEUE, "query": {"text": {"q": text}} if text else {}}
        r = alice.http.post(
            f"/api/v1/me/datasets/{ds.id}/records/search",
            params={"limit": limit, "offset": offset},
            json=body,
        )
        r.raise_for_status()
        return [item["record"]["external_id"] for item in r.json()["items"]], r.json()["total"]

    queue, total = search(None, 30)
    assert total == 30 and sorted(queue) == sorted(f"r{i}" for i in range(30))
    assert search("haiku", 30) == (queue, 30)  # every record matches: the same records, in the same order
    assert search("haiku", 5, offset=10) == (queue[10:15], 30)
    autumn = [r for r in queue if int(r[1:]) % 2]
    assert search("AUTUMN", 30) == (autumn, 15)  # what matches, in the queue's order
    assert search('"prompt 7 about"', 30) == (["r7"], 1)  # a phrase
    assert search("haiku 7", 30) == ([r for r in queue if "7" in r], 3)  # every term, anywhere


def test_annotator_cannot_reach_owner_endpoints_or_other_workspaces(haiku_dataset, annotator):
    mine, other = haiku_dataset(2), haiku_dataset(2)
    bob = annotator(mine.workspace.name)
    assert bob.http.get(f"/api/v1/datasets/{mine.id}/records").status_code == 403  # owner/admin listing
    assert bob.http.post(f"/api/v1/datasets/{mine.id}/records/search", json={"query": {}}).status_code == 403
    assert bob.http.post("/api/v1/workspaces", json={"name": "bobs"}).status_code == 403
    assert bob.http.get(f"/api/v1/datasets/{other.id}").status_code == 403
    assert bob.pending(str(mine.id))["total"] == 2
    r = bob.http.post(f"/api/v1/me/datasets/{other.id}/records/search", json={"query": {}})
    assert r.status_code == 403
    assert {d["id"] for d in bob.http.get("/api/v1/me/datasets").json()["items"]} == {str(mine.id)}


def test_record_completes_after_min_submitted(haiku_dataset, annotator, argilla_server):
    ds = haiku_dataset(3, min_submitted=2)
    owner = httpx.Client(
        base_url=argilla_server["api_url"], headers={"X-Argilla-Api-Key": argilla_server["api_key"]}
    )
    a, b = annotator(ds.workspace.name), annotator(ds.workspace.name)
    record = a.pending(str(ds.id), limit=1)["items"][0]["record"]
    external = record["external_id"]

    assert a.submit(record["id"], "good").status_code == 201
    assert _record_statuses(owner, str(ds.id))[external] == "pending"  # one of two
    assert record["id"] in {i["record"]["id"] for i in b.pending(str(ds.id))["items"]}

    assert b.submit(record["id"], "bad").status_code == 201
    assert _record_statuses(owner, str(ds.id))[external] == "completed"
    assert ds.progress()["completed"] == 1
    assert b.pending(str(ds.id))["total"] == 2  # completed records leave every queue
    assert a.pending(str(ds.id))["total"] == 2

    # Every dataset update makes the rq worker recompute the statuses of answered records: break one
    # behind the server's back and watch the worker mend it
    with sqlite3.connect(argilla_server["data_dir"] / "argilla.db", timeout=30) as db:
        db.execute("UPDATE records SET status = 'pending' WHERE id = ?", (record["id"].replace("-", ""),))
    assert _record_statuses(owner, str(ds.id))[external] == "pending"
    owner.patch(f"/api/v1/datasets/{ds.id}", json={"guidelines": "Rate each haiku."}).raise_for_status()
    deadline = time.monotonic() + 30
    while _record_statuses(owner, str(ds.id))[external] != "completed":
        assert time.monotonic() < deadline, "the rq worker never ran the status job"
        time.sleep(0.2)
