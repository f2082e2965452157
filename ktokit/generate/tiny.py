"""Tiny offline models: a real causal LM and tokenizer built from a language pack's own text.

Nothing can be downloaded from the Hub here, yet generation, KTO training and the demo must run for
real. So the kit trains a byte-level BPE tokenizer and a ~1M-parameter Llama on the pack's prompts and
examples (chat-formatted, so the model answers a prompt with something haiku-shaped), and caches the
result under `$KTOKIT_HOME/tiny-models/`, keyed by everything that went into it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ktokit.packs.languages import LanguagePack, load_pack
from ktokit.paths import kit_home, write_json

SPECIAL_TOKENS = ["<|pad|>", "<|bos|>", "<|eos|>", "<|unk|>", "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|eos|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
RECIPE_VERSION = 3  # bump when the way a tiny model is built changes: the cache key follows
TINY = "tiny"  # the model name that means "the tiny model": `tiny`, or `tiny:<lang>` for another pack's


def is_tiny(name: str | None) -> bool:
    """Whether a model name asks for the kit's tiny model.

    In a model set, a recipe or on the command line.
    """
    return bool(name) and (name == TINY or name.startswith(TINY + ":"))


def tiny_language(name: str, language: str | None) -> str | None:
    """The pack a tiny model name is built from: `tiny:<lang>`'s, else `language`."""
    return name.partition(":")[2] or language


@dataclass(frozen=True)
class TinyRecipe:
    vocab_size: int = 1024
    hidden_size: int = 128
    intermediate_size: int = 352
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2
    steps: int = 400
    batch_size: int = 16
    learning_rate: float = 5e-3
    # Each answer the model learns from is a pack example's lines recombined (line 1 from one example, line
    # 2 from another...), each line kept intact with this probability, else one word dropped or doubled
    # (a character in scripts written without spaces). So the model writes three-line answers that pass
    # the form check some of the time and come more or less close otherwise: room for KTO to show what
    # the votes teach. A line stays a line of its position, which is what teaches the model where to stop.
    line_intact: float = 0.7
    # With this probability the answer runs on past the form with one more line: the commonest miss of
    # real models (they ramble), and one decision (stop after the last line) that KTO can learn from a
    # few dozen votes, so the learning benchmark and `make demo` show what votes do.
    extra_line: float = 0.2
    answers_per_prompt: int = 4


def _lines_by_position(pack: LanguagePack) -> list[list[str]]:
    """The examples' lines grouped by position (line 1s, line 2s, ...), for examples of the usual length."""
    split = [[ln.strip() for ln in ex.splitlines() if ln.strip()] for ex in pack.examples]
    width = max((len(s) for s in split), default=0)
    usual = [s for s in split if len(s) == (pack.form.lines or width)] or [s for s in split if s]
    return [list(dict.fromkeys(s[i] for s in usual)) for i in range(len(usual[0]))] if usual else []


def _alter(line: str, rng: random.Random) -> str:
    """The line one word longer or shorter (one character where words are not spaced)."""
    words = line.split()
    units, joiner = (words, " ") if len(words) > 1 else (list(line), "")
    if len(units) < 2:
        return line + joiner + line
    i = rng.randrange(len(units))
    units = units[:i] + units[i + 1 :] if rng.random() < 0.5 else units[: i + 1] + units[i:]
    return joiner.join(units)


def _answer(by_position: list[list[str]], rng: random.Random, intact: float, extra: float = 0.0) -> str:
    lines = [rng.choice(group) for group in by_position]
    if rng.random() < extra:
        lines.append(rng.choice(rng.choice(by_position)))
    return "\n".join(line if rng.random() < intact else _alter(line, rng) for line in lines)


def _corpus(pack: LanguagePack, seed: int, recipe: TinyRecipe) -> tuple[list[str], list[list[dict]]]:
    """Plain texts for the tokenizer, and prompt/answer chats (in the pack's chat format) for the model."""
    rng = random.Random(seed)
    prompts = pack.prompts or ["…"]
    by_position = _lines_by_position(pack)
    chats = []
    for prompt in prompts:
        for _ in range(recipe.answers_per_prompt):
            answer = (
                _answer(by_position, rng, recipe.line_intact, recipe.extra_line) if by_position else prompt
            )
            chats.append([*pack.messages(prompt), {"role": "assistant", "content": answer}])
    texts = [*prompts, *pack.examples, pack.system_prompt, pack.annotation.guidelines]
    return [t for t in texts if t], chats


def cache_key(pack: LanguagePack, seed: int, recipe: TinyRecipe) -> str:
    import torch
    import transformers

    payload = {
        "recipe": asdict(recipe),
        "version": RECIPE_VERSION,
        "seed": seed,
        "prompts": pack.prompts,
        "examples": pack.examples,
        "system": pack.system_prompt,
        "template": pack.user_template,
        "transformers": transformers.__version__,
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
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|bos|>",
        eos_token="<|eos|>",
        unk_token="<|unk|>",
        pad_token="<|pad|>",
        chat_template=CHAT_TEMPLATE,
    )
    hf_tok.model_max_length = 512
    return hf_tok


def tokenize_chat(tokenizer, chat: list[dict]) -> tuple[list[int], int]:
    """Token ids of a whole chat, and where the answer starts: only the answer is learnt (the system
    prompt is the same in every chat and would otherwise take most of the loss)."""
    prefix = tokenizer.apply_chat_template(chat[:-1], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(chat, tokenize=False)
    ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    return ids, len(tokenizer(prefix, add_special_tokens=False)["input_ids"])


def collate(examples: list[tuple[list[int], int]], pad_id: int):
    """Right-padded ids, attention mask and labels (-100 on the prompt and the padding)."""
    import torch

    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full_like(ids, -100)
    mask = torch.zeros_like(ids)
    for row, (tokens, answer_at) in enumerate(examples):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        labels[row, answer_at : len(tokens)] = ids[row, answer_at : len(tokens)]
        mask[row, : len(tokens)] = 1
    return ids, mask, labels


def train_tiny(
    pack: LanguagePack, seed: int, recipe: TinyRecipe, out_dir: Path, progress: bool = True
) -> dict:
    """Build, briefly train and save a tiny model to `out_dir`; returns training figures."""
    import time

    import torch
    from tqdm.auto import tqdm
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    texts, chats = _corpus(pack, seed, recipe)
    tokenizer = build_tokenizer(texts, recipe.vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=recipe.hidden_size,
        intermediate_size=recipe.intermediate_size,
        num_hidden_layers=recipe.num_layers,
        num_attention_heads=recipe.num_heads,
        num_key_value_heads=recipe.num_kv_heads,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    examples = [tokenize_chat(tokenizer, chat) for chat in chats]
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate)
    warmup = max(1, recipe.steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: (
            min(1.0, (step + 1) / warmup)
            * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(step, recipe.steps) / recipe.steps)))
        ),
    )
    model.train()
    start, losses = time.perf_counter(), []
    bar = tqdm(
        range(recipe.steps), desc=f"tiny model {pack.code} seed {seed}", disable=not progress, leave=False
    )
    for _ in bar:
        idx = torch.randint(0, len(examples), (recipe.batch_size,), generator=generator).tolist()
        ids, mask, labels = collate([examples[i] for i in idx], tokenizer.pad_token_id)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.2f}")
    model.eval()
    # The role markers never belong in an answer: forbidding them keeps a sampled answer from
    # wandering into a new "turn" that decodes to nothing.
    roles = [tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS if t != tokenizer.eos_token]
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        max_new_tokens=48,
        do_sample=True,
        temperature=0.8,
        top_p=0.95,
        suppress_tokens=roles,
    )
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    figures = {
        "language": pack.code,
        "seed": seed,
        "parameters": sum(p.numel() for p in model.parameters()),
        "first_loss": round(losses[0], 4),
        "final_loss": round(losses[-1], 4),
        "train_seconds": round(time.perf_counter() - start, 1),
        "recipe": asdict(recipe),
    }
    write_json(out_dir / "tiny_model.json", figures)
    return figures


def tiny_model(
    language: str | LanguagePack,
    seed: int = 0,
    *,
    recipe: TinyRecipe | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> Path:
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
