"""Benchmark: are the tiny offline models sturdy? Non-empty, three-line and form-passing answers.

The tiny models are built on each machine, so their weights follow that machine's floating point; what
must hold everywhere is the shape of their answers. For each language and model seed this builds (or
reuses) the default tiny model, answers N of the pack's prompts in the pack's chat format, greedy and
sampled (the offline model set's temperature 0.8 / top-p 0.95, and the evaluation's 0.7 with no top-p),
and prints the share of non-empty answers, of answers with as many lines as the form asks (three for a
haiku), of answers one line too long (the miss the recipe teaches on purpose, for KTO to unlearn), and
of answers that pass the form check.

    .venv/bin/python benchmarks/tiny_models.py [--languages en ja] [--prompts 100] [--seeds 0 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ktokit.generate.tiny import tiny_model  # noqa: E402
from ktokit.inference import complete  # noqa: E402
from ktokit.packs.form import check_form  # noqa: E402
from ktokit.packs.languages import load_pack, pack_codes  # noqa: E402

DECODINGS = (("greedy", 0.0, 1.0), ("T0.8 p0.95", 0.8, 0.95), ("T0.7", 0.7, 1.0))


def line_count(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.strip())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--languages", nargs="+", default=pack_codes())
    p.add_argument("--prompts", type=int, default=100)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="tiny-model seeds (two models each)")
    args = p.parse_args()
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    print(
        "| language | model | build (s) | decoding | answers | non-empty | lines as asked | one line more "
        "| form pass |"
    )
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    totals = {"answers": 0, "non_empty": 0, "lines": 0, "longer": 0, "pass": 0}
    for code in args.languages:
        pack = load_pack(code)
        prompts = pack.prompts[: args.prompts]
        for seed in args.seeds:
            start = time.perf_counter()
            path = tiny_model(pack, seed, progress=False)
            built = time.perf_counter() - start
            model, tokenizer = AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)
            for name, temperature, top_p in DECODINGS:
                answers = complete(
                    model,
                    tokenizer,
                    pack,
                    prompts,
                    temperature=temperature,
                    seed=1,
                    max_new_tokens=48,
                    top_p=top_p,
                )
                non_empty = sum(bool(a.strip()) for a in answers)
                lines = sum(line_count(a) == pack.form.lines for a in answers)
                longer = sum(line_count(a) == (pack.form.lines or 0) + 1 for a in answers)
                passed = sum(check_form(a, pack.form).passed for a in answers)
                for key, value in (
                    ("answers", len(answers)),
                    ("non_empty", non_empty),
                    ("lines", lines),
                    ("longer", longer),
                    ("pass", passed),
                ):
                    totals[key] += value
                n = len(answers)
                print(
                    f"| {code} | seed {seed} | {built:.0f} | {name} | {n} | {non_empty / n:.0%} "
                    f"| {lines / n:.0%} | {longer / n:.0%} | {passed / n:.0%} |",
                    flush=True,
                )
                built = 0.0
    n = max(totals["answers"], 1)
    print(
        f"tiny models: {totals['answers']} answers, non-empty {totals['non_empty'] / n:.1%}, "
        f"lines as asked {totals['lines'] / n:.1%}, one line more {totals['longer'] / n:.1%}, "
        f"form pass {totals['pass'] / n:.1%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
