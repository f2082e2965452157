"""What `train_kto.py` adds to TRL's KTO script: the kit's arguments, checks and outputs.

TRL parses and trains; this module resolves the base model (including the offline `tiny` models),
loads the exported KTO dataset, refuses input KTO cannot learn from with one clear line, sets
`desirable_weight`/`undesirable_weight` from the label balance, applies the settings a CPU run needs,
and writes what a community publishes: adapter, merged weights, model card, metrics, Hub upload.
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ktokit.errors import KitError

# transformers 5 renamed gradient_checkpointing* to activation_checkpointing*, but TRL 1.16's KTOConfig
# still sets the old names: a warning per run that users can do nothing about.
warnings.filterwarnings("ignore", message=r"`(is_)?gradient_checkpointing.*` is deprecated", category=FutureWarning)

TINY = "tiny"
DEFAULT_DATASET = "outputs/{language}/kto"
DEFAULT_OUTPUT = "outputs/{language}/kto-model"
# KTO paper, section 4: desirable_weight * n_desirable / (undesirable_weight * n_undesirable) in [1, 4/3].
BALANCE_LOW, BALANCE_HIGH = 1.0, 4 / 3
BALANCE_TARGET = 7 / 6  # the middle of the range: rounding cannot push it out
METRICS_FILE = "metrics.json"
CARD_FILE = "README.md"


@dataclass
class KitArguments:
    """The kit's own options; everything else is TRL's (`ScriptArguments`, `KTOConfig`, `ModelConfig`)."""

    language: str | None = field(
        default=None,
        metadata={"help": "Language pack code (languages/<code>/): system prompt, eval prompts, form check."},
    )
    hub_repo: str | None = field(
        default=None,
        metadata={"help": "Push the adapter (and merged weights) to this Hub repo after training; "
                          "`--push-to-hub REPO` is the same. Token: `hf auth login` or $HF_TOKEN."},
    )
    hub_private: bool = field(default=False, metadata={"help": "Create the Hub repo as private."})
    merge: bool = field(
        default=False,
        metadata={"help": "Also save the base model with the adapter merged in, under <output_dir>/merged."},
    )
    pack_chat: bool = field(
        default=True,
        metadata={"help": "Give standard-format rows the pack's system prompt and the model's chat template, "
                          "as generation and evaluation do."},
    )
    eval: bool = field(
        default=False,
        metadata={"help": "After training, generate for held-out prompts with the base and the tuned model and "
                          "score them with the pack's form check (<output_dir>/eval/)."},
    )
    eval_prompts: int = field(default=8, metadata={"help": "Held-out prompts to evaluate on."})
    eval_seeds: int = field(default=2, metadata={"help": "Seeds per prompt and setting (1..N)."})
    eval_temperatures: list[float] = field(
        default_factory=lambda: [0.7], metadata={"help": "Sampling temperatures to evaluate (0 = greedy)."}
    )
    eval_max_new_tokens: int = field(default=64, metadata={"help": "Longest completion generated in --eval."})


def log(message: str) -> None:
    """One line on stderr, from the main process only (accelerate sets RANK)."""
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"[ktokit] {message}", file=sys.stderr, flush=True)


def on_cpu() -> bool:
    import torch

    return not (torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available()))


def parser_defaults() -> dict[str, Any]:
    """Defaults the kit sets before TRL parses; a recipe or a flag still overrides each one.

    The weights default to None so we can tell "not given" (set from the label balance) from 1.0.
    On CPU, KTOConfig refuses its bf16 default and gradient checkpointing only slows a small model.
    """
    defaults: dict[str, Any] = {
        "use_peft": True, "desirable_weight": None, "undesirable_weight": None,
        "output_dir": DEFAULT_OUTPUT, "report_to": "none",
    }
    if on_cpu():
        defaults.update(use_cpu=True, bf16=False, gradient_checkpointing=False)
    return defaults


def normalise_argv(argv: list[str]) -> list[str]:
    """`--push-to-hub REPO` -> `--hub_repo REPO`; TRL's boolean `--push_to_hub` is left alone."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--push-to-hub", "--push_to_hub") and i + 1 < len(argv):
            value = argv[i + 1]
            if not value.startswith("-") and value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                out += ["--hub_repo", value]
                i += 2
                continue
        if arg.startswith(("--push-to-hub=", "--push_to_hub=")):
            value = arg.split("=", 1)[1]
            if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                out += ["--hub_repo", value]
                i += 1
                continue
        out.append(arg)
        i += 1
    return out


def resolve_base_model(name: str | None, language: str | None) -> str:
    """A loadable model path or Hub id; `tiny` / `tiny:<lang>` build the kit's offline tiny model."""
    if not name:
        raise KitError("no base model: give --model_name_or_path (a Hub id, a local folder, or tiny:<lang>)")
    if name == TINY or name.startswith(TINY + ":"):
        lang = name.partition(":")[2] or language
        if not lang:
            raise KitError("model_name_or_path 'tiny' needs a language: use tiny:<lang> or --language CODE")
        from ktokit.tiny import tiny_model

        return str(tiny_model(lang, progress=False))
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(name)
    except (OSError, ValueError) as exc:
        where = "a local folder" if Path(name).exists() else "a local folder or a Hub model"
        offline = " (offline: HF_HUB_OFFLINE is set)" if os.environ.get("HF_HUB_OFFLINE") else ""
        raise KitError(f"unknown base model {name!r}: not {where} with a config.json{offline}; "
                       f"check the name, or use tiny:<lang> for the offline tiny model") from exc
    return name


def _looks_like_hub_id(name: str) -> bool:
    return name.count("/") == 1 and not name.startswith((".", "/", "~"))


def load_kto_dataset(name: str, *, train_split: str = "train", test_split: str = "test"):
    """(train, test or None) from an export_kto folder (save_to_disk or JSONL/Parquet files) or a Hub id."""
    from datasets import Dataset, DatasetDict, load_dataset, load_from_disk

    path = Path(name)
    try:
        if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
            data = load_from_disk(str(path))
        elif path.is_dir() or (not path.exists() and _looks_like_hub_id(name)):
            data = load_dataset(name)
        elif path.is_file():
            data = load_dataset(path.suffix.lstrip(".").replace("jsonl", "json"), data_files=str(path))
        else:
            raise FileNotFoundError(name)
    except FileNotFoundError:
        raise KitError(f"no KTO dataset at {name!r}: run export_kto.py first, or pass --dataset_name "
                       "DIR_OR_HUB_ID") from None
    except Exception as exc:  # datasets raises many types for a folder it cannot read
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise KitError(f"cannot read the KTO dataset {name!r}: {first}") from None
    if isinstance(data, Dataset):
        data = DatasetDict({train_split: data})
    if train_split not in data:
        raise KitError(f"dataset {name!r} has no {train_split!r} split (splits: {', '.join(data)})")
    train = data[train_split]
    missing = {"prompt", "completion", "label"} - set(train.column_names)
    if missing:
        raise KitError(f"dataset {name!r} lacks the KTO column(s) {', '.join(sorted(missing))}: "
                       "expected prompt, completion, label (as export_kto.py writes)")
    return train, data.get(test_split)


def label_counts(dataset) -> tuple[int, int]:
    labels = dataset["label"]
    positives = sum(bool(x) for x in labels)
    return positives, len(labels) - positives


def check_trainable(train, per_device_batch_size: int) -> tuple[int, int]:
    """(desirable, undesirable) counts; a KitError for data or settings KTO cannot learn from."""
    if per_device_batch_size < 2:
        raise KitError(f"per_device_train_batch_size is {per_device_batch_size}: KTO estimates its KL term from "
                       "the other completions in a batch, so it needs at least 2 per device")
    pos, neg = label_counts(train)
    if pos + neg == 0:
        raise KitError("the KTO dataset has no rows: annotate some responses and export again")
    if pos == 0 or neg == 0:
        only = "👍 (desirable)" if neg == 0 else "👎 (undesirable)"
        raise KitError(f"the KTO dataset has only {only} labels ({pos + neg} rows): KTO needs both; "
                       "annotate more, or export with a lower agreement threshold")
    if pos + neg < per_device_batch_size:
        raise KitError(f"the KTO dataset has {pos + neg} rows, fewer than one batch "
                       f"({per_device_batch_size}): lower per_device_train_batch_size or annotate more")
    return pos, neg


def balance_weights(positives: int, negatives: int, desirable: float | None = None,
                    undesirable: float | None = None) -> tuple[float, float, str]:
    """KTO's class weights: given ones are kept; missing ones put the weighted ratio in [1, 4/3].

    Returns (desirable_weight, undesirable_weight, a sentence saying what was chosen and why).
    """
    if desirable is not None or undesirable is not None:
        d, u = desirable if desirable is not None else 1.0, undesirable if undesirable is not None else 1.0
        ratio = d * positives / (u * negatives)
        note = "" if BALANCE_LOW <= ratio <= BALANCE_HIGH else " (outside KTO's recommended 1..1.33)"
        return d, u, f"weights as given: desirable {d:g}, undesirable {u:g}; weighted ratio {ratio:.3f}{note}"
    raw = positives / negatives
    d = u = 1.0
    if raw < BALANCE_LOW:
        d = round(BALANCE_TARGET / raw, 4)
    elif raw > BALANCE_HIGH:
        u = round(raw / BALANCE_TARGET, 4)
    ratio = d * positives / (u * negatives)
    why = "already within 1..1.33" if d == u == 1.0 else "brought into KTO's recommended 1..1.33"
    return d, u, (f"labels {positives} 👍 / {negatives} 👎 (ratio {raw:.3f}), {why}: "
                  f"desirable_weight {d:g}, undesirable_weight {u:g} (weighted ratio {ratio:.3f})")


def lora_targets_without_lm_head(targets: list[str] | str | None) -> list[str] | str | None:
    """TRL 1.16's KTOTrainer fails with a LoRA on lm_head (e.g. from a copied SFT recipe): drop it."""
    if isinstance(targets, list) and "lm_head" in targets:
        kept = [t for t in targets if t != "lm_head"]
        log("lora_target_modules: lm_head removed (KTOTrainer cannot train a LoRA on lm_head)")
        return kept or None
    if targets == "lm_head":
        log("lora_target_modules: lm_head removed; using PEFT's default targets for this model")
        return None
    return targets


def to_conversational(dataset, pack) -> Any:
    """Standard rows -> the chat the pack puts to a model, so training sees what generation sees."""

    def convert(row: dict) -> dict:
        return {"prompt": pack.messages(row["prompt"]),
                "completion": [{"role": "assistant", "content": row["completion"]}]}

    return dataset.map(convert, desc="pack chat format")


def is_conversational_row(row: dict) -> bool:
    return isinstance(row.get("prompt"), list)


def prompt_text(prompt: str | list[dict]) -> str:
    """The user's words in a standard or conversational KTO prompt."""
    if isinstance(prompt, list):
        users = [m.get("content", "") for m in prompt if m.get("role") == "user"]
        return users[-1] if users else ""
    return prompt


def training_metrics(trainer, train_result, extra: dict) -> dict:
    """Everything worth keeping about a run, JSON-ready; the final loss must be a number."""
    history = trainer.state.log_history
    losses = [h["loss"] for h in history if "loss" in h]
    metrics = {
        **extra,
        "train": {k: (round(v, 6) if isinstance(v, float) else v) for k, v in train_result.metrics.items()},
        "global_step": trainer.state.global_step,
        "first_logged_loss": losses[0] if losses else None,
        "last_logged_loss": losses[-1] if losses else None,
        "log_history": history,
    }
    loss = train_result.training_loss
    if not math.isfinite(loss):
        raise KitError(f"training loss is {loss}: lower the learning_rate or check the dataset")
    return metrics


def write_json(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def model_card(*, base_model: str, dataset: str, language: str | None, recipe: str | None, metrics: dict,
               repo: str | None = None, eval_table: str | None = None, merged: bool = False) -> str:
    """The README.md a Hub model page shows: what was tuned on what, how, and how well."""
    train = metrics.get("train", {})
    tags = ["ktokit", "kto", "trl", "peft", "lora"] + ([language] if language else [])
    on_hub = _looks_like_hub_id(base_model) and not Path(base_model).exists()
    front = {"base_model": base_model} if on_hub else {}
    front.update({"library_name": "peft", "tags": tags, "pipeline_tag": "text-generation"})
    if language:
        front["language"] = [language]
    if _looks_like_hub_id(dataset) and not Path(dataset).exists():
        front["datasets"] = [dataset]
    import yaml

    name = repo or "this adapter"
    lines = [
        "---", yaml.safe_dump(front, allow_unicode=True, sort_keys=False).strip(), "---", "",
        f"# {repo.split('/')[-1] if repo else 'KTO adapter'}", "",
        f"A LoRA adapter for {f'[{base_model}](https://huggingface.co/{base_model})' if on_hub else f'`{base_model}`'}"
        " tuned with KTO "
        f"(TRL `KTOTrainer`) on 👍/👎 annotations{f' in `{language}`' if language else ''}, "
        "built with ktokit, following the Data Is Better Together KTO recipe.", "",
        "| | |", "|---|---|",
        f"| Base model | `{base_model}` |",
        f"| Dataset | `{dataset}` ({metrics.get('desirable', '?')} 👍 / {metrics.get('undesirable', '?')} 👎) |",
        f"| Language | {language or '-'} |",
        f"| Recipe | `{recipe or 'command-line flags'}` |",
        f"| Weights | desirable {metrics.get('desirable_weight')}, undesirable {metrics.get('undesirable_weight')} |",
        f"| Steps | {metrics.get('global_step')} |",
        f"| Training loss | {train.get('train_loss', float('nan')):.4f} |",
        f"| Runtime | {train.get('train_runtime', 0):.1f} s ({train.get('train_steps_per_second', 0):.2f} steps/s) |",
        "",
    ]
    if eval_table:
        lines += ["## Evaluation: base vs tuned", "", "Held-out prompts, scored with the language pack's form "
                  "check (`ktokit.form.check_form`).", "", eval_table.strip(), ""]
    lines += [
        "## Use", "", "```python", "from peft import AutoPeftModelForCausalLM", "from transformers import AutoTokenizer",
        "", f'model = AutoPeftModelForCausalLM.from_pretrained("{repo or "<this folder>"}")',
        f'tokenizer = AutoTokenizer.from_pretrained("{repo or "<this folder>"}")', "```", "",
    ]
    if merged:
        lines += [f"Merged weights (base + adapter) are in `merged/` of {name}.", ""]
    lines += ["Training metrics: `metrics.json`.", ""]
    return "\n".join(lines)


def merge_adapter(adapter_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Base model with the adapter folded in, in full precision (a 4-bit base is reloaded unquantized)."""
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    adapter_dir = Path(adapter_dir)
    out = Path(out_dir) if out_dir else adapter_dir / "merged"
    model = AutoPeftModelForCausalLM.from_pretrained(str(adapter_dir), dtype="auto")
    merged = model.merge_and_unload()
    merged.save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(adapter_dir)).save_pretrained(str(out))
    return out


def push_to_hub(folder: str | Path, repo_id: str, *, private: bool = False, token: str | None = None) -> str:
    """Upload the adapter folder (card, metrics, eval) to a Hub model repo; returns its URL."""
    from ktokit.hub import push_folder

    return push_folder(folder, repo_id, private=private, token=token,
                       commit_message="ktokit: KTO adapter, model card and metrics")
