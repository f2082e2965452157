"""The model card: TRL's (framework versions, citations, quick start) with the kit's facts added.

TRL's trainer writes its card at every checkpoint, at the end and on a push; `add_kit_facts` puts the
kit's section into it each time: what was tuned on what and how, the base-vs-tuned evaluation table,
and how to load the adapter with PEFT. Its metadata gains the language, the dataset and the kit's tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ktokit.hub import is_hub_id

TAGS = ["ktokit", "kto", "trl", "peft", "lora"]
INSERT_BEFORE = "## Quick start"  # the first section of TRL's template after its introduction


@dataclass
class CardFacts:
    """What the kit knows about a run that TRL's card does not say."""

    base_model: str
    dataset: str
    language: str | None
    recipe: str | None
    metrics: dict[str, Any]
    repo: str | None = None
    eval_table: str | None = None
    merged: bool = False
    rounds: list[int] | None = None  # annotation rounds of the dataset (export_kto.py's export_summary.json)
    start_adapter: str | None = None  # train_kto.py --adapter: the adapter this run went on from
    start_adapter_rounds: list[int] | None = None  # the rounds that adapter was trained on


def _rounds(rounds: list[int] | None) -> str:
    if not rounds:
        return "not recorded"
    return f"round{'s' if len(rounds) > 1 else ''} {', '.join(map(str, rounds))}"


def lineage(facts: CardFacts) -> list[str]:
    """Table rows: which annotation rounds this adapter learned from, and where its training began."""
    if facts.start_adapter:
        before = f", trained on {_rounds(facts.start_adapter_rounds)}" if facts.start_adapter_rounds else ""
        start = (
            f"the adapter `{facts.start_adapter}`{before}; it was also the reference model (a frozen copy)"
        )
    else:
        start = "the base model (a new LoRA adapter; the base is the reference model)"
    rounds = _rounds(facts.rounds) if facts.rounds else "not recorded (no export_summary.json with the data)"
    return [f"| Annotation rounds | {rounds} |", f"| Started from | {start} |"]


def on_hub(name: str) -> bool:
    """A Hub repo id rather than a local folder (a folder of that name here wins)."""
    return is_hub_id(name) and not Path(name).exists()


def kit_section(facts: CardFacts) -> str:
    """Markdown: the run's facts, the evaluation table, how to load the adapter."""
    m, train = facts.metrics, facts.metrics.get("train", {})
    base = (
        f"[{facts.base_model}](https://huggingface.co/{facts.base_model})"
        if on_hub(facts.base_model)
        else f"`{facts.base_model}`"
    )
    where = facts.repo or "<this folder>"
    lines = [
        "## ktokit",
        "",
        f"A LoRA adapter for {base} tuned with KTO (TRL `KTOTrainer`) on 👍/👎 annotations"
        f"{f' in `{facts.language}`' if facts.language else ''}, built with ktokit, following the Data Is "
        "Better Together KTO recipe.",
        "",
        "| | |",
        "|---|---|",
        f"| Base model | `{facts.base_model}` |",
        f"| Dataset | `{facts.dataset}` ({m.get('desirable', '?')} 👍 / {m.get('undesirable', '?')} 👎) |",
        f"| Language | {facts.language or '-'} |",
        *lineage(facts),
        f"| Recipe | `{facts.recipe or 'command-line flags'}` |",
        f"| Weights | desirable {m.get('desirable_weight')}, undesirable {m.get('undesirable_weight')} |",
        f"| Steps | {m.get('global_step')} |",
        f"| Training loss | {train.get('train_loss', float('nan')):.4f} |",
        f"| Runtime | {train.get('train_runtime', 0):.1f} s "
        f"({train.get('train_steps_per_second', 0):.2f} steps/s) |",
        "",
    ]
    if facts.eval_table:
        lines += [
            "### Evaluation: base vs tuned",
            "",
            "Held-out prompts, scored with the language pack's form check (`ktokit.packs.form.check_form`).",
            "",
            facts.eval_table.strip(),
            "",
        ]
    lines += [
        "### Use with PEFT",
        "",
        "```python",
        "from peft import AutoPeftModelForCausalLM",
        "from transformers import AutoTokenizer",
        "",
        f'model = AutoPeftModelForCausalLM.from_pretrained("{where}")',
        f'tokenizer = AutoTokenizer.from_pretrained("{where}")',
        "```",
        "",
    ]
    if facts.merged:
        lines += [f"Merged weights (base + adapter) are in `merged/` of {facts.repo or 'this adapter'}.", ""]
    lines += ["Training metrics: `metrics.json`.", ""]
    return "\n".join(lines)


def add_kit_facts(card_path: Path, facts: CardFacts, output_dir: str) -> None:
    """Put the kit's section and metadata into the card TRL's trainer just wrote at `card_path`."""
    from huggingface_hub import ModelCard

    card = ModelCard.load(card_path)
    data = card.data
    data.library_name = "peft"  # an adapter: the Hub's "use this model" loads it with PEFT
    data.pipeline_tag = "text-generation"
    data.tags = list(
        dict.fromkeys([*(data.tags or []), *TAGS, *([facts.language] if facts.language else [])])
    )
    if facts.language:
        data.language = [facts.language]
    if on_hub(facts.dataset):
        data.datasets = [facts.dataset]
    text = card.text
    if not on_hub(facts.base_model):  # TRL's template links any base to the Hub, a local one as "None"
        text = text.replace("[None](https://huggingface.co/None)", f"`{facts.base_model}`")
    if not facts.repo:  # nor pushed: TRL's quick start names the folder instead of a repo
        text = text.replace('model="None"', f'model="{output_dir}"')
    section = kit_section(facts)
    at = text.find(INSERT_BEFORE)
    card.text = text[:at] + section + "\n" + text[at:] if at >= 0 else text.rstrip() + "\n\n" + section
    card.save(card_path)
