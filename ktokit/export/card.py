"""The dataset card of an export, and its 👍-rate-per-model chart.

The card is built from `ExportSummary` alone (no clock, no server URL), so the same annotations give
the same card byte for byte. The chart is drawn with Pillow: matplotlib is not a dependency of the kit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ktokit.export.summary import rounds_text
from ktokit.hub import card_header
from ktokit.kto_format import balance_weights

if TYPE_CHECKING:
    from ktokit.export.summary import ExportSummary, ModelRate

REASONS = {
    "flagged": "flagged by an annotator (wrong language or harmful)",
    "unrated": "no submitted vote",
    "wrong_language": "not in the pack's language (--drop-wrong-language)",
    "too_few_votes": "fewer submitted votes than --min_votes",
    "tie": "tie (as many 👍 as 👎)",
    "not_unanimous": "annotators disagreed (unanimous strategy)",
}
STRATEGY_TEXT = {
    "majority": "the label most submitted votes gave; ties are left out",
    "unanimous": "kept only when every submitted vote gave the same label",
}


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "n/a"


def _size_category(n: int) -> str:
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if n < limit:
            return name
    return "1M<n<10M"


def _agreement(s: ExportSummary) -> str:
    if s.overlap_records == 0:
        return (
            "No record has two or more submitted votes yet, so agreement cannot be measured. "
            "Create the task with `--min_submitted 2` (the default) to have every record rated twice."
        )
    alpha = (
        "undefined (every vote on the overlapping records gave the same label)"
        if s.alpha is None
        else f"**{s.alpha:.3f}**"
    )
    return (
        f"{s.overlap_records} records have two or more submitted votes. On them, Krippendorff's alpha "
        f"(nominal) is {alpha}, and {_pct(round((s.pairwise_agreement or 0) * 10_000), 10_000)} of "
        "annotator pairs gave the same label. Alpha is 1 for perfect agreement and about 0 for "
        "agreement no better than chance; Krippendorff asks for 0.8 to call data reliable and 0.667 for "
        "tentative conclusions. 👍/👎 on taste often scores lower: low values are worth a look at the "
        "guidelines."
    )


FLAG_TEXT = {
    "wrong_language": "wrong language",
    "harmful": "harmful or offensive",
    "cant_judge": "can't judge",
}


def _trust(s: ExportSummary) -> str:
    """Gold, the annotators' flags, whose votes were left out, agreement before and after, answers flagged."""
    parts = []
    if s.gold:
        parts.append(
            f"{s.gold} records are gold: known answers mixed in to check annotators, never rows of this data."
        )
    else:
        parts.append(
            "The task has no gold records (known answers), so annotators are checked on agreement alone."
        )
    if s.reliability:
        parts.append(
            "Each annotator is scored on gold accuracy, chance-corrected agreement with the other "
            "annotators' majority, 👍 rate against the others' and answering speed (ktokit's "
            "`export/reliability.py`): " + ", ".join(f"{n} {flag}" for flag, n in s.reliability.items()) + "."
        )
    if s.left_out_annotators:
        before = "n/a" if s.alpha_all is None else f"{s.alpha_all:.3f}"
        after = "n/a" if s.alpha is None else f"{s.alpha:.3f}"
        parts.append(
            f"The {s.left_out_votes} votes of {len(s.left_out_annotators)} annotator"
            f"{'s' if len(s.left_out_annotators) != 1 else ''} flagged unreliable were left out before "
            f"aggregation (Krippendorff's alpha {before} with their votes, {after} without):\n\n"
            + "\n".join(f"- `{name}`: {'; '.join(why)}" for name, why in s.left_out_annotators.items())
        )
    elif s.reliability.get("unreliable"):
        parts.append("Every vote was kept, those of annotators flagged unreliable too (`--annotators all`).")
    if s.flags:
        parts.append(
            "Answers annotators flagged instead of rating (not votes; wrong language and harmful leave "
            "the record out): " + ", ".join(f"{FLAG_TEXT.get(k, k)} {n}" for k, n in s.flags.items()) + "."
        )
    return "\n\n".join(parts)


def _rounds(s: ExportSummary) -> str:
    """Which annotation rounds the rows come from, and how many rows each gave."""
    if not s.rows_per_round:
        return ""
    return (
        f"Rows per annotation round: {rounds_text(s.rows_per_round)}. A round is a batch of answers added "
        "to the task with `create_task.py --round N` (records from before rounds are round 1); "
        "`export_kto.py --rounds` chooses which to export."
    )


def _train_snippet(s: ExportSummary) -> str:
    weights = ""
    if s.up and s.down:
        d, u, _ = balance_weights(s.up, s.down)  # what train_kto.py would choose
        if (d, u) != (1.0, 1.0):
            weights = f", desirable_weight={d:g}, undesirable_weight={u:g}"
    test = ', eval_dataset=data["test"]' if "test" in s.splits else ""
    warning = ""
    if not (s.up and s.down):
        warning = (
            f"> **Not trainable yet:** every row is {'👍' if s.up else '👎'}, and KTO needs both labels. "
            "Annotate more, or export with another --strategy / --min_votes.\n\n"
        )
    train = (
        f"python train_kto.py --config recipes/qwen2.5-1.5b-lora.yaml --language {s.language} "
        f"--dataset_name outputs/{s.language}/kto --eval"
    )
    return (
        warning
        + f"""With the kit (LoRA, class weights set from the label balance, base vs tuned evaluation):

```bash
{train}
```

(`outputs/{s.language}/kto` is export_kto.py's default `--output_dir`; give yours, or the Hub repo.)

With TRL directly (`load_dataset("ORG/NAME")` for a Hub copy):

```python
from datasets import load_from_disk
from peft import LoraConfig
from trl import KTOConfig, KTOTrainer

data = load_from_disk("outputs/{s.language}/kto")
trainer = KTOTrainer(
    model="Qwen/Qwen2.5-1.5B-Instruct",
    args=KTOConfig(output_dir="kto-{s.language}"{weights}),
    train_dataset=data["train"]{test},
    peft_config=LoraConfig(r=16, lora_alpha=32, task_type="CAUSAL_LM"),
)
trainer.train()
```"""
    )


def dataset_card(s: ExportSummary) -> str:
    """Markdown with the Hub's YAML header: what is in the data, how it was aggregated, how to train on it."""
    header = card_header(
        language=[s.language],
        task_categories=["text-generation"],
        tags=["kto", "dpo" if s.dpo_pairs else "unpaired-preference", "human-feedback", "argilla", "ktokit"],
        size_categories=[_size_category(s.rows)],
        pretty_name=f"KTO {s.language_name} ({s.dataset})",
    )
    splits = ", ".join(f"{name} {n}" for name, n in s.splits.items())
    lines = [
        header,
        "",
        f"# KTO preference data: {s.language_name}",
        "",
        f"Human 👍/👎 ratings of model responses, collected in the Argilla dataset `{s.dataset}` "
        f"and exported with ktokit's `export_kto.py` in TRL's KTO format ({s.form} form): "
        "`prompt`, `completion`, `label` (true = 👍), plus `model`, `language`, `votes_up`, `votes_down`, "
        "`agreement` (share of votes for the kept label), `record_id` (the Argilla record) and `round` "
        "(the annotation round the record was added in).",
        "",
        _rounds(s),
        "",
        "## What is in it",
        "",
        "| | |",
        "|---|---|",
        f"| language | {s.language_name} (`{s.language}`) |",
        f"| records in Argilla | {s.records} |",
        f"| records with a submitted vote | {s.rated} |",
        *(f"| left out: {REASONS.get(k, k)} | {n} |" for k, n in s.left_out.items()),
        *(
            [
                f"| records not in the pack's language (detected) | {s.other_language} "
                f"({'left out' if s.drop_wrong_language else 'kept'}) |"
            ]
            if s.other_language
            else []
        ),
        f"| **KTO rows** | **{s.rows}** ({splits}) |",
        *([f"| annotation rounds | {rounds_text(s.rows_per_round)} |"] if s.rows_per_round else []),
        f"| prompts | {s.prompts} |",
        f"| 👍 desirable | {s.up} ({_pct(s.up, s.rows)}) |",
        f"| 👎 undesirable | {s.down} ({_pct(s.down, s.rows)}) |",
    ]
    if s.dpo_pairs is not None:
        lines.append(f"| DPO pairs (config `dpo`) | {s.dpo_pairs} |")
    lines += [
        f"| annotators (with a submitted vote) | {s.annotators} |",
        f"| responses: submitted / draft / discarded | {s.responses.get('submitted', 0)} / "
        f"{s.responses.get('draft', 0)} / {s.responses.get('discarded', 0)} |",
    ]
    if s.raw is not None:
        lines.append(f"| raw responses (config `raw`, annotators pseudonymised) | {s.raw} |")
    lines += [
        "",
        "## How the labels were aggregated",
        "",
        f"Strategy **{s.strategy}**: {STRATEGY_TEXT[s.strategy]}. "
        f"A record needs at least {s.min_votes} submitted vote{'s' if s.min_votes != 1 else ''}. "
        "Only submitted responses count: drafts and discarded "
        "responses never do. The train/test split is by prompt (no prompt is on both sides) and depends "
        "only on the prompt's text, so later exports never move a prompt from test to train.",
        "",
        "## Agreement between annotators",
        "",
        _agreement(s),
        "",
        "## Whose votes count",
        "",
        _trust(s),
        "",
        "## 👍 rate per generating model",
        "",
        "| model | 👍 | 👎 | 👍 rate |",
        "|---|---:|---:|---:|",
        *(f"| {m.model} | {m.up} | {m.down} | {_pct(m.up, m.up + m.down)} |" for m in s.models),
        "",
        "![👍 rate per model](thumbs_up_by_model.png)",
        "",
        "## How to train",
        "",
        _train_snippet(s),
        "",
    ]
    if s.dpo_pairs:
        lines += [
            "For DPO, the `dpo` config (`prompt`, `chosen`, `rejected`) holds every (👍, 👎) pair of "
            'completions of the same prompt: `DPOTrainer(..., train_dataset=load_from_disk("outputs/'
            f'{s.language}/kto/dpo")["train"])`.',
            "",
        ]
    return "\n".join(lines).replace("\n\n\n", "\n\n")


def model_chart(rates: list[ModelRate], path: str | Path) -> Path:
    """Horizontal bars, one per model: the share of its exported completions that got 👍."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=15)
    small = ImageFont.load_default(size=13)
    label_w = min(360, max(int(font.getlength(r.model)) for r in rates) + 24)
    bar_w, row_h, top, right = 420, 34, 46, 150
    width, height = label_w + bar_w + right, top + row_h * len(rates) + 30
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((12, 12), "Share of completions rated good (thumbs up), per model", fill="#222222", font=font)
    draw.rectangle([label_w, top, label_w + bar_w, height - 26], fill="#f3f4f6")
    for tick in (0, 25, 50, 75, 100):
        x = label_w + bar_w * tick // 100
        draw.line([x, top, x, height - 24], fill="#d1d5db")
        draw.text((x - 10, height - 20), f"{tick} %", fill="#555555", font=small)
    for i, r in enumerate(rates):
        y = top + i * row_h
        name = r.model
        while font.getlength(name) > label_w - 24 and len(name) > 4:
            name = name[:-2] + "…"
        draw.text((12, y + 7), name, fill="#222222", font=font)
        draw.rectangle([label_w, y + 5, label_w + round(bar_w * r.rate), y + row_h - 5], fill="#3b82f6")
        draw.text(
            (label_w + bar_w + 10, y + 8),
            f"{100 * r.rate:.0f} %  ({r.up}/{r.up + r.down})",
            fill="#222222",
            font=small,
        )
    path = Path(path)
    image.save(path, format="PNG", optimize=False)
    return path
