"""The argilla SDK against the local server: what create_task.py and export_kto.py rely on."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import argilla as rg
import httpx
import pytest

pytestmark = pytest.mark.server  # every test here works on the session's Argilla server


def test_round_trip_with_responses_and_export(client, haiku_dataset, argilla_server):
    ds = haiku_dataset(12)
    owner = client.me
    first = list(ds.records(limit=3))
    for record in first:
        record.responses.add(rg.Response("label", "good", user_id=owner.id, status="submitted"))
    ds.records.log(first)

    back = list(ds.records(with_responses=True, with_suggestions=True))
    assert len(back) == 12
    by_id = {r.id: r for r in back}
    assert by_id["r5"].fields["completion"] == "haiku 5"
    assert by_id["r5"].metadata == {"model": "m2", "length": 5}
    assert by_id["r4"].suggestions["label"].value == "bad"
    answered = [r for r in back if r.responses["label"]]
    assert sorted(r.id for r in answered) == sorted(r.id for r in first)
    assert all(r.responses["label"][0].value == "good" for r in answered)
    assert all(r.responses["label"][0].status == "submitted" for r in answered)

    hf = ds.records.to_datasets()
    assert hf.num_rows == 12
    assert {"prompt", "completion", "label.responses", "label.suggestion"} <= set(hf.column_names)

    progress = ds.progress(with_users_distribution=True)
    assert progress["total"] == 12
    assert progress["completed"] == 3  # min_submitted=1
    assert progress["pending"] == 9
    assert progress["users"][owner.username]["completed"]["submitted"] == 3


def test_metadata_suggestion_and_text_filters(haiku_dataset):
    ds = haiku_dataset(12)

    def ids(query):
        return sorted(int(r.id[1:]) for r in ds.records(query=query))

    assert ids(rg.Query(filter=rg.Filter(("metadata.model", "==", "m1")))) == [1, 4, 7, 10]
    assert ids(rg.Query(filter=rg.Filter([("metadata.length", ">=", 3), ("metadata.length", "<=", 5)]))) == [
        3,
        4,
        5,
    ]
    assert ids(rg.Query(filter=rg.Filter(("metadata.model", "in", ["m0", "m2"])))) == [
        0,
        2,
        3,
        5,
        6,
        8,
        9,
        11,
    ]
    assert ids(rg.Query(filter=rg.Filter(("label.suggestion", "==", "bad")))) == [0, 4, 8]
    assert ids(rg.Query(filter=rg.Filter(("label.agent", "==", "form")))) == list(range(12))
    assert ids(rg.Query(query="AUTUMN")) == [1, 3, 5, 7, 9, 11]  # case-insensitive, any field
    assert ids(rg.Query(query="about winter")) == [0, 2, 4, 6, 8, 10]  # every term must match
    assert ids(rg.Query(query="haiku 7")) == [7]
    assert ids(rg.Query(query="autumn", filter=rg.Filter(("metadata.model", "==", "m0")))) == [3, 9]


def test_sort_response_status_and_metadata_metrics(client, haiku_dataset, argilla_server):
    ds = haiku_dataset(6)
    records = list(ds.records)
    records[2].responses.add(rg.Response("label", "bad", user_id=client.me.id, status="submitted"))
    records[4].responses.add(rg.Response("label", "good", user_id=client.me.id, status="draft"))
    ds.records.log([records[2], records[4]])

    http = httpx.Client(
        base_url=argilla_server["api_url"], headers={"X-Argilla-Api-Key": argilla_server["api_key"]}
    )
    body = {
        "query": {},
        "sort": [{"scope": {"entity": "metadata", "metadata_property": "length"}, "order": "desc"}],
    }
    found = http.post(f"/api/v1/datasets/{ds.id}/records/search", json=body).json()
    assert [item["record"]["external_id"] for item in found["items"]] == ["r5", "r4", "r3", "r2", "r1", "r0"]

    def by_status(*values):
        q = {
            "filters": {
                "and": [
                    {
                        "type": "terms",
                        "scope": {"entity": "response", "property": "status"},
                        "values": list(values),
                    }
                ]
            }
        }
        items = http.post(f"/api/v1/datasets/{ds.id}/records/search", json=q).json()["items"]
        return sorted(item["record"]["external_id"] for item in items)

    assert by_status("submitted") == ["r2"]
    assert by_status("draft") == ["r4"]
    assert by_status("pending") == ["r0", "r1", "r3", "r5"]
    assert by_status("pending", "draft") == ["r0", "r1", "r3", "r4", "r5"]

    props = {
        p["name"]: p["id"]
        for p in http.get(f"/api/v1/me/datasets/{ds.id}/metadata-properties").json()["items"]
    }
    length = http.get(f"/api/v1/metadata-properties/{props['length']}/metrics").json()
    assert (length["min"], length["max"]) == (0, 5)
    model = http.get(f"/api/v1/metadata-properties/{props['model']}/metrics").json()
    assert model["total"] == 6
    assert {v["term"]: v["count"] for v in model["values"]} == {"m0": 2, "m1": 2, "m2": 2}


def test_vector_similarity(haiku_dataset):
    ds = haiku_dataset(6, vectors=True)
    similar = list(ds.records(query=rg.Query(similar=rg.Similar(name="emb", value=[1.0, 4.2, 0.0])), limit=3))
    assert [record.id for record, _ in similar] == ["r4", "r5", "r3"]  # cosine: closest direction first
    scores = [score for _, score in similar]
    assert 1.0 >= scores[0] > scores[1] > scores[2] > 0.5
    query = rg.Query(similar=rg.Similar(name="emb", value=[1.0, 4.2, 0.0], most_similar=False))
    assert [record.id for record, _ in ds.records(query=query, limit=1)] == ["r0"]


def test_validation_and_webhooks_behave_as_stock_argilla(haiku_dataset, argilla_server):
    """The logging speed-ups (speedups.py) keep argilla's validation and its webhooks."""
    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    http = httpx.Client(
        base_url=argilla_server["api_url"], headers={"X-Argilla-Api-Key": argilla_server["api_key"]}
    )
    hook = http.post(
        "/api/v1/webhooks",
        json={"url": f"http://127.0.0.1:{server.server_port}/", "events": ["record.created"]},
    ).json()
    try:
        ds = haiku_dataset(2)
        deadline = time.monotonic() + 30
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(e["data"]["external_id"] for e in received) == ["r0", "r1"]
        assert {e["type"] for e in received} == {"record.created"}
    finally:
        http.delete(f"/api/v1/webhooks/{hook['id']}")
        server.shutdown()

    bad = rg.Record(
        fields={"prompt": "p", "completion": "c"}, suggestions=[rg.Suggestion("label", "maybe")], id="bad"
    )
    with pytest.raises(Exception, match="maybe"):
        ds.records.log([bad])
    bad_meta = rg.Record(fields={"prompt": "p", "completion": "c"}, metadata={"length": "long"}, id="bad2")
    with pytest.raises(Exception, match="length"):
        ds.records.log([bad_meta])
    assert len(list(ds.records)) == 2


def test_text_query_in_any_script(haiku_dataset):
    ds = haiku_dataset(0)
    texts = ["Canción de OTOÑO", "古池や蛙飛び込む水の音", "ÉTÉ_100% chaud"]
    ds.records.log(
        [rg.Record(fields={"prompt": t, "completion": "-"}, id=f"t{i}") for i, t in enumerate(texts)]
    )

    def found(q):
        return sorted(r.id for r in ds.records(query=rg.Query(query=q)))

    assert found("otoño") == ["t0"]  # case folded beyond ASCII
    assert found("蛙") == ["t1"]
    assert found("été_100%") == ["t2"]  # LIKE wildcards in the query are plain characters
    assert found("100") == ["t2"]
    assert found("_1") == ["t2"]
    assert found("%") == ["t2"]
    assert found("otoñx") == []
