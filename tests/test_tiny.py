"""Tiny offline models: built from a pack, cached by their inputs, loadable with the Auto classes."""

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from ktokit.generate.tiny import TinyRecipe, tiny_model
from ktokit.packs.languages import load_pack

QUICK = TinyRecipe(steps=6, batch_size=8, hidden_size=64, intermediate_size=128, num_layers=2, vocab_size=600)


@pytest.fixture(scope="module")
def quick_model(tmp_path_factory):
    return tiny_model("en", seed=0, recipe=QUICK, cache_dir=tmp_path_factory.mktemp("a"), progress=False)


def _weights(path):
    return AutoModelForCausalLM.from_pretrained(path).state_dict()


def test_builds_reloads_and_generates(quick_model):
    info = json.loads((quick_model / "tiny_model.json").read_text())
    assert info["language"] == "en" and info["final_loss"] < info["first_loss"]
    tok = AutoTokenizer.from_pretrained(quick_model)
    model = AutoModelForCausalLM.from_pretrained(quick_model)
    pack = load_pack("en")
    ids = tok.apply_chat_template(
        pack.messages(pack.prompts[0]), add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    assert tok.decode(ids["input_ids"][0]).endswith("<|assistant|>\n")
    torch.manual_seed(0)
    out = model.generate(**ids, max_new_tokens=12, do_sample=True)
    new = out[0][ids["input_ids"].shape[1] :]
    assert 0 < len(new) <= 12
    assert isinstance(tok.decode(new, skip_special_tokens=True), str)


def test_cached_by_inputs(quick_model):
    stamp = (quick_model / "tiny_model.json").stat().st_mtime_ns
    again = tiny_model("en", seed=0, recipe=QUICK, cache_dir=quick_model.parent, progress=False)
    assert again == quick_model and (again / "tiny_model.json").stat().st_mtime_ns == stamp
    other = tiny_model(
        "en",
        seed=0,
        recipe=TinyRecipe(**{**QUICK.__dict__, "steps": 7}),
        cache_dir=quick_model.parent,
        progress=False,
    )
    assert other != quick_model


def test_deterministic_per_seed_and_different_across_seeds(quick_model, tmp_path):
    same = tiny_model("en", seed=0, recipe=QUICK, cache_dir=tmp_path, progress=False)
    other = tiny_model("en", seed=1, recipe=QUICK, cache_dir=tmp_path, progress=False)
    a, b, c = _weights(quick_model), _weights(same), _weights(other)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_cli_builds_the_default_model_for_a_pack(kit):
    result = kit("tiny-model", "--language", "ja")
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip().splitlines()[-1]
    assert "tiny-ja-seed0-" in path
    assert AutoTokenizer.from_pretrained(path).chat_template


@pytest.mark.parametrize("language", ["en", "ja"])
def test_default_model_answers_every_prompt_in_three_lines(language):
    """What must hold on any machine (the weights follow its floating point): every answer non-empty, nearly
    all of the recipe's shapes (three lines, or four: the one line too many it learnt to add), most of them
    three, greedy and sampled. `benchmarks/tiny_models.py` prints the full figures."""
    from ktokit.inference import complete

    pack = load_pack(language)
    path = tiny_model(language, progress=False)
    model, tok = AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    prompts = pack.prompts[:24]
    for temperature, top_p in ((0.0, 1.0), (0.8, 0.95)):
        answers = complete(
            model, tok, pack, prompts, temperature=temperature, top_p=top_p, seed=1, max_new_tokens=48
        )
        assert all(answers), (temperature, answers)
        lines = [len([line for line in a.split("\n") if line.strip()]) for a in answers]
        assert sum(n in (3, 4) for n in lines) >= 0.8 * len(prompts), (temperature, lines, answers)
        assert sum(n == 3 for n in lines) >= 0.5 * len(prompts), (temperature, lines, answers)
