"""Benchmark: the local Argilla server (SQLite search engine) at campaign size (50,000 records).

    OMP_NUM_THREADS=1 python benchmarks/argilla_local.py [--records 50000] [--grow-to 0] [--runs 30]

Starts a throwaway server (temp data dir, free port), bulk-loads `--records` kit-shaped records
with `dataset.records.log` in the kit's batches of 256 (records/s), has an annotator answer 50
through the UI's endpoints, then times, end to end over HTTP, what the UI and the SDK do most: an
annotator's "next pending record" (the UI's queue search, limit 1), a text search in the
annotator's queue (the UI's search box: a term that matches a few records, one that matches all), the
dataset's progress (owner) and the annotator's own metrics. `--grow-to N` then grows the dataset to N
records by copying rows straight into the SQLite file (10 % answered by the annotator) and times
again. Targets at 50,000 records on 2 cores: bulk load >= 500 records/s, next record <= 50 ms,
text search <= 100 ms, progress <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's kit (and its search engine), not another install's

import argilla as rg  # noqa: E402
import httpx  # noqa: E402
from tqdm import tqdm  # noqa: E402

from ktokit.annotate.argilla_local import manager  # noqa: E402

QUEUE = {
    "query": {},
    "filters": {
        "and": [
            {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]},
            {"type": "terms", "scope": {"entity": "record", "property": "status"}, "values": ["pending"]},
        ]
    },
}


def timed(fn, runs: int) -> tuple[float, float]:
    """Median and 95th percentile in ms (one warm-up call first)."""
    fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def make_dataset(client: rg.Argilla, n: int) -> tuple[rg.Dataset, float]:
    workspace = rg.Workspace(name="bench", client=client).create()
    settings = rg.Settings(
        fields=[rg.TextField(name="prompt", client=client), rg.TextField(name="completion", client=client)],
        questions=[rg.LabelQuestion(name="label", labels={"good": "👍", "bad": "👎"}, client=client)],
        metadata=[rg.TermsMetadataProperty(name="model", client=client)],
        distribution=rg.TaskDistribution(min_submitted=2),
    )
    ds = rg.Dataset(name="haiku-bench", workspace=workspace.name, settings=settings, client=client).create()
    return ds, log_records(ds, n)


def log_records(ds: rg.Dataset, n: int, batch: int = 256) -> float:
    """Log `n` records in the kit's batches (ktokit.annotate.task.log_new_records); returns records/s."""
    records = [
        rg.Record(
            fields={
                "prompt": f"Write a haiku about the {i}th morning of autumn",
                "completion": "Old pond, still water\na frog leaps into the dark\nsplash, then silence",
            },
            metadata={"model": f"model-{i % 4}"},
            suggestions=[rg.Suggestion("label", "good" if i % 3 else "bad", score=0.9, agent="form-check")],
            id=f"rec-{i}",
        )
        for i in range(n)
    ]
    t = time.perf_counter()
    for start in tqdm(range(0, n, batch), desc="bulk load", unit="batch", leave=False):
        ds.records.log(records[start : start + batch], batch_size=batch)
    return n / (time.perf_counter() - t)


def grow(db_path: Path, dataset_id: str, target: int, user_id: str, answered: float) -> None:
    """Copy the dataset's rows (records + suggestions) until it holds `target` records."""
    ds = dataset_id.replace("-", "")
    uid = user_id.replace("-", "")
    with sqlite3.connect(db_path, timeout=60) as db:
        rows = db.execute(
            "SELECT r.id, r.fields, r.metadata, r.inserted_at, s.value, s.score, s.agent, s.type,"
            " s.question_id FROM records r JOIN suggestions s ON s.record_id = r.id WHERE r.dataset_id = ?",
            (ds,),
        ).fetchall()
        have = db.execute("SELECT count(*) FROM records WHERE dataset_id = ?", (ds,)).fetchone()[0]
        records, suggestions, responses = [], [], []
        for k in range(target - have):
            _, fields, metadata, inserted, value, score, agent, type_, question = rows[k % len(rows)]
            rid = uuid.uuid4().hex
            records.append((rid, fields, metadata, "pending", f"copy-{k}", ds, inserted, inserted))
            suggestions.append(
                (uuid.uuid4().hex, value, score, agent, type_, rid, question, inserted, inserted)
            )
            if k % int(1 / answered) == 0:
                values = json.dumps({"label": {"value": "good"}})
                responses.append((uuid.uuid4().hex, values, "submitted", rid, uid, inserted, inserted))
        db.executemany(
            "INSERT INTO records (id, fields, metadata, status, external_id, dataset_id, inserted_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            records,
        )
        db.executemany(
            "INSERT INTO suggestions (id, value, score, agent, type, record_id, question_id, inserted_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            suggestions,
        )
        db.executemany(
            'INSERT INTO responses (id, "values", status, record_id, user_id, inserted_at, updated_at)'
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            responses,
        )


def measure(label: str, owner: httpx.Client, annotator: httpx.Client, dataset_id: str, runs: int) -> None:
    def next_pending():
        r = annotator.post(
            f"/api/v1/me/datasets/{dataset_id}/records/search", params={"limit": 1}, json=QUEUE
        )
        r.raise_for_status()
        assert r.json()["items"], "empty queue"

    def text_search(term: str):  # the UI's search box over the annotator's queue
        def search():
            r = annotator.post(
                f"/api/v1/me/datasets/{dataset_id}/records/search",
                params={"limit": 10},
                json={**QUEUE, "query": {"text": {"q": term}}},
            )
            r.raise_for_status()

        return search

    def progress():
        owner.get(f"/api/v1/datasets/{dataset_id}/progress").raise_for_status()

    def my_metrics():
        annotator.get(f"/api/v1/me/datasets/{dataset_id}/metrics").raise_for_status()

    total = owner.get(f"/api/v1/datasets/{dataset_id}/progress").json()["total"]
    pending = annotator.post(
        f"/api/v1/me/datasets/{dataset_id}/records/search", params={"limit": 1}, json=QUEUE
    ).json()["total"]
    for name, fn in (
        ("next pending record", next_pending),
        ("text search, rare", text_search("4321th")),  # a few records at 50,000
        ("text search, common", text_search("autumn")),  # every record
        ("dataset progress", progress),
        ("my metrics", my_metrics),
    ):
        median, p95 = timed(fn, runs)
        print(f"{label:>14} | {total:>7} records ({pending} pending for the annotator) | {name:<19} |"
              f" median {median:6.1f} ms | p95 {p95:6.1f} ms", flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50000, help="records bulk-loaded through the API")
    parser.add_argument("--grow-to", type=int, default=0, help="then grow to N records in SQLite (0: no)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--data-dir", help="keep the server's data here (default: a temp dir, removed)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ktokit-bench-") as tmp:
        data_dir = Path(args.data_dir) if args.data_dir else Path(tmp) / "argilla"
        creds = manager.up(data_dir, port=manager.free_port())
        try:
            client = rg.Argilla(api_url=creds["api_url"], api_key=creds["api_key"], timeout=300)
            ds, rate = make_dataset(client, args.records)
            print(f"dataset.records.log: {args.records} records at {rate:.0f} records/s", flush=True)

            user = manager.add_annotator("bench-annotator", workspace="bench", data_dir=data_dir)
            token = httpx.post(f"{creds['api_url']}/api/v1/token", data=user).json()["access_token"]
            annotator = httpx.Client(
                base_url=creds["api_url"], headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
            owner = httpx.Client(
                base_url=creds["api_url"], headers={"X-Argilla-Api-Key": creds["api_key"]}, timeout=60
            )
            dataset_id = str(ds.id)
            for _ in range(50):  # the annotator has answered a few through the UI's endpoints
                queue = annotator.post(
                    f"/api/v1/me/datasets/{dataset_id}/records/search", params={"limit": 1}, json=QUEUE
                ).json()
                record_id = queue["items"][0]["record"]["id"]
                annotator.post(
                    f"/api/v1/records/{record_id}/responses",
                    json={"values": {"label": {"value": "good"}}, "status": "submitted"},
                ).raise_for_status()
            measure(f"{args.records // 1000}k", owner, annotator, dataset_id, args.runs)
            if args.grow_to <= args.records:
                return
            me = annotator.get("/api/v1/me").json()["id"]
            t = time.perf_counter()
            grow(data_dir / "argilla.db", dataset_id, args.grow_to, me, answered=0.1)
            print(
                f"(grew the dataset to {args.grow_to} records in SQLite in {time.perf_counter() - t:.1f} s)"
            )
            measure(f"{args.grow_to // 1000}k", owner, annotator, dataset_id, args.runs)
        finally:
            manager.down(data_dir, say=lambda _: None)


if __name__ == "__main__":
    main()
