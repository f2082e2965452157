"""train_kto.py: the cpu-smoke recipe end to end on the tiny model, DDP over two CPU processes, bad input.

The KTO dataset is built the way export_kto.py lays it out (save_to_disk, train/test splits, its
columns): 👍 rows are the pack's own examples, 👎 rows broken versions of them.
"""

import json
import math
import os
import subprocess
import sys

import pytest
import torch
from datasets import Dataset, DatasetDict
from kit_testing import LIBRARY_NOISE, ROOT, run_script

from ktokit.cli import main as kit
from ktokit.hub import hub_aliases
from ktokit.kto_format import balance_weights
from ktokit.packs.languages import load_pack
from ktokit.train.arguments import learning_rate_band, learning_rate_warning
from ktokit.train.run import main as train_main

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
        rows.append(
            {
                "prompt": prompt,
                "completion": example if good else broken(example, i),
                "label": good,
                "model": "tiny",
                "language": LANG,
                "votes_up": 2 * good,
                "votes_down": 2 * (not good),
                "agreement": 1.0,
            }
        )
    data = Dataset.from_list(rows)
    n = n_good + n_bad
    if not n_test:  # export_kto may also write one Dataset, no splits
        data.save_to_disk(str(path))
        return path
    DatasetDict({"train": data.select(range(n)), "test": data.select(range(n, len(data)))}).save_to_disk(
        str(path)
    )
    return path


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One run of the shipped recipe with --eval and --merge, shared by the checks below."""
    tmp = tmp_path_factory.mktemp("smoke")
    data = kto_dataset(tmp / "kto")
    out = tmp / "model"
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
        "--eval",
        "--merge",
        *FAST,
        env=ENV,
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
def test_a_training_run_prints_the_kits_lines_and_the_training_bar_only(smoke):
    _, _, result = smoke
    assert "[ktokit] done" in result.stderr and "3/3 [" in result.stderr  # the kit's lines, TRL's bar
    assert not LIBRARY_NOISE.search(result.stdout + result.stderr), result.stderr[-3000:]


@pytest.mark.slow
def test_adapter_reloads_with_peft_and_changes_the_logits(smoke):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, _, _ = smoke
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    base_path = json.loads((out / "metrics.json").read_text())["base_model_path"]
    tok = AutoTokenizer.from_pretrained(out)
    pack = load_pack(LANG)
    ids = tok.apply_chat_template(
        pack.messages(pack.prompts[-1]), add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
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
    assert "| Started from | the base model (a new LoRA adapter" in card
    assert "| Annotation rounds | not recorded (no export_summary.json" in card
    # TRL's own card underneath: its framework versions and citations, and no link to a Hub model "None"
    for trl_part in (
        "### Framework versions",
        "- TRL: ",
        "## Citations",
        "```bibtex",
        "# Model Card for model",
    ):
        assert trl_part in card, trl_part
    assert "huggingface.co/None" not in card and 'model="None"' not in card
    assert card.index("## ktokit") < card.index("## Quick start")
    assert card.startswith("---\n") and "library_name: peft" in card and "- ktokit" in card
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
    assert summary[1]["gain"]["prompts"] == 2 and len(summary[1]["gain"]["ci95"]) == 2
    assert "tuned - base form score:" in (eval_dir / "summary.md").read_text()
    table = (eval_dir / "summary.md").read_text().splitlines()
    assert table[0].startswith("| Model | Form score | Pass rate | Mean length")
    assert [line.split(" | ")[0] for line in table[2:] if line.startswith("|")] == ["| tiny", "| tiny + KTO"]


@pytest.mark.slow
def test_evaluate_command_on_the_saved_adapter(smoke, tmp_path, capsys):
    out, _, _ = smoke
    rc = kit(
        [
            "evaluate",
            "--language",
            LANG,
            "--adapter",
            str(out),
            "--prompts",
            "2",
            "--seeds",
            "2",
            "--temperature",
            "0",
            "1.0",
            "--max-new-tokens",
            "6",
            "--output",
            str(tmp_path),
        ]
    )
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


def lora_weights(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


@pytest.mark.slow
def test_round_two_goes_on_from_round_ones_adapter(smoke, tmp_path, capsys):
    """`--adapter`: training starts from that adapter's weights (not a new LoRA), the result is one
    adapter on the base (no nesting, no reference copy) that load_model reads, and the card and
    metrics.json name the rounds and the starting adapter."""
    import shutil

    from safetensors.torch import save_file

    from ktokit.inference import load_model

    out, _, _ = smoke
    # Round one's adapter, its LoRA weights set far from any fresh LoRA (B = 0, A from the same seed):
    # where training began shows in the result, whatever a few steps do.
    start = tmp_path / "round-1"
    shutil.copytree(out, start, ignore=shutil.ignore_patterns("merged", "eval"))
    generator = torch.Generator().manual_seed(1)
    weights = {k: 0.05 * torch.randn(v.shape, generator=generator) for k, v in lora_weights(start).items()}
    save_file(weights, str(start / "adapter_model.safetensors"))
    metrics = json.loads((start / "metrics.json").read_text())
    (start / "metrics.json").write_text(json.dumps({**metrics, "rounds": [1]}))
    data = kto_dataset(tmp_path / "kto-round-2")
    (data / "export_summary.json").write_text(json.dumps({"rounds": [2], "rows_per_round": {"2": 46}}))
    steps, lr = 2, 5e-4  # cpu-smoke.yaml's constant learning rate
    round2 = tmp_path / "round-2"
    rc = train_main(
        ["--config", RECIPE, "--language", LANG, "--dataset_name", str(data), "--output_dir", str(round2)]
        + ["--adapter", str(start), "--max_steps", str(steps), "--learning_rate", str(lr)]
    )
    err = capsys.readouterr().err
    assert rc == 0, err[-3000:]
    assert f"going on from the adapter {start} (trained on round 1)" in err

    trained = lora_weights(round2)
    assert set(trained) == set(weights)  # the same adapter's weights: no LoRA stacked on a LoRA
    assert not (round2 / "ref").exists()  # TRL's frozen reference copy is not part of the output
    moved = max((trained[k] - weights[k]).abs().max().item() for k in weights)
    # Adam moves a weight by about lr per step (at most ~1.5 lr here); a fresh LoRA would be 0.05 away
    assert 0 < moved <= 2 * steps * lr, moved
    assert min(w.abs().max().item() for w in weights.values()) > 20 * steps * lr

    model, _ = load_model(json.loads((round2 / "metrics.json").read_text())["base_model_path"], str(round2))
    assert list(model.peft_config) == ["default"]
    nested = [n for n, _ in model.named_parameters() if n.count("base_model.model") > 1]
    assert not nested, nested[:3]
    for key, loaded in model.state_dict().items():  # the weights of round 2, as trained
        if "lora_" in key:
            saved = key.replace(".default.weight", ".weight")
            assert torch.equal(loaded.cpu(), trained[saved]), key

    result = json.loads((round2 / "metrics.json").read_text())
    assert (result["rounds"], result["start_adapter"], result["start_adapter_rounds"]) == (
        [2],
        str(start),
        [1],
    )
    card = (round2 / "README.md").read_text()
    assert "| Annotation rounds | round 2 |" in card
    assert f"| Started from | the adapter `{start}`, trained on round 1;" in card


@pytest.mark.slow
def test_two_process_ddp_run_through_accelerate(tmp_path):
    from ktokit.annotate.argilla_local.processes import free_port

    data = kto_dataset(tmp_path / "kto")
    out = tmp_path / "model"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "accelerate.commands.launch",
            "--config_file",
            str(ROOT / "recipes" / "accelerate" / "ddp.yaml"),
            "--num_processes",
            "2",
            "--main_process_port",
            str(free_port()),  # a fixed port meets a stray run's rank that still listens for its peer
            str(ROOT / "train_kto.py"),
            "--config",
            RECIPE,
            "--language",
            LANG,
            "--dataset_name",
            str(data),
            "--output_dir",
            str(out),
            "--max_steps",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["global_step"] == 2
    assert math.isfinite(metrics["train"]["train_loss"])
    assert result.stderr.count("[ktokit] done") == 1  # outputs written once, by the main process


# -- bad input: one line, exit status 2, no traceback ------------------------------------------------------


@pytest.fixture(scope="module")
def bad_input_data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    return kto_dataset(tmp / "ok"), kto_dataset(tmp / "one-label", n_good=12, n_bad=0, n_test=0)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset_name", "/nonexistent/kto"], "no KTO dataset at '/nonexistent/kto'"),
        (["--dataset_name", "{one}"], "only 👍 (desirable) labels (12 rows): KTO needs both"),
        (
            ["--dataset_name", "{ok}", "--per_device_train_batch_size", "1"],
            "per_device_train_batch_size is 1",
        ),
        (
            ["--dataset_name", "{ok}", "--model_name_or_path", "/nonexistent/model"],
            "unknown base model '/nonexistent",
        ),
        (
            ["--dataset_name", "{ok}", "--model_name_or_path", "nobody/no-such-model"],
            "unknown base model 'nobody/",
        ),
        (["--dataset_name", "{ok}", "--no_such_option", "1"], "Some specified arguments are not used"),
    ],
)
def test_bad_input_is_one_clear_line(args, message, bad_input_data, tmp_path, capsys):
    ok, one = bad_input_data
    args = [a.format(ok=ok, one=one) for a in args]
    try:
        rc = train_main(
            ["--config", RECIPE, "--language", LANG, "--output_dir", str(tmp_path / "out"), *args]
        )
    except SystemExit as exc:  # argparse's own refusal of an unknown flag: also exit 2, usage + one line
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "adapter_config.json").exists()


@pytest.mark.slow
def test_bad_input_from_the_shell_exits_2_without_traceback(tmp_path):
    result = run_script(
        "train_kto.py",
        "--config",
        RECIPE,
        "--language",
        LANG,
        "--dataset_name",
        str(tmp_path / "missing"),
        env=ENV,
    )
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
    """The kit's Hub flags are spelled onto TRL's own (push_to_hub, hub_model_id, hub_private_repo)."""
    to_trl = ["--push_to_hub", "true", "--hub_model_id"]
    assert hub_aliases(["--push-to-hub", "me/haiku-kto", "--eval"]) == [*to_trl, "me/haiku-kto", "--eval"]
    assert hub_aliases(["--push_to_hub=me/x"]) == [*to_trl, "me/x"]
    assert hub_aliases(["--hub_repo", "me/y", "--hub_private"]) == [
        *to_trl,
        "me/y",
        "--hub_private_repo",
        "true",
    ]
    assert hub_aliases(["--hub_private", "false"]) == ["--hub_private_repo", "false"]
    assert hub_aliases(["--push_to_hub", "true"]) == ["--push_to_hub", "true"]
    assert hub_aliases(["--push-to-hub"]) == ["--push-to-hub"]


def test_push_failure_is_one_line_without_the_token(bad_input_data, tmp_path, monkeypatch, capsys):
    """TRL creates the Hub repo before training.

    A refusal (HF_HUB_OFFLINE=1 here) is one line, token masked.
    """
    ok, _ = bad_input_data
    monkeypatch.setenv("HF_TOKEN", "hf_NotARealToken123")
    rc = train_main(
        [
            "--config",
            RECIPE,
            "--language",
            LANG,
            "--dataset_name",
            str(ok),
            "--output_dir",
            str(tmp_path / "out"),
            "--push-to-hub",
            "someone/haiku-kto",
            "--hub_private",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    error = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and "someone/haiku-kto" in error[0]
    assert "deprecated: --push-to-hub someone/haiku-kto; write --push_to_hub --hub_model_id" in err
    assert "hf_NotARealToken123" not in err
    assert not (tmp_path / "out" / "adapter_config.json").exists()


@pytest.mark.parametrize("recipe", sorted(p.name for p in (ROOT / "recipes").glob("*.yaml")))
def test_every_recipe_parses_with_trls_parser(recipe):
    from trl import TrlParser

    from ktokit.train.arguments import argument_classes, parser_defaults

    parser = TrlParser(argument_classes())
    parser.set_defaults(**parser_defaults())
    kit, _, training, model = parser.parse_args_and_config(
        [
            "--config",
            str(ROOT / "recipes" / recipe),
            "--bf16",
            "false",
            "--use_cpu",
            "true",
            "--load_in_4bit",
            "false",
        ]
    )
    assert model.use_peft and model.model_name_or_path
    assert training.per_device_train_batch_size >= 2
    assert "{language}" in training.output_dir
    if model.model_name_or_path != "tiny":  # real models: inside KTO's recommended band for LoRA
        low, high = learning_rate_band(model.use_peft)
        assert low <= training.learning_rate <= high, (recipe, training.learning_rate)


def test_a_learning_rate_far_outside_kto_band_is_warned():
    assert learning_rate_band(use_peft=False) == (5e-7, 5e-6)
    assert learning_rate_band(use_peft=True) == pytest.approx((5e-6, 5e-5))
    assert learning_rate_warning(2e-5, use_peft=True) is None
    assert learning_rate_warning(1e-6, use_peft=False) is None
    assert "far above" in learning_rate_warning(5e-4, use_peft=True)
    assert "far above" in learning_rate_warning(2e-5, use_peft=False)  # a LoRA rate for full fine-tuning
    assert "far below" in learning_rate_warning(1e-7, use_peft=True)


def test_the_gain_comes_with_a_bootstrap_ci_over_prompts():
    from ktokit.train.evaluation import bootstrap_gain, gain_line

    def rows(shift: float, noise: list[float]) -> list[dict]:
        out = []
        for i, wobble in enumerate(noise):
            out += [
                {"model": "base", "prompt": f"p{i}", "score": 0.5},
                {"model": "tuned", "prompt": f"p{i}", "score": 0.5 + shift + wobble},
            ]
        return out

    noise = [0.1 * ((i % 3) - 1) for i in range(24)]  # mean 0
    gain = bootstrap_gain(rows(0.2, noise))
    assert gain["verdict"] == "a significant gain" and gain["prompts"] == 24
    assert 0 < gain["ci95"][0] <= gain["delta"] <= gain["ci95"][1] and gain["delta"] == pytest.approx(
        0.2, abs=0.02
    )
    assert bootstrap_gain(rows(-0.2, noise))["verdict"] == "a significant loss"
    flat = bootstrap_gain(rows(0.0, [0.3, -0.3] * 6))
    assert flat["verdict"] == "not significant" and flat["ci95"][0] < 0 < flat["ci95"][1]
    assert "95% CI [" in gain_line(gain) and "24 prompts" in gain_line(gain)
    assert bootstrap_gain([{"model": "base", "prompt": "p", "score": 1.0}]) is None  # no tuned model: no gain
    same = bootstrap_gain(rows(0.0, [0.0] * 4))  # every prompt the same difference: scipy's BCa would be nan
    assert same["ci95"] == [0.0, 0.0] and same["verdict"] == "not significant"
    assert bootstrap_gain(rows(0.1, [0.0]))["ci95"] == [0.1, 0.1]  # one prompt (scipy needs two): its own CI


def test_the_rounds_of_a_dataset_come_from_its_export_summary(hub, tmp_path):
    """A local export's export_summary.json, or the one pushed with a Hub dataset (through the recording
    HfApi); an export from before rounds is round 1; data that is no export says nothing."""
    from ktokit.train.data import dataset_rounds

    hub.api.repos["org/haiku-kto"] = {"export_summary.json": json.dumps({"rounds": [2, 1]})}
    hub.api.repos["org/plain-kto"] = {"README.md": "# not an export"}
    assert dataset_rounds("org/haiku-kto") == [1, 2]
    assert dataset_rounds("org/plain-kto") is None and dataset_rounds("org/no-such-kto") is None
    downloads = [args for name, args in hub.api.calls if name == "hf_hub_download"]
    assert [(a["repo_id"], a["filename"], a["repo_type"]) for a in downloads][0] == (
        "org/haiku-kto",
        "export_summary.json",
        "dataset",
    )
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "export_summary.json").write_text(json.dumps({"rows": 10}))
    assert dataset_rounds(str(tmp_path / "old")) == [1]
    assert dataset_rounds(str(tmp_path)) is None
