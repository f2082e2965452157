"""Benchmark: the kit's generation against the recipe's way (one request at a time).

200 prompts x 3 models against the scripted OpenAI-compatible server (tests/scripted_openai.py, run in its
own process) answering each request after 100 ms. The kit runs with the shipped default model set's
limits (8 requests in flight per model, batches of 32), pointed at the double; the recipe's way sends
the same 600 requests one after the other. Both wall times are measured in the same run.

    .venv/bin/python benchmarks/generation.py [--prompts 200] [--latency 0.1] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ktokit.generate import load_model_set, prepare, run_plan  # noqa: E402
from ktokit.packs.counting import get_counter  # noqa: E402
from ktokit.packs.languages import load_pack  # noqa: E402


def start_double(port: int, latency: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "scripted_openai.py"),
            "--port",
            str(port),
            "--latency",
            str(latency),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    proc.stdout.readline()  # the "listening" line
    return proc


def one_at_a_time(base_url: str, models: list[str], messages: list[list[dict]], max_tokens: int) -> float:
    """The recipe's way: every request waits for the previous one."""
    start = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for model in models:
            for chat in messages:
                r = client.post(
                    "/chat/completions", json={"model": model, "messages": chat, "max_tokens": max_tokens}
                )
                r.raise_for_status()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=None, help="default: the default model set's")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    pack = load_pack("en")
    pack.prompts = [f"Write a haiku about the sea, variation {i}." for i in range(args.prompts)]
    shipped = load_model_set("default")
    base_url = f"http://127.0.0.1:{args.port}/v1"
    models = [
        replace(m, backend="openai", base_url=base_url, concurrency=args.concurrency or m.concurrency)
        for m in shipped.models
    ]
    model_set = replace(shipped, models=models)
    # Loading the pack's syllable counter is a one-off cost of the form check, the same for any way of
    # sending requests (the English dictionary: seconds); it is paid here, before the clocks start.
    # Importing distilabel is likewise paid once per process (both ways would pay it).
    start = time.perf_counter()
    get_counter(pack.form.counter).count("warm up")
    import ktokit.generate.pipeline  # noqa: F401

    counter_load = time.perf_counter() - start
    double = start_double(args.port, args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            plan = prepare(pack, model_set, pack.prompts, Path(tmp) / "generations")
            start, cpu = time.perf_counter(), time.process_time()
            result = run_plan(plan)
            kit, kit_cpu = time.perf_counter() - start, time.process_time() - cpu
        failures = sum(s["failures"] for s in result.stats.values())
        sequential = one_at_a_time(
            base_url,
            [m.model for m in models],
            [pack.messages(p) for p in pack.prompts],
            models[0].generation.get("max_new_tokens", 128),
        )
    finally:
        double.terminate()
        double.wait()
    n = args.prompts * len(models)
    print(
        f"{args.prompts} prompts x {len(models)} models = {n} requests, "
        f"{args.latency * 1000:.0f} ms per request (scripted server), "
        f"kit concurrency {models[0].concurrency} per model"
    )
    print(
        f"counter load ({pack.form.counter}) + distilabel import, once per process, before the clocks: "
        f"{counter_load:.2f} s"
    )
    print(
        f"kit (local runner):          {kit:6.2f} s  ({n / kit:6.1f} requests/s, {failures} failures, "
        f"{kit_cpu:.2f} s CPU in this process)"
    )
    print(f"recipe (one at a time):      {sequential:6.2f} s  ({n / sequential:6.1f} requests/s)")
    print(f"speed-up:                    {sequential / kit:6.1f}x")
    print(
        json.dumps(
            {
                "requests": n,
                "latency_s": args.latency,
                "concurrency": models[0].concurrency,
                "kit_s": round(kit, 2),
                "kit_cpu_s": round(kit_cpu, 2),
                "one_at_a_time_s": round(sequential, 2),
                "speedup": round(sequential / kit, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
