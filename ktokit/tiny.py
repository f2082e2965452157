"""Tiny offline models: a real causal LM and tokenizer built from a language pack's own text.

Nothing can be downloaded from the Hub here, yet generation, KTO training and the demo must run for
real. So the kit trains a byte-level BPE tokenizer and a ~1M-parameter Llama on the pack's prompts and
examples (chat-formatted, so the model answers a prompt with something haiku-shaped), and caches the
result under `$KTOKIT_HOME/tiny-models/`, keyed by everything that went into it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ktokit.languages import LanguagePack, load_pack
from ktokit.paths import kit_home

SPECIAL_TOKENS = ["<|pad|>", "<|bos|>", "<|eos|>", "<|unk|>", "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|eos|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
RECIPE_VERSION = 1  # bump when the way a tiny model is built changes: the cache key follows


@dataclass(frozen=True)
class TinyRecipe:
    vocab_size: int = 1024
    hidden_size: int = 128
    intermediate_size: int = 352
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2
    max_length: int = 192
    steps: int = 80
    batch_size: int = 16
    learning_rate: float = 3e-3


def _corpus(pack: LanguagePack, seed: int) -> tuple[list[str], list[list[dict]]]:
    """Plain texts for the tokenizer, and prompt/answer chats for the language model."""
    rng = random.Random(seed)
    prompts = pack.prompts or ["…"]
    examples = pack.examples or prompts
    chats = [
        [*pack.messages(prompt), {"role": "assistant", "content": rng.choice(examples)}]
        for prompt in prompts
    ]
    texts = [*prompts, *examples, pack.system_prompt, pack.annotation.guidelines]
    return [t for t in texts if t], chats


def cache_key(pack: LanguagePack, seed: int, recipe: TinyRecipe) -> str:
    import torch
    import transformers

    payload = {
        "recipe": asdict(recipe), "version": RECIPE_VERSION, "seed": seed,
        "prompts": pack.prompts, "examples": pack.examples, "system": pack.system_prompt,
        "template": pack.user_template, "transformers": transformers.__version__,
        "torch": torch.__version__.split("+")[0],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]


def build_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|eos|>", unk_token="<|unk|>",
        pad_token="<|pad|>", chat_template=CHAT_TEMPLATE,
    )
    hf_tok.model_max_length = 512
    return hf_tok


def train_tiny(pack: LanguagePack, seed: int, recipe: TinyRecipe, out_dir: Path, progress: bool = True) -> dict:
    """Build, briefly train and save a tiny model to `out_dir`; returns training figures."""
    import time

    import torch
    from tqdm.auto import tqdm
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    texts, chats = _corpus(pack, seed)
    tokenizer = build_tokenizer(texts, recipe.vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=recipe.hidden_size, intermediate_size=recipe.intermediate_size,
        num_hidden_layers=recipe.num_layers, num_attention_heads=recipe.num_heads,
        num_key_value_heads=recipe.num_kv_heads, max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    rendered = [tokenizer.apply_chat_template(c, tokenize=False) for c in chats]
    enc = tokenizer(rendered, return_tensors="pt", padding=True, truncation=True,
                    max_length=recipe.max_length, add_special_tokens=False)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate)
    model.train()
    start, losses = time.perf_counter(), []
    bar = tqdm(range(recipe.steps), desc=f"tiny model {pack.code} seed {seed}", disable=not progress, leave=False)
    for _ in bar:
        idx = torch.randint(0, enc.input_ids.shape[0], (recipe.batch_size,), generator=generator)
        ids, mask = enc.input_ids[idx], enc.attention_mask[idx]
        loss = model(input_ids=ids, attention_mask=mask, labels=ids.masked_fill(mask == 0, -100)).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.2f}")
    model.eval()
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, max_new_tokens=48, do_sample=True, temperature=0.8, top_p=0.95,
    )
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    figures = {
        "language": pack.code, "seed": seed, "parameters": sum(p.numel() for p in model.parameters()),
        "first_loss": round(losses[0], 4), "final_loss": round(losses[-1], 4),
        "train_seconds": round(time.perf_counter() - start, 1), "recipe": asdict(recipe),
    }
    (out_dir / "tiny_model.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def tiny_model(language: str | LanguagePack, seed: int = 0, *, recipe: TinyRecipe | None = None,
               cache_dir: Path | None = None, progress: bool = True) -> Path:
    """Path of a tiny model for `language` and `seed`, built on first use and cached afterwards.

    Load it with `AutoModelForCausalLM.from_pretrained(path)` / `AutoTokenizer.from_pretrained(path)`.
    """
    pack = language if isinstance(language, LanguagePack) else load_pack(language)
    recipe = recipe or TinyRecipe()
    root = Path(cache_dir) if cache_dir else kit_home() / "tiny-models"
    target = root / f"tiny-{pack.code}-seed{seed}-{cache_key(pack, seed, recipe)}"
    if (target / "tiny_model.json").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=root))
    try:
        train_tiny(pack, seed, recipe, work, progress=progress)
        try:
            work.rename(target)  # atomic: a reader never sees half a model
        except OSError:  # built meanwhile by another process: keep theirs
            if not (target / "tiny_model.json").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
