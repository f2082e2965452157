"""Base vs tuned: generate for held-out prompts, score each output with the pack's form check.

One model load serves both: the tuned model is the base with its LoRA adapter, and the base's outputs
come from the same weights with the adapter switched off, under the same seeds. Files written (the
results layout of the Haha eval, one file per model, and a summary table per model):

    completions.jsonl        one row per model x temperature x seed x prompt
    results-<model>.json     {"config": ..., "results": [{"prompt", "settingsResults": [{"temperature",
                             "completions": [seed 1, seed 2, ...], "scores": [...]}]}]}
    summary.json, summary.md form score, pass rate, mean length, per model
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from ktokit.errors import KitError

SUMMARY_HEADER = "| Model | Form score | Pass rate | Mean length (chars) | Empty | Completions |"


def held_out_prompts(pack, exclude: Iterable[str] = (), n: int = 8) -> list[str]:
    """Up to `n` pack prompts not seen in training, taken from the end of prompts.txt (deterministic)."""
    seen = {s.strip() for s in exclude}
    fresh = [p for p in pack.prompts if p.strip() not in seen and pack.user_prompt(p).strip() not in seen]
    if not fresh:
        raise KitError(f"no held-out prompts: every prompt of pack {pack.code!r} is in the training data; "
                       "add prompts to prompts.txt")
    return fresh[-n:] if n > 0 else fresh


def training_prompts(dataset) -> set[str]:
    from ktokit.training import prompt_text

    return {prompt_text(p) for p in dataset["prompt"]}


def load_for_eval(base: str, adapter: str | None = None, *, dtype: str = "auto"):
    """(model, tokenizer): the base with the adapter attached when one is given."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
    tok_source = adapter if adapter and (Path(adapter) / "tokenizer_config.json").is_file() else base
    tokenizer = AutoTokenizer.from_pretrained(tok_source)
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    if next(model.parameters()).device.type == "cpu":
        import torch

        if torch.cuda.is_available():
            model = model.to("cuda")
    return model, tokenizer


def generate(model, tokenizer, pack, prompts: list[str], *, temperature: float, seed: int,
             max_new_tokens: int = 64, batch_size: int = 16, top_p: float = 1.0) -> list[str]:
    """One completion per prompt, sampled at `temperature` (0: greedy) from `seed`; an answer may be ""."""
    import torch

    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    torch.manual_seed(seed)
    outputs: list[str] = []
    try:
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start:start + batch_size]
            if tokenizer.chat_template:
                enc = tokenizer.apply_chat_template([pack.messages(p) for p in chunk], add_generation_prompt=True,
                                                    padding=True, return_tensors="pt", return_dict=True)
            else:
                enc = tokenizer([pack.user_prompt(p) for p in chunk], padding=True, return_tensors="pt")
            enc = {k: v.to(model.device) for k, v in enc.items()}
            sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0} \
                if temperature > 0 else {"do_sample": False}
            with torch.no_grad():
                out = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                                     **sampling)
            width = enc["input_ids"].shape[1]
            outputs += tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side
    return [o.strip() for o in outputs]


def model_variants(model) -> list[tuple[str, contextlib.AbstractContextManager]]:
    """("base", adapter off) and ("tuned", adapter on) for a PEFT model; ("base", as is) otherwise."""
    if hasattr(model, "disable_adapter"):
        return [("base", model.disable_adapter()), ("tuned", contextlib.nullcontext())]
    return [("base", contextlib.nullcontext())]


def summarise(rows: list[dict], names: dict[str, str]) -> list[dict]:
    summary = []
    for label in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == label]
        summary.append({
            "model": label, "name": names.get(label, label), "completions": len(mine),
            "form_score": round(sum(r["score"] for r in mine) / len(mine), 4),
            "pass_rate": round(sum(r["verdict"] == "pass" for r in mine) / len(mine), 4),
            "mean_length": round(sum(r["length"] for r in mine) / len(mine), 1),
            "empty": sum(not r["completion"].strip() for r in mine),  # scored as failed form checks
        })
    return summary


def summary_table(summary: list[dict]) -> str:
    """A Markdown table like the Gemma Haiku Generator's results, one row per model."""
    lines = [SUMMARY_HEADER, "|-------|-----------:|----------:|--------------------:|------:|------------:|"]
    for s in summary:
        lines.append(f"| {s['name']} | {s['form_score']:.4f} | {s['pass_rate']:.2%} | {s['mean_length']:.1f} "
                     f"| {s['empty']} | {s['completions']} |")
    return "\n".join(lines) + "\n"


def evaluate(model, tokenizer, pack, prompts: list[str], out_dir: str | Path, *, seeds: int = 2,
             temperatures: Iterable[float] = (0.7,), max_new_tokens: int = 64, names: dict[str, str] | None = None,
             config: dict | None = None, batch_size: int = 16) -> list[dict]:
    """Generate settings x seeds x prompts for base (and tuned), score, write the files; returns the summary."""
    from ktokit.form import check_form

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
                    by_seed = [generate(model, tokenizer, pack, prompts, temperature=temperature, seed=seed,
                                        max_new_tokens=max_new_tokens, batch_size=batch_size)
                               for seed in range(1, seeds + 1)]
                    for i, prompt in enumerate(prompts):
                        completions = [by_seed[s][i] for s in range(seeds)]
                        checks = [check_form(c, pack.form) for c in completions]
                        per_prompt[prompt].append({
                            "temperature": temperature, "completions": completions,
                            "scores": [c.score for c in checks], "verdicts": [c.verdict for c in checks],
                        })
                        rows += [{"model": label, "name": names.get(label, label), "temperature": temperature,
                                  "seed": s + 1, "prompt": prompt, "completion": completions[s],
                                  "cleaned": checks[s].cleaned, "verdict": checks[s].verdict,
                                  "score": checks[s].score, "length": len(completions[s])}
                                 for s in range(seeds)]
            results[label] = {
                "config": {**(config or {}), "name": names.get(label, label), "model": label,
                           "system_prompt": pack.system_prompt, "max_new_tokens": max_new_tokens,
                           "seedVariants": seeds, "settings": [{"temperature": t} for t in temperatures]},
                "results": [{"prompt": p, "settingsResults": s} for p, s in per_prompt.items()],
            }
    finally:
        model.train(was_training)
    with (out / "completions.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    for label, data in results.items():
        (out / f"results-{label}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
    summary = summarise(rows, names)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "summary.md").write_text(summary_table(summary), encoding="utf-8")
    return summary


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ktokit evaluate",
                                description="Base vs tuned on held-out prompts, scored with the pack's form check.")
    p.add_argument("--language", "-l", required=True, help="pack code: prompts, system prompt, form rule")
    p.add_argument("--adapter", help="the LoRA adapter folder train_kto.py wrote (omit to evaluate the base only)")
    p.add_argument("--base", help="base model (default: the adapter's base); tiny or tiny:<lang> for the tiny model")
    p.add_argument("--dataset", help="the KTO dataset trained on: its prompts are left out "
                                     "(default: the one in the adapter's metrics.json)")
    p.add_argument("--prompts", type=int, default=8, help="held-out prompts (default 8)")
    p.add_argument("--seeds", type=int, default=2, help="seeds per prompt and setting, 1..N (default 2)")
    p.add_argument("--temperature", type=float, nargs="+", default=[0.7], help="one or more (0 = greedy)")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=16, help="prompts generated together")
    p.add_argument("--output", "-o", help="folder for the files (default: <adapter>/eval or outputs/<lang>/eval)")
    return p


def run(args: argparse.Namespace) -> int:
    from ktokit.languages import load_pack
    from ktokit.training import load_kto_dataset, resolve_base_model

    pack = load_pack(args.language)
    adapter = args.adapter
    info: dict = {}
    if adapter:
        if not (Path(adapter) / "adapter_config.json").is_file():
            raise KitError(f"{adapter!r} is not a LoRA adapter folder (no adapter_config.json): "
                           "give the output_dir train_kto.py wrote")
        if (Path(adapter) / "metrics.json").is_file():
            info = json.loads((Path(adapter) / "metrics.json").read_text(encoding="utf-8"))
    base = args.base or info.get("base_model")
    if not base and adapter:
        base = json.loads((Path(adapter) / "adapter_config.json").read_text())["base_model_name_or_path"]
    base_path = resolve_base_model(base, pack.code)
    exclude: set[str] = set()
    dataset = args.dataset or info.get("dataset")
    if dataset:
        exclude = training_prompts(load_kto_dataset(dataset)[0])
    prompts = held_out_prompts(pack, exclude, args.prompts)
    model, tokenizer = load_for_eval(base_path, adapter)
    out = Path(args.output or (Path(adapter) / "eval" if adapter else Path("outputs") / pack.code / "eval"))
    summary = evaluate(model, tokenizer, pack, prompts, out, seeds=args.seeds, temperatures=args.temperature,
                       max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
                       names={"base": base or base_path, "tuned": adapter or "tuned"},
                       config={"base_model": base, "adapter": adapter, "language": pack.code, "dataset": dataset})
    print(summary_table(summary), end="")
    print(f"files: {out}/ (completions.jsonl, results-*.json, summary.md)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m ktokit evaluate ...`; a KitError is one line on stderr and exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
