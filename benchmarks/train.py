"""train_kto.py vs TRL's own KTO script: steps/s, tokens/s and peak memory, same model/data/settings.

    .venv/bin/python benchmarks/train.py [--language ja] [--steps 20] [--repeats 2] [--batch 8]

Both scripts run as subprocesses on the kit's tiny model and one conversational KTO dataset (JSONL,
loaded by both with `datasets.load_dataset(dir)`), with the same TRL flags and explicit weights, so
the only difference is the kit's code around TRL. Runs alternate (TRL, kit, TRL, kit...) so machine
load hits both alike; the verdict compares the best run of each (medians shown too). Steps/s and
tokens/s come from the trainer's own final log (train_steps_per_second, num_tokens / train_runtime);
peak memory is each process's maximum RSS (os.wait4).
The target: the kit within 5 % of TRL.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def default_language() -> str:
    from ktokit.console import KitError
    from ktokit.packs.languages import load_pack, pack_codes

    for code in ["en", *pack_codes()]:
        try:
            pack = load_pack(code)
        except KitError:  # a broken pack is not a benchmark's
            continue
        if len(pack.examples) >= 10 and len(pack.prompts) >= 40:
            return code
    raise SystemExit("no language pack with 10+ examples and 40+ prompts to build the benchmark data from")


def write_dataset(language: str, folder: Path, rows: int = 64) -> Path:
    """Conversational KTO rows (so neither script reformats them): good = pack examples, bad = broken ones."""
    from ktokit.packs.languages import load_pack

    pack = load_pack(language)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "train.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(rows):
            prompt = pack.prompts[i % len(pack.prompts)]
            example = pack.examples[i % len(pack.examples)]
            good = i % 2 == 0
            completion = example if good else " ".join(example.split("\n"))[::-1]
            fh.write(
                json.dumps(
                    {
                        "prompt": pack.messages(prompt),
                        "completion": [{"role": "assistant", "content": completion}],
                        "label": good,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    return folder


def common_args(model: str, data: Path, steps: int, batch: int, cpu: bool) -> list[str]:
    args = [
        "--model_name_or_path",
        model,
        "--dataset_name",
        str(data),
        "--dtype",
        "float32",
        "--use_peft",
        "true",
        "--lora_r",
        "8",
        "--lora_alpha",
        "16",
        "--lora_dropout",
        "0.0",
        "--lora_target_modules",
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "--per_device_train_batch_size",
        str(batch),
        "--max_steps",
        str(steps),
        "--learning_rate",
        "5e-4",
        "--beta",
        "0.1",
        "--max_length",
        "256",
        "--desirable_weight",
        "1.0",
        "--undesirable_weight",
        "1.0",
        "--logging_steps",
        str(max(1, steps // 4)),
        "--save_strategy",
        "no",
        "--report_to",
        "none",
        "--seed",
        "0",
        "--gradient_checkpointing",
        "false",
        "--disable_tqdm",
        "true",
    ]
    return args + (["--use_cpu", "true", "--bf16", "false"] if cpu else ["--bf16", "false"])


def run_one(cmd: list[str], env: dict) -> dict:
    """Run one training script; its final train metrics, wall time and peak RSS."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[1]} failed ({proc.returncode}):\n{text[-3000:]}")
    final = [m for m in re.finditer(r"\{[^{}]*'train_runtime'[^{}]*\}", text)]
    if not final:
        raise SystemExit(f"no final metrics in the output of {cmd[1]}:\n{text[-2000:]}")
    fields = dict(re.findall(r"'(\w+)': '?([-+\d.e]+)'?", final[-1].group(0)))
    num_tokens = [float(t) for t in re.findall(r"'num_tokens': '?([-+\d.e]+)'?", text)]
    runtime = float(fields["train_runtime"])
    out = {
        "steps_per_s": float(fields["train_steps_per_second"]),
        "train_runtime_s": runtime,
        "tokens_per_s": (num_tokens[-1] / runtime) if num_tokens else None,
        "wall_s": wall,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--language", help="pack for the tiny model and data (default: en, else the first usable)"
    )
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=8, help="per-device batch size")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each script, alternating")
    parser.add_argument(
        "--threads", type=int, help="torch threads per run (OMP_NUM_THREADS); 1 steadies a busy CPU"
    )
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)

    import torch
    import trl.scripts.kto as trl_kto

    from ktokit.generate.tiny import tiny_model

    language = args.language or default_language()
    model = str(tiny_model(language, progress=False))
    cpu = not torch.cuda.is_available()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    results: dict[str, list[dict]] = {"trl": [], "ktokit": []}
    with tempfile.TemporaryDirectory() as tmp:
        data = write_dataset(language, Path(tmp) / "kto")
        common = common_args(model, data, args.steps, args.batch, cpu)
        scripts = {
            "trl": [sys.executable, trl_kto.__file__, "--output_dir", f"{tmp}/trl", *common],
            "ktokit": [sys.executable, str(ROOT / "train_kto.py"), "--output_dir", f"{tmp}/kit", *common],
        }
        for i in range(args.repeats):
            for name, cmd in scripts.items():
                results[name].append(run_one(cmd, env))
                r = results[name][-1]
                print(
                    f"run {i + 1} {name:7s} {r['steps_per_s']:.3f} steps/s  "
                    f"{r['tokens_per_s'] or 0:.0f} tok/s  "
                    f"peak RSS {r['peak_rss_mb']:.0f} MB  wall {r['wall_s']:.1f} s",
                    flush=True,
                )

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    def best(name: str, key: str) -> float:
        return max(r[key] for r in results[name])

    device = torch.cuda.get_device_name(0) if not cpu else f"CPU ({os.cpu_count()} cores)"
    print(
        f"\ntiny model {language} ({Path(model).name}), batch {args.batch}, {args.steps} steps, "
        f"{args.repeats} runs each, {device}" + (f", {args.threads} thread(s)" if args.threads else "") + "\n"
    )
    print("| Script | best steps/s | median steps/s | median tokens/s | peak RSS (MB) | median wall (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, label in (("trl", "trl/scripts/kto.py"), ("ktokit", "train_kto.py")):
        print(
            f"| {label} | {best(name, 'steps_per_s'):.3f} | {med(name, 'steps_per_s'):.3f} | "
            f"{med(name, 'tokens_per_s'):.0f} | {max(r['peak_rss_mb'] for r in results[name]):.0f} | "
            f"{med(name, 'wall_s'):.1f} |"
        )
    # The verdict uses the medians of runs taken in alternation: a ratio of two best-of-N figures
    # hangs on one outlier run (TRL's own runs spread by ~7 % on this machine). Both are printed.
    ratio = med("ktokit", "steps_per_s") / med("trl", "steps_per_s")
    best_ratio = best("ktokit", "steps_per_s") / best("trl", "steps_per_s")
    spread = {
        n: (max(r["steps_per_s"] for r in results[n]) / min(r["steps_per_s"] for r in results[n]) - 1)
        for n in results
    }
    verdict = "within" if ratio >= 0.95 else "NOT within"
    print(
        f"\ntrain_kto.py: {ratio:.1%} of TRL's steps/s, median of {args.repeats} ({verdict} the 5 % target); "
        f"best of {args.repeats}: {best_ratio:.1%}; run-to-run spread: TRL {spread['trl']:.0%}, "
        f"kit {spread['ktokit']:.0%}"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "language": language,
                    "device": device,
                    "steps": args.steps,
                    "batch": args.batch,
                    "runs": results,
                    "ratio": ratio,
                    "best_ratio": best_ratio,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
