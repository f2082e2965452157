"""train_kto.py's options: the kit's few, and the defaults it gives TRL's.

Every TRL option (`ScriptArguments`, `KTOConfig`, `ModelConfig`) works as a flag or in a YAML recipe;
`KitArguments` adds what TRL has no name for. Publishing uses TRL's own options (`--push_to_hub`,
`--hub_model_id`, `--hub_private_repo`); `ktokit.hub.hub_aliases` rewrites the kit's earlier spellings.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from ktokit.options import option

# transformers 5 renamed gradient_checkpointing* to activation_checkpointing*, but TRL 1.16's KTOConfig
# still sets the old names: a warning per run that users can do nothing about.
warnings.filterwarnings(
    "ignore", message=r"`(is_)?gradient_checkpointing.*` is deprecated", category=FutureWarning
)

DEFAULT_DATASET = "outputs/{language}/kto"
DEFAULT_OUTPUT = "outputs/{language}/kto-model"


@dataclass
class KitArguments:
    """The kit's own options; everything else is TRL's (`ScriptArguments`, `KTOConfig`, `ModelConfig`).

    `adapter` is the kit's because TRL 1.16 has no option for an initial adapter: its scripts only make a
    new one from `ModelConfig`'s `lora_*` fields (`get_peft_config`); PEFT's name for the folder is the
    same (`PeftModel.from_pretrained(model, adapter)`), and so is `ktokit demo-space --adapter`.
    """

    language: str | None = option(
        "Language pack code (languages/<code>/): system prompt, eval prompts, form check.", None
    )
    adapter: str | None = option(
        "A LoRA adapter folder train_kto.py wrote (e.g. round one's output_dir) to go on training: loaded "
        "trainable on its base, which must be --model_name_or_path (default: the adapter's base), and "
        "kept frozen as KTO's reference model. Without it: a new LoRA adapter on the base.",
        None,
    )
    merge: bool = option(
        "Also save the base model with the adapter merged in, under <output_dir>/merged.", False
    )
    pack_chat: bool = option(
        "Give standard-format rows the pack's system prompt and the model's chat template, "
        "as generation and evaluation do.",
        True,
    )
    eval: bool = option(
        "After training, generate for held-out prompts with the base and the tuned model and "
        "score them with the pack's form check (<output_dir>/eval/).",
        False,
    )
    eval_prompts: int = option("Held-out prompts to evaluate on.", 8)
    eval_seeds: int = option("Seeds per prompt and setting (1..N).", 2)
    eval_temperatures: list[float] = option(
        "Sampling temperatures to evaluate (0 = greedy).", default_factory=lambda: [0.7]
    )
    eval_max_new_tokens: int = option("Longest completion generated in --eval.", 64)


def argument_classes() -> tuple[type, ...]:
    """What TRL's parser fills, in the order the training step receives them."""
    from trl import KTOConfig, ModelConfig, ScriptArguments

    return KitArguments, ScriptArguments, KTOConfig, ModelConfig


def on_cpu() -> bool:
    import torch

    return not (torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available()))


def parser_defaults() -> dict[str, Any]:
    """Defaults the kit sets before TRL parses; a recipe or a flag still overrides each one.

    The weights default to None so we can tell "not given" (set from the label balance) from 1.0.
    On CPU, KTOConfig refuses its bf16 default and gradient checkpointing only slows a small model.
    """
    defaults: dict[str, Any] = {
        "use_peft": True,
        "desirable_weight": None,
        "undesirable_weight": None,
        "output_dir": DEFAULT_OUTPUT,
        "report_to": "none",
        "disable_tqdm": False,  # transformers hides the training bar when its logs are quiet (ktokit.console)
    }
    if on_cpu():
        defaults.update(use_cpu=True, bf16=False, gradient_checkpointing=False)
    return defaults


def config_path(argv: list[str]) -> str | None:
    """The `--config` recipe named on the command line (the model card and metrics cite it)."""
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--config="):
            return arg.partition("=")[2]
    return None


# The KTO authors recommend 5e-7 to 5e-6 for full fine-tuning (TRL's "[KTO] learning rate recommendations
# for kto"); a LoRA adapter usually wants about 10x the full fine-tuning rate ("LoRA Without Regret").
KTO_FULL_LR = (5e-7, 5e-6)
LORA_LR_FACTOR = 10.0
LR_SLACK = 3.0  # only warn when the rate is more than this factor outside the band


def learning_rate_band(use_peft: bool) -> tuple[float, float]:
    """The recommended learning rates for KTO, full fine-tuning or a LoRA adapter."""
    low, high = KTO_FULL_LR
    factor = LORA_LR_FACTOR if use_peft else 1.0
    return low * factor, high * factor


def learning_rate_warning(learning_rate: float, use_peft: bool) -> str | None:
    """A warning when the rate is far outside the recommended band for the method; None when it is fine."""
    low, high = learning_rate_band(use_peft)
    method = "LoRA" if use_peft else "full fine-tuning"
    if learning_rate > high * LR_SLACK:
        return (
            f"learning_rate {learning_rate:g} is far above the {low:g}..{high:g} recommended for KTO with "
            f"{method}: training may diverge or forget; lower it unless you measured otherwise"
        )
    if learning_rate < low / LR_SLACK:
        return (
            f"learning_rate {learning_rate:g} is far below the {low:g}..{high:g} recommended for KTO with "
            f"{method}: the model may not move; raise it unless you measured otherwise"
        )
    return None
