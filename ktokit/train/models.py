"""What training does to models: LoRA targets KTOTrainer accepts, merging an adapter into its base.

Which base a name loads and which base an adapter was trained on are in `ktokit.generate.adapters`
(generation loads adapters too, and an earlier step never imports a later one).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ktokit.console import say

REFERENCE_ADAPTER = "ref"  # the frozen copy TRL's KTOTrainer adds next to a pretrained adapter


def lora_targets_without_lm_head(targets: list[str] | str | None) -> list[str] | str | None:
    """TRL 1.16's KTOTrainer fails with a LoRA on lm_head (e.g. from a copied SFT recipe): drop it."""
    if isinstance(targets, list) and "lm_head" in targets:
        kept = [t for t in targets if t != "lm_head"]
        say("lora_target_modules: lm_head removed (KTOTrainer cannot train a LoRA on lm_head)", tag=True)
        return kept or None
    if targets == "lm_head":
        say("lora_target_modules: lm_head removed; using PEFT's default targets for this model", tag=True)
        return None
    return targets


def merge_adapter(adapter_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Base model with the adapter folded in, in full precision (a 4-bit base is reloaded unquantized)."""
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    adapter_dir = Path(adapter_dir)
    out = Path(out_dir) if out_dir else adapter_dir / "merged"
    model = AutoPeftModelForCausalLM.from_pretrained(str(adapter_dir), dtype="auto")
    model.merge_and_unload().save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(adapter_dir)).save_pretrained(str(out))
    return out


def adapter_to_train(
    model_path: str, adapter: str | Path, model_init_kwargs: dict[str, Any], distributed_type: Any = None
) -> Any:
    """The base with an earlier round's adapter loaded trainable: the model KTOTrainer goes on from.

    Loaded as TRL would load the base (`create_model_from_path`, the same kwargs, device_map None when
    distributed), then `PeftModel.from_pretrained(..., is_trainable=True)`: the adapter itself is trained,
    never a new LoRA stacked on it (TRL refuses a PeftModel together with a peft_config). KTOTrainer then
    copies it as a frozen "ref" adapter, so the reference model is the round it starts from.
    """
    from peft import PeftModel
    from trl.trainer.utils import create_model_from_path

    kwargs = dict(model_init_kwargs)
    if str(distributed_type).rsplit(".", 1)[-1] in ("MULTI_GPU", "DEEPSPEED"):
        kwargs["device_map"] = None  # as TRL does: "auto" fails under DDP and DeepSpeed
    model = create_model_from_path(model_path, **kwargs)
    return PeftModel.from_pretrained(model, str(adapter), is_trainable=True)


def drop_reference_copy(output_dir: str | Path) -> None:
    """PEFT saves every adapter of a model; the frozen reference copy TRL added is round one's adapter,
    which the user has already: the output keeps the trained adapter alone, as a fresh run's does."""
    copy = Path(output_dir) / REFERENCE_ADAPTER
    if (copy / "adapter_config.json").is_file():
        shutil.rmtree(copy, ignore_errors=True)
