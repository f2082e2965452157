"""Benchmark: export_kto.py on 20,000 records with 2 submitted responses each, on the local server.

    python benchmarks/export.py [--records 20000] [--keep]

Starts a throwaway local Argilla server (temp data dir, free port), creates the task the way
create_task.py does (en pack, 4 models per prompt), and logs the records with two annotators'
submitted 👍/👎 already attached (`dataset.records.log`; this setup is timed but is not the figure).
Then times `python export_kto.py --language en --dpo --raw --test_size 0.1` end to end as a user
runs it (interpreter start and imports included), and the library's phases in-process: reading
the records, aggregating and shaping, writing. Target: the end-to-end export under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import argilla as rg

from ktokit.annotate.argilla_local import manager
from ktokit.annotate.task import record_id, task_template
from ktokit.packs.languages import load_pack

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("model-a", "model-b", "model-c", "model-d")
GOOD_RATE = {"model-a": 0.75, "model-b": 0.6, "model-c": 0.45, "model-d": 0.3}


def records(pack, n: int, users: list[str], seed: int = 0) -> list[rg.Record]:
    """n records, 4 per prompt; annotator 1 votes by the model's rate, annotator 2 agrees 80 % of the time."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        prompt = f"{pack.prompts[(i // 4) % len(pack.prompts)]} ({i // 4})"
        model = MODELS[i % 4]
        completion = f"{pack.examples[i % len(pack.examples)]}\n({i})"
        first = "good" if rng.random() < GOOD_RATE[model] else "bad"
        second = first if rng.random() < 0.8 else ("bad" if first == "good" else "good")
        out.append(
            rg.Record(
                id=record_id(pack.code, prompt, completion),
                fields={"prompt": prompt, "completion": completion},
                metadata={"model": [model], "language": pack.code},
                responses=[
                    rg.Response("label", first, user_id=users[0], status="submitted"),
                    rg.Response("label", second, user_id=users[1], status="submitted"),
                ],
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="leave the server running and print its data dir")
    args = parser.parse_args()

    from ktokit.annotate.credentials import save_target
    from ktokit.annotate.task import ensure_dataset
    from ktokit.export.build import build_export
    from ktokit.export.read import connect, fetch_records
    from ktokit.export.write import write_export

    tmp = Path(tempfile.mkdtemp(prefix="ktokit-bench-export-"))
    data_dir, config = tmp / "argilla", tmp / "config"
    os.environ["KTOKIT_CONFIG_DIR"] = str(config)
    creds = manager.up(data_dir, port=manager.free_port(), say=lambda _m: None)
    try:
        client = rg.Argilla(api_url=creds["api_url"], api_key=creds["api_key"], timeout=300)
        pack = load_pack("en")
        template = task_template(pack, min_submitted=2, dataset="haiku-en-bench", workspace="en")
        dataset, _ = ensure_dataset(client, template)
        users = []
        for name in ("bench-a", "bench-b"):
            manager.add_annotator(name, workspace="en", data_dir=data_dir)
            users.append(str(client.users(username=name).id))
        save_target(
            "en", {"kind": "local", "data_dir": str(data_dir), "workspace": "en", "dataset": "haiku-en-bench"}
        )

        start = time.perf_counter()
        batch = records(pack, args.records, users)
        for i in range(0, len(batch), 500):
            dataset.records.log(batch[i : i + 500], batch_size=500)
        setup = time.perf_counter() - start
        print(
            f"setup: {args.records} records with 2 submitted responses each logged in {setup:.1f} s "
            f"({args.records / setup:.0f} records/s)"
        )

        out = tmp / "kto"
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                str(ROOT / "export_kto.py"),
                "--language",
                "en",
                "--dpo",
                "--raw",
                "--test_size",
                "0.1",
                "--output_dir",
                str(out),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=os.environ.copy(),
        )
        wall = time.perf_counter() - start
        if proc.returncode:
            sys.exit(f"export failed:\n{proc.stderr}")
        print(proc.stdout.rstrip())
        print(
            f"export_kto.py end to end: {wall:.1f} s, {args.records / wall:.0f} records/s "
            f"(target < 60 s: {'met' if wall < 60 else 'MISSED'})"
        )

        client2, ds, _ = connect("en")
        t0 = time.perf_counter()
        fetched = fetch_records(client2, ds, "en")
        t1 = time.perf_counter()
        export = build_export(fetched, pack, dataset="en/haiku-en-bench", dpo=True, raw=True, test_size=0.1)
        t2 = time.perf_counter()
        write_export(tmp / "kto-2", export.kto, export.summary, dpo=export.dpo, raw=export.raw)
        t3 = time.perf_counter()
        print(
            f"in-process: read {t1 - t0:.1f} s ({len(fetched) / (t1 - t0):.0f} records/s), "
            f"aggregate+shape {t2 - t1:.1f} s, write {t3 - t2:.1f} s"
        )
    finally:
        if args.keep:
            print(f"server left running; data dir {data_dir}")
        else:
            manager.down(data_dir, say=lambda _m: None)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
