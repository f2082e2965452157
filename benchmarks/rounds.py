"""Does a second round build on the first? Two rounds of the flow on the local target, through the kit's
own commands, and base, round 1 and round 2 compared on held-out prompts.

    .venv/bin/python benchmarks/rounds.py --language en [--round1 48] [--round2 80] [--workdir DIR]

In a folder of its own (its own Argilla server, credentials and outputs):

  round 1: preference_gen.py (offline tiny models, the first --round1 prompts) → create_task.py --local
           --round 1 → simulated raters (👍 for a form-check pass, 15 % noise) → export_kto.py
           → train_kto.py --config recipes/cpu-learning.yaml --eval                      (round 1)
  round 2: preference_gen.py with a model set that adds the round-1 model (the tiny base with the
           round-1 adapter) on the first --round2 prompts, into a folder of its own
           → create_task.py --round 2 (only answers not in the dataset yet) → the same raters on them
           → export_kto.py (both rounds) → train_kto.py --adapter <round 1>       (round 2, from round 1)
                                             → train_kto.py from the base            (round 2, from the base)

Every model is scored on the same held-out prompts (the pack's last --eval_prompts, never generated
for), same seeds: the form score with a 95 % bootstrap CI over prompts, and each gain over the base
paired by prompt. Then the blind arena: the demo Space's real app, once per tuned model against the
base, with simulated visitors (the form-keeping answer preferred, --noise of verdicts at random)
voting over HTTP, and `ktokit arena`'s Bradley-Terry ratings over all verdicts.

The last lines are a Markdown table (the one in the README) and the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

MODELS = ("base", "round 1", "round 2", "round 2 (from base)")


def round_two_set(models: str, adapter: Path, name: str, out: Path) -> Path:
    """The round-one model set with the round-one model beside its models (a model set's `adapter:`)."""
    from ktokit.generate.models import MODEL_SETS_DIR

    source = Path(models) if Path(models).is_file() else MODEL_SETS_DIR / f"{models}.yaml"
    spec = yaml.safe_load(source.read_text(encoding="utf-8"))
    spec["models"].append({"name": name, "model": "tiny", "adapter": str(adapter)})
    out.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return out


def scores_by_prompt(model_dir: Path, which: str) -> dict[str, float]:
    """Each held-out prompt's mean form score (over seeds) for `which` (base or tuned) of an evaluation."""
    by_prompt: dict[str, list[float]] = {}
    for line in (model_dir / "eval" / "completions.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["model"] == which:
            by_prompt.setdefault(row["prompt"], []).append(row["score"])
    return {p: sum(s) / len(s) for p, s in by_prompt.items()}


def mean_ci(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95 % percentile bootstrap CI over prompts (scipy, seeded)."""
    from scipy import stats

    ci = stats.bootstrap(
        (values,), np.mean, n_resamples=2000, confidence_level=0.95, method="percentile", rng=0
    ).confidence_interval
    return float(np.mean(values)), float(ci.low), float(ci.high)


def paired(a: dict[str, float], b: dict[str, float]) -> tuple[float, float, float]:
    """b - a on the prompts both were scored on, with its 95 % CI (paired by prompt)."""
    return mean_ci([b[p] - a[p] for p in sorted(a) if p in b])


def train(args: argparse.Namespace, dataset: Path, out: Path, *start: str) -> None:
    from ktokit.demo.walkthrough import run_step

    eval_flags = ["--eval", "--eval_prompts", str(args.eval_prompts), "--eval_seeds", str(args.eval_seeds)]
    run_step(
        "train_kto.py",
        *("--config", args.recipe, "--language", args.language),
        *("--dataset_name", str(dataset), "--output_dir", str(out)),
        *start,
        *eval_flags,
    )


def run_rounds(work: Path, args: argparse.Namespace) -> dict:
    """Both rounds, trained and scored; returns the figures."""
    from ktokit.annotate.argilla_local import down, ensure_running
    from ktokit.annotate.argilla_local.processes import free_port
    from ktokit.campaign.arena import arena_for, summary_line
    from ktokit.demo.walkthrough import held_out, run_step, simulate_ratings, visit_arena

    lang, argilla = args.language, work / "argilla"
    gen = ["preference_gen.py", "--language", lang]
    task = ["create_task.py", "--language", lang, "--local", "--argilla_dir", str(argilla), "--generations"]
    ensure_running(argilla, port=free_port())  # a server of its own, beside yours; create_task finds it
    try:
        print("\n=== round 1", flush=True)
        run_step(*gen, "--sample", str(args.round1), "--models", args.models, "--output", str(work / "gen-1"))
        run_step(*task, str(work / "gen-1"), "--round", "1")
        print(f"{simulate_ratings(lang, noise=args.noise)} simulated ratings", flush=True)
        run_step("export_kto.py", "--language", lang, "--rounds", "1", "--output_dir", str(work / "kto-1"))
        train(args, work / "kto-1", work / "round-1")

        print("\n=== round 2", flush=True)
        both = round_two_set(args.models, work / "round-1", "round-1", work / "round-2-models.yaml")
        # a generations folder per round (one folder holds one model set's run); an answer that round 1
        # already has (the same text) is not added again by create_task
        run_step(*gen, "--sample", str(args.round2), "--models", str(both), "--output", str(work / "gen-2"))
        run_step(*task, str(work / "gen-2"), "--round", "2")
        print(f"{simulate_ratings(lang, noise=args.noise)} simulated ratings", flush=True)
        run_step("export_kto.py", "--language", lang, "--rounds", "1,2", "--output_dir", str(work / "kto-12"))
        train(args, work / "kto-12", work / "round-2", "--adapter", str(work / "round-1"))
        train(args, work / "kto-12", work / "round-2-from-base")

        print("\n=== the blind arena: each tuned model against the base", flush=True)
        recipe = yaml.safe_load((ROOT / args.recipe).read_text(encoding="utf-8"))
        prompts = held_out(work / "round-1") * args.visits
        votes = {}
        for seed, name in enumerate(("round-1", "round-2", "round-2-from-base")):
            votes[name] = visit_arena(
                lang,
                work / name,
                prompts,
                temperature=recipe.get("eval_temperatures", [0.7])[0],
                max_new_tokens=recipe.get("eval_max_new_tokens", 64),
                noise=args.noise,
                seed=seed,
                output=work / f"demo-space-{name}",
            )
        arena = arena_for(lang)
        print(summary_line(arena), flush=True)
    finally:
        down(argilla, say=lambda *a, **k: None)
    rows = json.loads((work / "kto-12" / "export_summary.json").read_text(encoding="utf-8"))
    return {"arena": arena, "votes": {k: len(v) for k, v in votes.items()}, "export": rows}


def table(work: Path, arena: dict) -> list[str]:
    """One row per model: trained on, form score with its CI, gain over the base, arena rating."""
    base = scores_by_prompt(work / "round-1", "base")
    tuned = {
        name: scores_by_prompt(work / name, "tuned") for name in ("round-1", "round-2", "round-2-from-base")
    }
    ratings = {r["model"]: r for r in arena.get("ratings", [])}
    vs_base = {p["tuned"] or p["b"]: p for p in arena["pairs"]}
    rows = [
        ("base", "-", "-", base, None),
        ("round 1", "round 1", "the base", tuned["round-1"], "round-1"),
        ("round 2", "rounds 1+2", "round 1's adapter", tuned["round-2"], "round-2"),
        ("round 2 (from base)", "rounds 1+2", "the base", tuned["round-2-from-base"], "round-2-from-base"),
    ]
    lines = [
        "| model | votes from | training began at | form score (95% CI) | gain over base (95% CI) "
        "| arena score (95% CI) | wins against base (95% CI) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, data, start, scores, folder in rows:
        m, lo, hi = mean_ci(list(scores.values()))
        gain = "-" if folder is None else "{:+.3f} [{:+.3f}, {:+.3f}]".format(*paired(base, scores))
        name = arena_name(arena, folder)
        rating = ratings.get(name)
        score = f"{rating['score']:.0f} [{rating['ci'][0]:.0f}, {rating['ci'][1]:.0f}]" if rating else "-"
        pair = vs_base.get(name)
        wins = "-"
        if pair:
            rate = pair["b_win_rate"] if pair["b"] == name else 1 - pair["b_win_rate"]
            lo_w, hi_w = pair["ci"] if pair["b"] == name else (1 - pair["ci"][1], 1 - pair["ci"][0])
            wins = f"{rate:.0%} [{lo_w:.0%}, {hi_w:.0%}] of {pair['votes']}"
        lines.append(
            f"| {label} | {data} | {start} | {m:.3f} [{lo:.3f}, {hi:.3f}] | {gain} | {score} | {wins} |"
        )
    r1, r2 = tuned["round-1"], tuned["round-2"]
    lines.append("")
    lines.append(
        "round 2 - round 1 form score: {:+.3f} (95% CI [{:+.3f}, {:+.3f}], paired by prompt)".format(
            *paired(r1, r2)
        )
    )
    return lines


def arena_name(arena: dict, folder: str | None) -> str | None:
    """The name the demo Space gave the model tuned into `folder` (the base's name for None)."""
    if folder is None:
        tuned = {p["tuned"] for p in arena["pairs"] if p.get("tuned")}
        return next((m for m in arena["models"] if m not in tuned), None)
    return next((m for m in arena["models"] if f"({folder})" in m), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", default="en", help="a pack code")
    parser.add_argument("--round1", type=int, default=48, help="prompts of round 1 (the pack's first N)")
    parser.add_argument(
        "--round2", type=int, default=80, help="prompts of round 2 (the first N; more than round 1)"
    )
    parser.add_argument(
        "--visits", type=int, default=2, help="blind verdicts per held-out prompt and tuned model"
    )
    from learning import add_flow_options

    add_flow_options(parser, eval_seeds=4, prompts=False)
    args = parser.parse_args()
    if not 0 < args.round1 < args.round2:
        parser.error("--round2 must be more prompts than --round1 (round 2 adds prompts)")
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="ktokit-rounds-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["KTOKIT_CONFIG_DIR"] = str(work / "config")  # create_task records this run's server here
    start = time.perf_counter()
    try:
        result = run_rounds(work, args)
        lines = table(work, result["arena"])
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nrows per round: {result['export'].get('rows_per_round')}; blind verdicts: {result['votes']}")
    print("\n".join(lines))
    print(f"wall {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
