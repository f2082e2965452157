"""train_kto.py: the cpu-smoke recipe end to end on the tiny model, DDP over two CPU processes, bad input.

The KTO dataset is built the way export_kto.py lays it out (save_to_disk, train/test splits, its
columns): 👍 rows are the pack's own examples, 👎 rows broken versions of them.
"""

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from datasets import Dataset, DatasetDict

from ktokit.errors import KitError
from ktokit.evaluation import main as evaluate_main
from ktokit.languages import load_pack
from ktokit.training import balance_weights, normalise_argv, push_to_hub

ROOT = Path(__file__).resolve().parent.parent
LANG = "ja"  # the pack with prompts and examples in this checkout
RECIPE = str(ROOT / "recipes" / "cpu-smoke.yaml")
FAST = ["--max_steps", "3", "--eval_prompts", "2", "--eval_seeds", "1", "--eval_max_new_tokens", "8"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}


def kto_dataset(path, n_good=24, n_bad=16, n_test=6):
    pack = load_pack(LANG)

    def broken(text, i):
        lines = text.split("\n")
        return [" ".join(lines), lines[0], "\n".join(lines + lines[:2]), text.replace("\n", "")[::-1]][i % 4]

    rows = []
    for i, prompt in enumerate(pack.prompts[: n_good + n_bad + n_test]):
        good = i < n_good or (i >= n_good + n_bad and i % 2 == 0)
        example = pack.examples[i % len(pack.examples)]
        rows.append({"prompt": prompt, "completion": example if good else broken(example, i), "label": good,
                     "model": "tiny", "language": LANG, "votes_up": 2 * good, "votes_down": 2 * (not good),
                     "agreement": 1.0})
    data = Dataset.from_list(rows)
    n = n_good + n_bad
    if not n_test:  # export_kto may also write one Dataset, no splits
        data.save_to_disk(str(path))
        return path
    DatasetDict({"train": data.select(range(n)), "test": data.select(range(n, len(data)))}).save_to_disk(str(path))
    return path


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One run of the shipped recipe with --eval and --merge, shared by the checks below."""
    tmp = tmp_path_factory.mktemp("smoke")
    data = kto_dataset(tmp / "kto")
    out = tmp / "model"
    result = subprocess.run(
        [sys.executable, str(ROOT / "train_kto.py"), "--config", RECIPE, "--language", LANG, "--dataset_name",
         str(data), "--output_dir", str(out), "--eval", "--merge", *FAST],
        capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out, data, result


@pytest.mark.slow
def test_smoke_recipe_trains_with_finite_loss_and_balanced_weights(smoke):
    out, _, result = smoke
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["global_step"] == 3
    assert math.isfinite(metrics["train"]["train_loss"]) and metrics["train"]["train_loss"] > 0
    # 24 👍 / 16 👎 = 1.5 is above KTO's range: the undesirable weight is raised to bring it in, and logged
    assert (metrics["desirable"], metrics["undesirable"]) == (24, 16)
    weighted = metrics["desirable_weight"] * 24 / (metrics["undesirable_weight"] * 16)
    assert metrics["undesirable_weight"] > 1 and 1 <= weighted <= 4 / 3
    assert "undesirable_weight 1.2857" in result.stderr
    assert metrics["recipe"].endswith("cpu-smoke.yaml") and metrics["language"] == LANG


@pytest.mark.slow
def test_adapter_reloads_with_peft_and_changes_the_logits(smoke):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, _, _ = smoke
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    base_path = json.loads((out / "metrics.json").read_text())["base_model_path"]
    tok = AutoTokenizer.from_pretrained(out)
    pack = load_pack(LANG)
    ids = tok.apply_chat_template(pack.messages(pack.prompts[-1]), add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    base = AutoModelForCausalLM.from_pretrained(base_path).eval()
    with torch.no_grad():
        before = base(**ids).logits
        tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_path), out).eval()
        after = tuned(**ids).logits
        merged = AutoModelForCausalLM.from_pretrained(out / "merged").eval()
        merged_logits = merged(**ids).logits
    assert not torch.allclose(before, after, atol=1e-4)
    assert torch.allclose(after, merged_logits, atol=1e-4)


@pytest.mark.slow
def test_model_card_and_eval_files(smoke):
    out, data, _ = smoke
    card = (out / "README.md").read_text()
    for fact in ("tiny", str(data), "cpu-smoke.yaml", "| Language | ja |", "Training loss", "base vs tuned"):
        assert fact in card, fact
    eval_dir = out / "eval"
    rows = [json.loads(line) for line in (eval_dir / "completions.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 1 * 2  # models x seeds x prompts, one temperature
    assert {r["model"] for r in rows} == {"base", "tuned"}
    assert all(0 <= r["score"] <= 1 and r["verdict"] in ("pass", "fail") for r in rows)
    # prompts are held out: none of the training prompts is evaluated
    trained = set(load_pack(LANG).prompts[:40])
    assert not {r["prompt"] for r in rows} & trained
    result = json.loads((eval_dir / "results-tuned.json").read_text())
    assert result["config"]["seedVariants"] == 1
    first = result["results"][0]["settingsResults"][0]
    assert first["temperature"] == 0.7 and len(first["completions"]) == 1
    summary = json.loads((eval_dir / "summary.json").read_text())
    assert [s["model"] for s in summary] == ["base", "tuned"]
    table = (eval_dir / "summary.md").read_text().splitlines()
    assert table[0].startswith("| Model | Form score | Pass rate | Mean length")
    assert [line.split(" | ")[0] for line in table[2:]] == ["| tiny", "| tiny + KTO"]


@pytest.mark.slow
def test_evaluate_command_on_the_saved_adapter(smoke, tmp_path, capsys):
    out, _, _ = smoke
    rc = evaluate_main(["--language", LANG, "--adapter", str(out), "--prompts", "2", "--seeds", "2",
                        "--temperature", "0", "1.0", "--max-new-tokens", "6", "--output", str(tmp_path)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| Model | Form score | Pass rate |" in printed
    rows = (tmp_path / "completions.jsonl").read_text().splitlines()
    assert len(rows) == 2 * 2 * 2 * 2  # models x temperatures x seeds x prompts
    greedy = [json.loads(r) for r in rows if json.loads(r)["temperature"] == 0]
    by_seed = {(r["model"], r["prompt"]): set() for r in greedy}
    for r in greedy:
        by_seed[(r["model"], r["prompt"])].add(r["completion"])
    assert all(len(v) == 1 for v in by_seed.values())  # greedy: the seed does not matter


@pytest.mark.slow
def test_two_process_ddp_run_through_accelerate(tmp_path):
    data = kto_dataset(tmp_path / "kto")
    out = tmp_path / "model"
    result = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
         str(ROOT / "recipes" / "accelerate" / "ddp.yaml"), "--num_processes", "2", "--main_process_port", "29531",
         str(ROOT / "train_kto.py"), "--config", RECIPE, "--language", LANG, "--dataset_name", str(data),
         "--output_dir", str(out), "--max_steps", "2"],
        capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["global_step"] == 2
    assert math.isfinite(metrics["train"]["train_loss"])
    assert result.stderr.count("[ktokit] done") == 1  # outputs written once, by the main process


# -- bad input: one line, exit status 2, no traceback ------------------------------------------------------

def _train_cli():
    spec = importlib.util.spec_from_file_location("train_kto", ROOT / "train_kto.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


@pytest.fixture(scope="module")
def bad_input_data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    return kto_dataset(tmp / "ok"), kto_dataset(tmp / "one-label", n_good=12, n_bad=0, n_test=0)


@pytest.mark.parametrize("args, message", [
    (["--dataset_name", "/nonexistent/kto"], "no KTO dataset at '/nonexistent/kto'"),
    (["--dataset_name", "{one}"], "only 👍 (desirable) labels (12 rows): KTO needs both"),
    (["--dataset_name", "{ok}", "--per_device_train_batch_size", "1"], "per_device_train_batch_size is 1"),
    (["--dataset_name", "{ok}", "--model_name_or_path", "/nonexistent/model"], "unknown base model '/nonexistent"),
    (["--dataset_name", "{ok}", "--model_name_or_path", "nobody/no-such-model"], "unknown base model 'nobody/"),
    (["--dataset_name", "{ok}", "--no_such_option", "1"], "Some specified arguments are not used"),
])
def test_bad_input_is_one_clear_line(args, message, bad_input_data, tmp_path, capsys):
    ok, one = bad_input_data
    args = [a.format(ok=ok, one=one) for a in args]
    cli = _train_cli()
    try:
        rc = cli(["--config", RECIPE, "--language", LANG, "--output_dir", str(tmp_path / "out"), *args])
    except SystemExit as exc:  # argparse's own refusal of an unknown flag: also exit 2, usage + one line
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "adapter_config.json").exists()


def test_bad_input_from_the_shell_exits_2_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "train_kto.py"), "--config", RECIPE, "--language", LANG,
                             "--dataset_name", str(tmp_path / "missing")],
                            capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: no KTO dataset at")
    assert "Traceback" not in result.stderr


# -- the small pieces ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("pos, neg", [(20, 20), (24, 16), (10, 30), (1, 99), (99, 1), (4, 3), (7, 6)])
def test_balance_weights_fall_in_ktos_range(pos, neg):
    d, u, why = balance_weights(pos, neg)
    assert 1 <= d * pos / (u * neg) <= 4 / 3
    assert min(d, u) == 1.0 and "weighted ratio" in why
    if 1 <= pos / neg <= 4 / 3:
        assert d == u == 1.0


def test_balance_weights_keep_what_the_user_gave():
    assert balance_weights(10, 30, desirable=2.0)[:2] == (2.0, 1.0)
    assert "outside" in balance_weights(10, 30, desirable=2.0)[2]
    assert balance_weights(30, 10, 1.0, 2.5)[:2] == (1.0, 2.5)


def test_push_to_hub_repo_flag():
    assert normalise_argv(["--push-to-hub", "me/haiku-kto", "--eval"]) == ["--hub_repo", "me/haiku-kto", "--eval"]
    assert normalise_argv(["--push_to_hub=me/x"]) == ["--hub_repo", "me/x"]
    assert normalise_argv(["--push_to_hub", "true"]) == ["--push_to_hub", "true"]
    assert normalise_argv(["--push-to-hub"]) == ["--push-to-hub"]


def test_push_failure_is_one_line_without_the_token(tmp_path):
    (tmp_path / "adapter_config.json").write_text("{}")
    with pytest.raises(KitError) as err:  # HF_HUB_OFFLINE=1 in the tests: the Hub refuses
        push_to_hub(tmp_path, "someone/haiku-kto", token="hf_NotARealToken123")
    assert "someone/haiku-kto" in str(err.value) and "\n" not in str(err.value)
    assert "hf_NotARealToken123" not in str(err.value)


@pytest.mark.parametrize("recipe", sorted(p.name for p in (ROOT / "recipes").glob("*.yaml")))
def test_every_recipe_parses_with_trls_parser(recipe):
    from trl import KTOConfig, ModelConfig, ScriptArguments, TrlParser

    from ktokit.training import KitArguments, parser_defaults

    parser = TrlParser((KitArguments, ScriptArguments, KTOConfig, ModelConfig))
    parser.set_defaults(**parser_defaults())
    kit, _, training, model = parser.parse_args_and_config(
        ["--config", str(ROOT / "recipes" / recipe), "--bf16", "false", "--use_cpu", "true", "--load_in_4bit", "false"])
    assert model.use_peft and model.model_name_or_path
    assert training.per_device_train_batch_size >= 2
    assert "{language}" in training.output_dir
