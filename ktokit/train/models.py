"""What training does to models: LoRA targets KTOTrainer accepts, merging an adapter into its base.

Which base a name loads and which base an adapter was trained on are in `ktokit.generate.adapters`
(generation loads adapters too, and an earlier step never imports a later one).
"""

from __future__ import annotations

from pathlib import Path

from ktokit.console import say


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
