"""The learning path, cheaply: a broken one (labels inverted, the adapter not saved or not applied, a
chat template at training other than the one at generation and evaluation) fails here, without the
minutes the learning benchmark takes.

- train_kto.py on a small export raises the log-probability of the 👍 completions relative to the 👎
  ones, measured on the saved adapter, loaded as evaluation loads it; the same export with every
  label inverted moves it the other way.
- The prompt the model sees is one token sequence at generation (preference_gen.py), at training
  (what KTOTrainer tokenizes after train_kto.py's preparation) and at evaluation / in the demo Space
  (`ktokit.inference.complete`), with the pack's system prompt in it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from datasets import Dataset, DatasetDict
from kit_testing import ROOT, run_script

from ktokit.packs.languages import load_pack

LANG = "en"
RECIPE = str(ROOT / "recipes" / "cpu-learning.yaml")
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}
N_ROWS = 48


def broken(example: str, i: int) -> str:
    """A near miss, as the tiny models make them: one word dropped or doubled in one line."""
    lines = example.split("\n")
    k = i % len(lines)
    words = lines[k].split()
    words = words[:-1] if i % 2 else words + words[-1:]
    lines[k] = " ".join(words)
    return "\n".join(lines)


def export_rows(flip: bool = False) -> list[dict]:
    """An export as export_kto.py writes it (standard rows): 👍 the pack's examples, 👎 near misses."""
    pack = load_pack(LANG)
    rows = []
    for i, prompt in enumerate(pack.prompts[:N_ROWS]):
        good = i % 2 == 0
        example = pack.examples[(i // 2) % len(pack.examples)]
        rows.append(
            {
                "prompt": prompt,
                "completion": example if good else broken(example, i),
                "label": good != flip,
                "model": "tiny",
                "language": LANG,
            }
        )
    return rows


def train(tmp: Path, name: str, flip: bool) -> Path:
    data = tmp / f"kto-{name}"
    DatasetDict({"train": Dataset.from_list(export_rows(flip))}).save_to_disk(str(data))
    out = tmp / name
    result = run_script(
        "train_kto.py",
        "--config",
        RECIPE,
        "--language",
        LANG,
        "--dataset_name",
        str(data),
        "--output_dir",
        str(out),
        "--num_train_epochs",
        "4",
        "--eval",
        "false",
        # the learning path, not the recipe's tuning: both labels pull alike
        "--learning_rate",
        "1e-3",
        "--desirable_weight",
        "1.0",
        "--undesirable_weight",
        "1.0",
        env=ENV,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def completion_logprob(model, tokenizer, pack, prompt: str, completion: str) -> float:
    """log p(completion | the pack's chat for prompt), summed over the completion's tokens."""
    prompt_ids = tokenizer.apply_chat_template(
        pack.messages(prompt), add_generation_prompt=True, tokenize=True, return_dict=True
    )["input_ids"]
    full = tokenizer.apply_chat_template(
        pack.messages(prompt) + [{"role": "assistant", "content": completion}],
        tokenize=True,
        return_dict=True,
    )["input_ids"]
    ids = torch.tensor([full])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1].float()
    logp = torch.log_softmax(logits, -1).gather(1, ids[0, 1:, None])[:, 0]
    return float(logp[len(prompt_ids) - 1 :].sum())


def margins(adapter: Path) -> tuple[float, float]:
    """(base, tuned): mean log p of the pack's 👍 rows minus that of the 👎 rows.

    Labels as first exported.
    """
    from ktokit.generate.adapters import adapter_info
    from ktokit.inference import load_model, model_variants

    pack = load_pack(LANG)
    info = adapter_info(str(adapter), None, LANG)
    model, tokenizer = load_model(info.base_path, str(adapter))
    model.eval()
    rows = export_rows()
    found = {}
    for label, switch in model_variants(model):
        with switch:
            lp = [
                (completion_logprob(model, tokenizer, pack, r["prompt"], r["completion"]), r["label"])
                for r in rows
            ]
        good = [v for v, ok in lp if ok]
        bad = [v for v, ok in lp if not ok]
        found[label] = sum(good) / len(good) - sum(bad) / len(bad)
    return found["base"], found["tuned"]


@pytest.fixture(scope="module")
def adapters(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("learning")
    return train(tmp, "tuned", flip=False), train(tmp, "flipped", flip=True)


@pytest.mark.slow
def test_training_raises_the_liked_answers_and_the_flipped_control_lowers_them(adapters):
    tuned_dir, flipped_dir = adapters
    base, tuned = margins(tuned_dir)
    base_again, flipped = margins(flipped_dir)
    assert base == pytest.approx(base_again, abs=1e-3)  # the adapter is off for the base: the same model
    assert tuned > base + 1.0, (
        f"👍-vs-👎 log-prob margin {base:.2f} -> {tuned:.2f}: KTO did not learn the votes"
    )
    assert flipped < base - 1.0, f"margin {base:.2f} -> {flipped:.2f} with inverted labels: it should fall"


class RecordingModel(torch.nn.Module):
    """The real model; `generate` also keeps the prompt ids it was given (left padding removed)."""

    def __init__(self, model, pad_id: int):
        super().__init__()
        self.model, self.pad_id, self.seen = model, pad_id, []

    @property
    def device(self):
        return self.model.device

    def generate(self, input_ids, attention_mask, **kwargs):
        self.seen += [ids[mask.bool()].tolist() for ids, mask in zip(input_ids, attention_mask)]
        return self.model.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)


def test_the_prompt_is_the_same_at_generation_training_and_evaluation(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import KTOConfig, ModelConfig, ScriptArguments

    from ktokit.generate.tiny import tiny_model
    from ktokit.inference import complete
    from ktokit.kto_format import prompt_text
    from ktokit.train.arguments import KitArguments
    from ktokit.train.run import KitKTOTrainer, prepare

    pack = load_pack(LANG)
    prompts = pack.prompts[:3]
    # Generation: preference_gen.py with the tiny model records the exact text it sent to the model
    gen = tmp_path / "generations"
    result = run_script(
        "preference_gen.py",
        "--language",
        LANG,
        "--sample",
        "3",
        "--models",
        "offline",
        "--output",
        str(gen),
        env=ENV,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in (gen / "generations.jsonl").read_text().splitlines()]
    sent = {r["input"]: r["generation_prompt"][0] for r in rows if r["generation_prompt"]}
    base = str(tiny_model(LANG, progress=False))
    tokenizer = AutoTokenizer.from_pretrained(base)
    at_generation = {p: tokenizer(sent[p], add_special_tokens=False)["input_ids"] for p in prompts}

    # Training: train_kto.py's preparation of exported (standard) rows, then KTOTrainer's own tokenization
    data = tmp_path / "kto"
    DatasetDict(
        {
            "train": Dataset.from_list(
                [
                    {"prompt": p, "completion": pack.examples[0], "label": i % 2 == 0}
                    for i, p in enumerate(prompts * 2)
                ]
            )
        }
    ).save_to_disk(str(data))
    config = KTOConfig(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        bf16=False,
        report_to="none",
        per_device_train_batch_size=2,
    )
    run, tok = prepare(
        KitArguments(language=LANG),
        ScriptArguments(dataset_name=str(data)),
        config,
        ModelConfig(model_name_or_path="tiny", use_peft=False),
    )
    trainer = KitKTOTrainer(model=run.model_path, args=config, train_dataset=run.train, processing_class=tok)
    at_training = {
        prompt_text(r["prompt"]): ids for r, ids in zip(run.train, trainer.train_dataset["prompt_ids"])
    }

    # Evaluation and the demo Space: ktokit.inference.complete on the same model
    recorder = RecordingModel(AutoModelForCausalLM.from_pretrained(base), tokenizer.pad_token_id)
    complete(recorder, tokenizer, pack, prompts, temperature=0, seed=1, max_new_tokens=2)
    at_evaluation = dict(zip(prompts, recorder.seen))

    for p in prompts:
        user = pack.user_prompt(p)
        train_ids = at_training[user]
        assert at_generation[p] == train_ids == at_evaluation[p], (
            f"the prompt differs between steps for {p!r}"
        )
        assert pack.system_prompt.strip() in tokenizer.decode(train_ids)
