"""A base model and its LoRA adapter, answering a pack's prompts: what evaluation and the demo Space share.

One load serves both sides of a comparison: the tuned model is the base with the adapter, and the
base's answers come from the same weights with the adapter switched off (`model_variants`), under
the same seed. The demo Space ships this module, so it imports nothing of the kit at load time.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any


def load_model(base: str, adapter: str | None = None, *, dtype: str = "auto") -> tuple[Any, Any]:
    """(model, tokenizer): the base with the adapter attached when one is given.

    On the GPU if there is one.
    """
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


def complete(
    model: Any,
    tokenizer: Any,
    pack: Any,
    prompts: list[str],
    *,
    temperature: float,
    seed: int,
    max_new_tokens: int = 64,
    batch_size: int = 16,
    top_p: float = 1.0,
) -> list[str]:
    """One completion per prompt, in the pack's chat format, sampled at `temperature` (0: greedy) from
    `seed`; an answer may be ""."""
    import torch

    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    torch.manual_seed(seed)
    outputs: list[str] = []
    try:
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start : start + batch_size]
            if tokenizer.chat_template:
                enc = tokenizer.apply_chat_template(
                    [pack.messages(p) for p in chunk],
                    add_generation_prompt=True,
                    padding=True,
                    return_tensors="pt",
                    return_dict=True,
                )
            else:
                enc = tokenizer([pack.user_prompt(p) for p in chunk], padding=True, return_tensors="pt")
            enc = {k: v.to(model.device) for k, v in enc.items()}
            sampling = (
                {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
                if temperature > 0
                else {"do_sample": False}
            )
            with torch.no_grad():
                out = model.generate(
                    **enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, **sampling
                )
            width = enc["input_ids"].shape[1]
            outputs += tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side
    return [o.strip() for o in outputs]


def model_variants(model: Any) -> list[tuple[str, contextlib.AbstractContextManager]]:
    """("base", adapter off) and ("tuned", adapter on) for a PEFT model; ("base", as is) otherwise."""
    if hasattr(model, "disable_adapter"):
        return [("base", model.disable_adapter()), ("tuned", contextlib.nullcontext())]
    return [("base", contextlib.nullcontext())]
