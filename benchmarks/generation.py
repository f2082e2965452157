"""Benchmark: the kit's runners against the recipe's way (one request at a time).

200 prompts x 3 models against the scripted OpenAI-compatible server (tests/scripted_openai.py, run in its
own process) answering each request after 100 ms. The kit runs with the shipped default model set's
limits (requests in flight per model, batches of 32), pointed at that server, once per runner: `local`
(in-process), `distilabel` (distilabel's multi-process runner) and `ray` (distilabel's Ray pipeline, a
local Ray started for the run, or `--ray_address`'s cluster; left out when Ray is not installed). The
recipe's way sends the same 600 requests one after the other. Every wall time is measured in the same run.

    .venv/bin/python benchmarks/generation.py [--prompts 200] [--latency 0.1] [--concurrency 10]
        [--runners local,distilabel,ray] [--ray_address HOST:PORT] [--replicas N]
"""

from __future__ import annotations

import argparse
import importlib.util
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
from ktokit.quiet import quiet_libraries  # noqa: E402


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
    parser.add_argument("--runners", default="local,distilabel,ray", help="comma-separated, in this order")
    parser.add_argument("--ray_address", default=None, help="a Ray cluster to join (default: a local Ray)")
    parser.add_argument("--replicas", type=int, default=1, help="replicas of each model's step (ray)")
    args = parser.parse_args()
    quiet_libraries()  # distilabel's and Ray's logs, as a run of preference_gen.py shows them (not at all)
    runners = args.runners.split(",")
    if "ray" in runners and importlib.util.find_spec("ray") is None:
        print("ray is not installed (pip install -e .[ray]): the ray runner is left out", file=sys.stderr)
        runners.remove("ray")

    pack = load_pack("en")
    pack.prompts = [f"Write a haiku about the sea, variation {i}." for i in range(args.prompts)]
    shipped = load_model_set("default")
    base_url = f"http://127.0.0.1:{args.port}/v1"
    models = [
        replace(
            m,
            backend="openai",
            base_url=base_url,
            concurrency=args.concurrency or m.concurrency,
            replicas=args.replicas,
        )
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
    timings = {}
    try:
        for runner in runners:
            with tempfile.TemporaryDirectory() as tmp:
                plan = prepare(
                    pack,
                    model_set,
                    pack.prompts,
                    Path(tmp) / "generations",
                    runner=runner,
                    ray_address=args.ray_address,
                )
                start, cpu = time.perf_counter(), time.process_time()
                result = run_plan(plan)
                wall, used = time.perf_counter() - start, time.process_time() - cpu
            failures = sum(s["failures"] for s in result.stats.values())
            timings[runner] = (wall, used, failures, len(result.new_rows))
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
    for runner, (wall, used, failures, rows) in timings.items():
        label = (
            f"kit ({runner} runner"
            + (f", {args.replicas} replicas" if runner == "ray" and args.replicas > 1 else "")
            + "):"
        )
        print(
            f"{label:<29}{wall:6.2f} s  ({n / wall:6.1f} requests/s, {rows} rows, {failures} failures, "
            f"{used:.2f} s CPU in this process)"
        )
    print(f"{'recipe (one at a time):':<29}{sequential:6.2f} s  ({n / sequential:6.1f} requests/s)")
    for runner, (wall, *_rest) in timings.items():
        print(f"speed-up, {runner + ':':<19}{sequential / wall:6.1f}x")
    print(
        json.dumps(
            {
                "requests": n,
                "latency_s": args.latency,
                "concurrency": models[0].concurrency,
                "replicas": args.replicas,
                **{f"{runner}_s": round(wall, 2) for runner, (wall, *_r) in timings.items()},
                **{f"{runner}_cpu_s": round(used, 2) for runner, (_w, used, *_r) in timings.items()},
                "one_at_a_time_s": round(sequential, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
