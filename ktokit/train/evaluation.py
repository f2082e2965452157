"""Base vs tuned: generate for held-out prompts, score each output with the pack's form check.

One model load serves both (`ktokit.inference`): the tuned model is the base with its LoRA adapter,
and the base's outputs come from the same weights with the adapter switched off, under the same
seeds. Files written (the results layout of the Haha eval, one file per model, and a summary table):

    completions.jsonl        one row per model x temperature x seed x prompt
    results-<model>.json     {"config": ..., "results": [{"prompt", "settingsResults": [{"temperature",
                             "completions": [seed 1, seed 2, ...], "scores": [...]}]}]}
    summary.json, summary.md form score, pass rate, mean length, per model; tuned - base with a 95 % CI
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ktokit.console import KitError
from ktokit.inference import complete, load_model, model_variants
from ktokit.kto_format import prompt_text
from ktokit.paths import write_json, write_jsonl, write_text

SUMMARY_HEADER = "| Model | Form score | Pass rate | Mean length (chars) | Empty | Completions |"


def held_out_prompts(pack: Any, exclude: Iterable[str] = (), n: int = 8) -> list[str]:
    """Up to `n` pack prompts not seen in training, taken from the end of prompts.txt (deterministic)."""
    seen = {s.strip() for s in exclude}
    fresh = [p for p in pack.prompts if p.strip() not in seen and pack.user_prompt(p).strip() not in seen]
    if not fresh:
        raise KitError(
            f"no held-out prompts: every prompt of pack {pack.code!r} is in the training data; "
            "add prompts to prompts.txt"
        )
    return fresh[-n:] if n > 0 else fresh


def training_prompts(dataset: Any) -> set[str]:
    return {prompt_text(p) for p in dataset["prompt"]}


def summary_by_model(rows: list[dict], names: dict[str, str]) -> list[dict]:
    """Per model: form score, pass rate, mean length, empty answers (scored as failed form checks)."""
    summary = []
    for label in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == label]
        summary.append(
            {
                "model": label,
                "name": names.get(label, label),
                "completions": len(mine),
                "form_score": round(sum(r["score"] for r in mine) / len(mine), 4),
                "pass_rate": round(sum(r["verdict"] == "pass" for r in mine) / len(mine), 4),
                "mean_length": round(sum(r["length"] for r in mine) / len(mine), 1),
                "empty": sum(not r["completion"].strip() for r in mine),
            }
        )
    return summary


def bootstrap_gain(rows: list[dict], *, resamples: int = 2000, seed: int = 0) -> dict | None:
    """Tuned minus base mean form score, with a 95 % bootstrap CI over prompts (paired: each prompt's mean
    over seeds and temperatures, for both models), so two adapters' difference can be told from noise."""
    by_prompt: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        by_prompt.setdefault(r["prompt"], {}).setdefault(r["model"], []).append(r["score"])
    diffs = [
        sum(m["tuned"]) / len(m["tuned"]) - sum(m["base"]) / len(m["base"])
        for m in by_prompt.values()
        if m.get("tuned") and m.get("base")
    ]
    if not diffs:
        return None
    # The percentile interval, not scipy's default BCa: BCa is nan when every prompt has the same difference
    # (a model the adapter did not change, as in docs/train.md). scipy needs two prompts: one is its own CI.
    low = high = diffs[0]
    if len(diffs) > 1:
        ci = stats.bootstrap(
            (diffs,), np.mean, n_resamples=resamples, confidence_level=0.95, method="percentile", rng=seed
        ).confidence_interval
        low, high = float(ci.low), float(ci.high)
    verdict = "a significant gain" if low > 0 else "a significant loss" if high < 0 else "not significant"
    return {
        "delta": round(sum(diffs) / len(diffs), 4),
        "ci95": [round(low, 4), round(high, 4)],
        "prompts": len(diffs),
        "verdict": verdict,
    }


def gain_line(gain: dict) -> str:
    """One line on whether tuning changed the form score beyond noise."""
    low, high = gain["ci95"]
    return (
        f"tuned - base form score: {gain['delta']:+.4f} (95% CI [{low:+.4f}, {high:+.4f}], bootstrap over "
        f"{gain['prompts']} prompts): {gain['verdict']}"
    )


def summary_table(summary: list[dict]) -> str:
    """A Markdown table like the Gemma Haiku Generator's results, one row per model (and the gain's CI)."""
    lines = [SUMMARY_HEADER, "|-------|-----------:|----------:|--------------------:|------:|------------:|"]
    for s in summary:
        lines.append(
            f"| {s['name']} | {s['form_score']:.4f} | {s['pass_rate']:.2%} | {s['mean_length']:.1f} "
            f"| {s['empty']} | {s['completions']} |"
        )
    gains = [s["gain"] for s in summary if s.get("gain")]
    return "\n".join(lines) + "\n" + "".join(f"\n{gain_line(g)}\n" for g in gains)


def evaluate(
    model: Any,
    tokenizer: Any,
    pack: Any,
    prompts: list[str],
    out_dir: str | Path,
    *,
    seeds: int = 2,
    temperatures: Iterable[float] = (0.7,),
    max_new_tokens: int = 64,
    names: dict[str, str] | None = None,
    config: dict | None = None,
    batch_size: int = 16,
) -> list[dict]:
    """Generate settings x seeds x prompts for base (and tuned), score, write the files.

    Returns the summary.
    """
    from ktokit.packs.form import check_form

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = names or {}
    temperatures = list(temperatures)
    was_training = model.training
    model.eval()
    rows: list[dict] = []
    results: dict[str, dict] = {}
    try:
        for label, switch in model_variants(model):
            per_prompt = {p: [] for p in prompts}
            with switch:
                for temperature in temperatures:
                    by_seed = [
                        complete(
                            model,
                            tokenizer,
                            pack,
                            prompts,
                            temperature=temperature,
                            seed=seed,
                            max_new_tokens=max_new_tokens,
                            batch_size=batch_size,
                        )
                        for seed in range(1, seeds + 1)
                    ]
                    for i, prompt in enumerate(prompts):
                        completions = [by_seed[s][i] for s in range(seeds)]
                        checks = [check_form(c, pack.form) for c in completions]
                        per_prompt[prompt].append(
                            {
                                "temperature": temperature,
                                "completions": completions,
                                "scores": [c.score for c in checks],
                                "verdicts": [c.verdict for c in checks],
                            }
                        )
                        rows += [
                            {
                                "model": label,
                                "name": names.get(label, label),
                                "temperature": temperature,
                                "seed": s + 1,
                                "prompt": prompt,
                                "completion": completions[s],
                                "cleaned": checks[s].cleaned,
                                "verdict": checks[s].verdict,
                                "score": checks[s].score,
                                "length": len(completions[s]),
                            }
                            for s in range(seeds)
                        ]
            results[label] = {
                "config": {
                    **(config or {}),
                    "name": names.get(label, label),
                    "model": label,
                    "system_prompt": pack.system_prompt,
                    "max_new_tokens": max_new_tokens,
                    "seedVariants": seeds,
                    "settings": [{"temperature": t} for t in temperatures],
                },
                "results": [{"prompt": p, "settingsResults": s} for p, s in per_prompt.items()],
            }
    finally:
        model.train(was_training)
    write_jsonl(out / "completions.jsonl", rows)
    for label, data in results.items():
        write_json(out / f"results-{label}.json", data)
    summary = summary_by_model(rows, names)
    gain = bootstrap_gain(rows)
    for entry in summary:
        if entry["model"] == "tuned" and gain:
            entry["gain"] = gain  # on the tuned row: summary.json stays one entry per model
    write_json(out / "summary.json", summary)
    write_text(out / "summary.md", summary_table(summary))
    return summary


def evaluate_adapter(
    language: str,
    adapter: str | None = None,
    *,
    base: str | None = None,
    dataset: str | None = None,
    prompts: int = 8,
    seeds: int = 2,
    temperature: Iterable[float] = (0.7,),
    max_new_tokens: int = 64,
    batch_size: int = 16,
    output: str | None = None,
) -> tuple[list[dict], Path]:
    """`python -m ktokit evaluate`: an adapter train_kto.py saved (or a base alone) on held-out prompts.

    The base and the dataset trained on default to the adapter's own record of them; the dataset's
    prompts are left out. Returns the summary and the folder of the files.
    """
    from ktokit.generate.adapters import adapter_info, resolve_base_model
    from ktokit.packs.languages import load_pack
    from ktokit.train.data import load_kto_dataset

    pack = load_pack(language)
    if adapter:
        info = adapter_info(adapter, base, pack.code)
        base_name, dataset = info.base_model, dataset or info.dataset
        base_path = info.base_path if info.ship_base else resolve_base_model(info.base_path, pack.code)
    else:
        base_name, base_path = base, resolve_base_model(base, pack.code)
    exclude = training_prompts(load_kto_dataset(dataset)[0]) if dataset else set()
    chosen = held_out_prompts(pack, exclude, prompts)
    model, tokenizer = load_model(base_path, adapter)
    out = Path(output or (Path(adapter) / "eval" if adapter else Path("outputs") / pack.code / "eval"))
    summary = evaluate(
        model,
        tokenizer,
        pack,
        chosen,
        out,
        seeds=seeds,
        temperatures=temperature,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        names={"base": base_name or base_path, "tuned": adapter or "tuned"},
        config={"base_model": base_name, "adapter": adapter, "language": pack.code, "dataset": dataset},
    )
    return summary, out
