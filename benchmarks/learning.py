"""Do the votes make the model better? The whole flow, through the kit's own commands, per language.

    .venv/bin/python benchmarks/learning.py --language en [--language ja ...] [--all]

For each language, in a folder of its own (its own Argilla server data, credentials and outputs, so
nothing of yours is touched and every run starts from nothing):

  preference_gen.py (offline tiny models, the first --prompts prompts)
  → create_task.py --local → simulated raters (👍 for what passes the form check, 15 % noise)
  → export_kto.py → train_kto.py --config recipes/cpu-learning.yaml --eval   (the tuned model)
  → the same export with every label inverted → train_kto.py ... --eval        (the control)

Both evaluations score the base and the tuned model on the same held-out prompts (the last
--eval_prompts of the pack, none of them trained on), same seeds; the gain's 95 % CI is a paired
bootstrap over prompts. Last line, one per language:

  learning: base B, tuned T (delta D, 95% CI [LO, HI]), flipped F (delta DF, 95% CI [LO2, HI2]),
            N completions each

The target: LO > 0 (the votes help beyond noise) and DF < D (inverted votes do not help as much).
The exit status is 1 when a language misses it.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECIPE = "recipes/cpu-learning.yaml"


def flip_labels(src: Path, dst: Path) -> int:
    """The export with every label inverted (👍 ↔ 👎): the control that must not improve the model."""
    from datasets import load_from_disk

    data = load_from_disk(str(src))
    flipped = data.map(lambda row: {"label": not row["label"]}, desc="flip labels")
    if dst.exists():
        shutil.rmtree(dst)
    flipped.save_to_disk(str(dst))
    return sum(len(split) for split in flipped.values())


def gain_of(model_dir: Path) -> tuple[dict, dict]:
    """(base row, tuned row) of the evaluation train_kto.py --eval wrote."""
    summary = json.loads((model_dir / "eval" / "summary.json").read_text())
    rows = {row["model"]: row for row in summary}
    return rows["base"], rows["tuned"]


def learning_line(base: dict, tuned: dict, flipped: dict) -> str:
    g, f = tuned["gain"], flipped["gain"]
    return (
        f"learning: base {base['form_score']:.4f}, tuned {tuned['form_score']:.4f} "
        f"(delta {g['delta']:+.4f}, 95% CI [{g['ci95'][0]:+.4f}, {g['ci95'][1]:+.4f}]), "
        f"flipped {flipped['form_score']:.4f} (delta {f['delta']:+.4f}, 95% CI [{f['ci95'][0]:+.4f}, "
        f"{f['ci95'][1]:+.4f}]), {tuned['completions']} completions each"
    )


def run_language(language: str, work: Path, args: argparse.Namespace) -> dict:
    """The flow for one language in `work`; returns the figures."""
    from ktokit.annotate.argilla_local import down, ensure_running
    from ktokit.annotate.argilla_local.manager import free_port
    from ktokit.demo.walkthrough import run_step, simulate_ratings

    work.mkdir(parents=True, exist_ok=True)
    os.environ["KTOKIT_CONFIG_DIR"] = str(work / "config")  # where create_task records this run's server
    argilla_dir = work / "argilla"
    eval_flags = ["--eval", "--eval_prompts", str(args.eval_prompts), "--eval_seeds", str(args.eval_seeds)]
    start = time.perf_counter()
    try:
        ensure_running(
            argilla_dir, port=free_port()
        )  # a server of its own, beside yours; create_task finds it
        run_step(
            "preference_gen.py",
            "--language",
            language,
            "--sample",
            str(args.prompts),
            "--models",
            args.models,
            "--output",
            str(work / "generations"),
        )
        run_step(
            "create_task.py",
            "--language",
            language,
            "--local",
            "--argilla_dir",
            str(argilla_dir),
            "--generations",
            str(work / "generations"),
        )
        votes = simulate_ratings(language, noise=args.noise)
        print(f"{votes} simulated ratings (👍 for a form-check pass, {args.noise:.0%} noise)", flush=True)
        run_step("export_kto.py", "--language", language, "--output_dir", str(work / "kto"))
        rows = flip_labels(work / "kto", work / "kto-flipped")
        for name, data in (("tuned", "kto"), ("flipped", "kto-flipped")):
            run_step(
                "train_kto.py",
                "--config",
                args.recipe,
                "--language",
                language,
                "--dataset_name",
                str(work / data),
                "--output_dir",
                str(work / name),
                *eval_flags,
            )
    finally:
        down(argilla_dir, say=lambda *a, **k: None)
    base, tuned = gain_of(work / "tuned")
    base_again, flipped = gain_of(work / "flipped")
    if base_again["form_score"] != base["form_score"]:
        print(
            f"note: the base scored {base_again['form_score']} in the flipped run, "
            f"{base['form_score']} in the tuned one "
            "(same prompts and seeds: sampling differs on this machine)"
        )
    wall = time.perf_counter() - start
    line = learning_line(base, tuned, flipped)
    ok = tuned["gain"]["ci95"][0] > 0 and flipped["gain"]["delta"] < tuned["gain"]["delta"]
    return {
        "language": language,
        "line": line,
        "ok": ok,
        "rows": rows,
        "wall_s": round(wall),
        "base": base,
        "tuned": tuned,
        "flipped": flipped,
    }


def table(results: list[dict]) -> str:
    lines = [
        "| pack | rows | base | tuned | delta (95% CI) | pass base → tuned | flipped | delta (95% CI) "
        "| wall |",
        "|---|---:|---:|---:|---|---|---:|---|---:|",
    ]
    for r in results:
        b, t, f = r["base"], r["tuned"], r["flipped"]
        g, fg = t["gain"], f["gain"]
        lines.append(
            f"| {r['language']} | {r['rows']} | {b['form_score']:.3f} | {t['form_score']:.3f} | "
            f"{g['delta']:+.3f} [{g['ci95'][0]:+.3f}, {g['ci95'][1]:+.3f}] | {b['pass_rate']:.0%} → "
            f"{t['pass_rate']:.0%} | {f['form_score']:.3f} | {fg['delta']:+.3f} [{fg['ci95'][0]:+.3f}, "
            f"{fg['ci95'][1]:+.3f}] | {r['wall_s'] // 60} min {r['wall_s'] % 60:02d} s |"
        )
    return "\n".join(lines)


def add_flow_options(parser: argparse.ArgumentParser, *, eval_seeds: int, prompts: bool = True) -> None:
    """The options of a run of the whole flow (generate, rate, train, evaluate): this benchmark's,
    benchmarks/trust.py's and benchmarks/rounds.py's (which counts prompts per round: `prompts=False`)."""
    if prompts:
        parser.add_argument(
            "--prompts", type=int, default=72, help="prompts generated for and rated (the first N)"
        )
    parser.add_argument("--eval_prompts", type=int, default=40, help="held-out prompts (the pack's last N)")
    parser.add_argument(
        "--eval_seeds", type=int, default=eval_seeds, help="completions per held-out prompt and model"
    )
    parser.add_argument("--models", default="offline", help="model set that generates")
    parser.add_argument("--recipe", default=RECIPE, help="training recipe")
    parser.add_argument(
        "--noise", type=float, default=0.15, help="share of a simulated rater's votes flipped at random"
    )
    parser.add_argument("--workdir", help="keep the run's files here (default: a temporary folder, removed)")


def main() -> int:
    from ktokit.packs.languages import pack_codes

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", action="append", help="a pack code (repeat for several)")
    parser.add_argument("--all", action="store_true", help="every shipped pack")
    add_flow_options(parser, eval_seeds=8)
    args = parser.parse_args()
    languages = pack_codes() if args.all else (args.language or ["en"])
    root = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="ktokit-learning-"))
    results = []
    try:
        for language in languages:
            print(f"\n=== {language}", flush=True)
            results.append(run_language(language, root / language, args))
            print(results[-1]["line"], flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)
    print("\n" + table(results))
    for r in results:
        print(f"[{r['language']}] {r['line']}" if len(results) > 1 else r["line"])
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
