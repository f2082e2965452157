"""preference_gen.py: tiny local models through distilabel's transformers path, and a scripted stand-in
of the OpenAI chat-completions API (tests/scripted_openai.py) for retries, failures, cleaning and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from kit_testing import ROOT, run_script, script_command
from scripted_openai import ScriptedOpenAI

from ktokit.console import KitError
from ktokit.generate import GenerationArguments, generate_responses

PROMPTS = [
    f"Write a haiku about {topic}."
    for topic in (
        "the sea",
        "autumn rain",
        "a cat",
        "mountain peaks",
        "snow",
        "a city night",
        "the moon",
        "spring",
        "old friends",
        "a river",
        "bread",
        "wind",
    )
]
EXAMPLES = [
    "An old silent pond\nA frog jumps into the pond\nSplash! Silence again",
    "Over the wintry\nforest, winds howl in rage\nwith no leaves to blow",
    "Light of the moon\nmoves west, flowers' shadows\ncreep eastward",
]
COLUMNS = [
    "input",
    "generation_model",
    "generation_prompt",
    "raw_generation_responses",
    "generations",
    "language",
    "detected_languages",
    "form_checks",
    "requests",
]
# distilabel 1.5.3 on pydantic 2.11+ warns on every runtime-parameter lookup (tens of thousands per test).
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211")
TINY_RECIPE = (
    "{steps: 3, hidden_size: 32, intermediate_size: 64, num_layers: 1, num_heads: 2, num_kv_heads: 1, "
    "vocab_size: 400, batch_size: 4}"
)


@pytest.fixture(scope="session")
def languages(tmp_path_factory) -> Path:
    """A small English pack (the shipped pack.yaml, 12 prompts) so tests do not depend on the real
    prompt files."""
    root = tmp_path_factory.mktemp("languages")
    (root / "en").mkdir()
    (root / "en" / "pack.yaml").write_text(
        (ROOT / "languages" / "en" / "pack.yaml").read_text(encoding="utf-8")
    )
    (root / "en" / "prompts.txt").write_text("\n".join(PROMPTS) + "\n")
    (root / "en" / "examples.txt").write_text("\n\n".join(EXAMPLES) + "\n")
    return root


@pytest.fixture(scope="session")
def kit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kit-home")


@pytest.fixture
def env(languages, kit_home, tmp_path, monkeypatch) -> dict[str, str]:
    """No Hugging Face token anywhere, the test pack, a private tiny-model cache."""
    monkeypatch.setenv("KTOKIT_LANGUAGES", str(languages))
    monkeypatch.setenv("KTOKIT_HOME", str(kit_home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return dict(os.environ)


def model_set(path: Path, base_url: str, *, models: int = 3, **extra: object) -> Path:
    settings = {
        "backend": "openai",
        "base_url": base_url,
        "concurrency": 4,
        "batch_size": 4,
        "max_retries": 2,
        "generation": {"max_new_tokens": 64},
        **extra,
    }
    lines = [f"{k}: {json.dumps(v)}" for k, v in settings.items()]
    lines += ["models:", *(f"  - model: org/model-{chr(97 + i)}" for i in range(models))]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(language: str = "en", **kwargs: object) -> None:
    """What preference_gen.py does: the step, then its report on stdout."""
    print("\n".join(generate_responses(GenerationArguments(language=language, **kwargs)).report()))


def rows_of(output: Path) -> list[dict]:
    return [
        json.loads(line) for line in (output / "generations.jsonl").read_text(encoding="utf-8").splitlines()
    ]


def test_tiny_local_models_make_rows_with_the_recipe_columns(env, tmp_path, capsys):
    from datasets import load_from_disk

    models = tmp_path / "tiny.yaml"
    models.write_text(
        f"backend: transformers\nbatch_size: 4\ngeneration: {{max_new_tokens: 12}}\n"
        f"tiny_recipe: {TINY_RECIPE}\nmodels:\n"
        "  - {name: tiny-seed0, model: tiny, seed: 0}\n  - {name: tiny-seed1, model: tiny, seed: 1}\n"
    )
    run(models=str(models), sample=5, output="out")
    dataset = load_from_disk("out")
    assert dataset.column_names == COLUMNS
    assert dataset["input"] == PROMPTS[:5]
    assert set(dataset["language"]) == {"en"}
    for row in dataset:
        assert {r["model"] for r in row["requests"]} == {"tiny-seed0", "tiny-seed1"}
        n = len(row["generations"])
        assert len(row["generation_model"]) == len(row["generation_prompt"]) == len(row["form_checks"]) == n
        assert len(row["detected_languages"]) == n
        # the local model saw the pack's chat template, system prompt included
        assert all(
            p.startswith("<|system|>\nYou are a poet") and row["input"] in p for p in row["generation_prompt"]
        )
        assert all(c["verdict"] in ("pass", "fail") for c in row["form_checks"])
    out = capsys.readouterr().out
    assert "tiny-seed0" in out and "form pass" in out
    assert rows_of(Path("out")) == dataset.to_list()


def test_a_tuned_model_answers_beside_the_others_and_a_rerun_adds_nothing(env, tmp_path, capsys):
    """Round two: a model set names the tiny base with a real LoRA adapter; its answers come out under the
    tuned model's own name, greedy ones in what the adapter was trained to say; a rerun adds nothing."""
    import yaml
    from kit_testing import train_adapter

    from ktokit.generate.tiny import TinyRecipe, tiny_model
    from ktokit.packs.languages import load_pack

    pack = load_pack("en")
    base = tiny_model(pack, 0, recipe=TinyRecipe(**yaml.safe_load(TINY_RECIPE)), progress=False)
    # "kettle" is in no prompt nor example: the tuned model says it only if the adapter is applied
    train_adapter(tmp_path / "outputs/en/kto-round1", base, pack, "kettle sings\nsteam\nglass", 60,
                  lr=1e-2, targets="all-linear")  # fmt: skip
    models = tmp_path / "round2.yaml"
    models.write_text(
        f"backend: transformers\nbatch_size: 4\ngeneration: {{max_new_tokens: 8, do_sample: false}}\n"
        f"tiny_recipe: {TINY_RECIPE}\nmodels:\n"
        "  - {name: tiny-seed0, model: tiny, seed: 0}\n  - {model: tiny, adapter: outputs/en/kto-round1}\n"
    )
    run(models=str(models), sample=3, output="round2")
    rows = rows_of(Path("round2"))
    tuned = "tiny+kto-round1"
    assert [r["input"] for r in rows] == PROMPTS[:3]
    for row in rows:
        assert [r["model"] for r in row["requests"]] == ["tiny-seed0", tuned]
        said = dict(zip(row["generation_model"], row["raw_generation_responses"]))
        assert said[tuned].startswith("kettle"), said
        assert not said.get("tiny-seed0", "").startswith("kettle"), said
    out = capsys.readouterr().out
    assert tuned in out and "3 prompts generated" in out
    run(models=str(models), sample=3, output="round2")
    assert "0 prompts generated" in capsys.readouterr().out and rows_of(Path("round2")) == rows


def test_http_models_retry_count_failures_clean_and_keep_order(env, tmp_path, capsys):
    with ScriptedOpenAI(rate_limit_first=1, fail_prompts=("bread",), preamble=True) as api:
        run(models=str(model_set(tmp_path / "m.yaml", api.base_url, max_retries=1)), output="out")
        log = list(api.log)
    rows = rows_of(Path("out"))
    assert [r["input"] for r in rows] == PROMPTS  # pack order, whatever order answers came back in
    bread = next(r for r in rows if "bread" in r["input"])
    assert bread["generations"] == [] and {q["error"][:8] for q in bread["requests"]} == {"HTTP 500"}
    for row in (r for r in rows if r is not bread):
        assert all(q["retries"] == 1 for q in row["requests"])  # one 429, then success
        assert all(raw.startswith("Sure! Here's a haiku") for raw in row["raw_generation_responses"])
        for text in row["generations"]:
            assert (
                len(text.split("\n")) == 3
                and "Sure" not in text
                and "Title" not in text
                and "captures" not in text
            )
    # every prompt was asked of every model: 429 once then 200, or 500 twice (max_retries=1) for bread
    assert sum(1 for _, p, s in log if s == 200) == 11 * 3
    assert sum(1 for _, p, s in log if s == 500 and "bread" in p) == 3 * 2
    summary = capsys.readouterr().out
    line = next(line for line in summary.splitlines() if line.startswith("org/model-a"))
    assert line.split()[1:4] == [
        "12",
        "1",
        "12",
    ]  # requests, failures, retries (11 after a 429, 1 after a 500)
    assert "most failures were 'HTTP 500'" in summary


def test_identical_answers_kept_once_and_timeouts_counted(env, tmp_path):
    with ScriptedOpenAI(same_answer=True) as api:
        run(models=str(model_set(tmp_path / "m.yaml", api.base_url)), sample=3, output="same")
    for row in rows_of(Path("same")):
        assert row["generation_model"] == ["org/model-a"]
        assert [q["duplicate_of"] for q in row["requests"]] == ["", "org/model-a", "org/model-a"]
    with ScriptedOpenAI(latency=1.0) as api:
        run(
            models=str(model_set(tmp_path / "t.yaml", api.base_url, models=1, timeout=0.2, max_retries=0)),
            sample=2,
            output="slow",
        )
    rows = rows_of(Path("slow"))
    assert [r["generations"] for r in rows] == [[], []]
    assert all(r["requests"][0]["error"].startswith("timeout") for r in rows)


@pytest.mark.slow
def test_distilabel_runner_gives_the_same_rows(env, tmp_path):
    with ScriptedOpenAI() as api:
        models = str(model_set(tmp_path / "m.yaml", api.base_url, models=2))
        run(models=models, sample=6, output="local")
        run(models=models, sample=6, output="distilabel", runner="distilabel")
    strip = lambda rows: [{k: v for k, v in r.items() if k != "requests"} for r in rows]  # noqa: E731
    local, distilabel = rows_of(Path("local")), rows_of(Path("distilabel"))
    assert strip(distilabel) == strip(local)
    # and both generated text: two runs that generated nothing would compare equal too
    assert len(local) == 6 and all(r["generations"] for r in local)
    assert all(text.strip() for r in local for text in r["generations"])


@pytest.mark.slow
def test_a_killed_run_resumes_without_generating_a_prompt_twice(env, tmp_path):
    api = ScriptedOpenAI(latency=0.25).start()
    models = model_set(tmp_path / "m.yaml", api.base_url, models=2, concurrency=1, batch_size=2)
    command = script_command(
        "preference_gen.py", "--language", "en", "--models", str(models), "--output", "out"
    )
    proc = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    checkpoint = tmp_path / "out" / "checkpoint.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and not (checkpoint.is_file() and checkpoint.read_text().count("\n") >= 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = [json.loads(line)["input"] for line in checkpoint.read_text().splitlines()]
    assert 2 <= len(first) < len(PROMPTS), "the run should have been stopped half way"
    api.latency, asked_before = 0.0, len(api.log)
    rerun = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    api.stop()
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(first)} done earlier and skipped" in rerun.stdout
    asked_again = {prompt for _, prompt, _ in api.log[asked_before:]}
    assert not asked_again & set(first)
    rows = rows_of(tmp_path / "out")
    assert [r["input"] for r in rows] == PROMPTS
    assert all(len(r["generations"]) >= 1 for r in rows)


def test_dry_run_without_token_goes_offline_and_says_so(env, capsys):
    run(dry_run=True, sample=4)
    out, err = capsys.readouterr()
    assert "no Hugging Face token found: running offline" in err  # a note, on stderr
    assert "requests:  8 (4 prompts x 2 models)" in out and "outputs/en/generations" in out
    assert not Path("outputs").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"language": "xx"}, "no language pack 'xx'"),
        ({"models": "missing.yaml"}, "cannot read model set missing.yaml"),
        ({"models": "default"}, "runs on HF Inference Providers and needs a Hugging Face token"),
        ({"sample": 0}, "--sample must be at least 1"),
    ],
)
def test_bad_input_is_one_clear_error(env, kwargs, message):
    with pytest.raises(KitError, match=message.replace(".", r"\.")) as error:
        run(**{"language": "en", "dry_run": True, **kwargs})
    assert "\n" not in str(error.value)


def test_bad_model_sets_are_named(env, tmp_path):
    from ktokit.generate import load_model_set

    cases = {
        "backend: nope\nmodels: [org/m]\n": "needs 'backend'",
        "backend: openai\nmodels: [org/m]\n": "needs 'base_url'",
        (
            "backend: openai\nbase_url: http://x\ngeneration: {beams: 2}\nmodels: [org/m]\n"
        ): "beams not supported",
        "models: []\n": "non-empty 'models:'",
        "backend: openai\nbase_url: http://x\nconcurrency: 0\nmodels: [org/m]\n": "must be >= 1",
        "models: [{model: tiny, colour: red}]\n": "unknown key",
        "models: [: bad\n": "not valid YAML",
    }
    for i, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"set{i}.yaml"
        path.write_text(text)
        with pytest.raises(KitError, match=message):
            load_model_set(path)
    shipped = {p.stem: load_model_set(p) for p in (ROOT / "model_sets").glob("*.yaml")}
    assert len(shipped["default"].models) == 3 and shipped["default"].needs_hf_token
    assert {m.seed for m in shipped["offline"].models} == {0, 1} and not shipped["offline"].needs_hf_token


def test_an_adapter_in_a_model_set_is_checked_before_any_work(env, tmp_path):
    """`adapter:` on a local model only, on the base it was trained on, each refusal one line naming both."""
    from kit_testing import stand_in_adapter

    from ktokit.generate import load_model_set

    stand_in_adapter(tmp_path / "kto-a", base="org/base-one")
    ja = stand_in_adapter(tmp_path / "kto-ja", base="/cache/tiny-models/ja")
    (ja / "metrics.json").write_text(json.dumps({"base_model": "tiny:ja", "base_model_path": str(tmp_path)}))
    cases = {
        "models: [{model: org/base-two, backend: transformers, adapter: kto-a}]\n": (
            r"\(model #1\): adapter 'kto-a' was trained on 'org/base-one', not on 'org/base-two'"
        ),
        "models: [{model: tiny, adapter: kto-ja}]\n": "trained on 'tiny:ja', not on 'tiny'",
        "backend: openai\nbase_url: http://x/v1\nmodels: [{model: org/base-one, adapter: kto-a}]\n": (
            "backend 'openai' loads nothing locally: serve the adapter on the server"
        ),
        "models: [{model: tiny, adapter: no-such-folder}]\n": "'no-such-folder' is not a LoRA adapter folder",
        "adapter: kto-a\nmodels: [tiny]\n": "unknown key: 'adapter'",
        "models: [{model: tiny, adapter: ''}]\n": "adapter",
    }
    for i, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"set{i}.yaml"
        path.write_text(text)
        with pytest.raises(KitError, match=message) as error:
            load_model_set(path, "en")
        assert "\n" not in str(error.value)
    path = tmp_path / "ok.yaml"
    path.write_text("backend: transformers\nmodels: [org/base-one, {model: org/base-one, adapter: kto-a}]\n")
    tuned = load_model_set(path, "en").models[1]
    assert (tuned.name, tuned.adapter, tuned.adapter_base) == (
        "org/base-one+kto-a",
        str(tmp_path / "kto-a"),
        "org/base-one",
    )
    assert "adapter" in tuned.describe()


def test_model_set_schema_errors_are_one_line_naming_the_field(env, tmp_path):
    """Model sets are checked by a pydantic schema: wrong types and typos are one line naming the field."""
    from ktokit.generate import load_model_set

    cases = {
        "generation: [1]\nmodels: [tiny]\n": "set0.yaml: generation: expected a mapping, got list$",
        "concurrency: '8'\nmodels: [tiny]\n": "concurrency: expected a whole number, got '8'",
        "base_ulr: http://x\nmodels: [tiny]\n": "unknown key: 'base_ulr'; .*did you mean 'base_url'",
        "models: [tiny, {model: tiny, name: b, timeout: 0}]\n": r"\(model #2\): timeout: must be > 0, got 0",
        "models: [{name: x}]\n": r"\(model #1\): missing field 'model' \(a model id, a path, or 'tiny'\)",
    }
    for i, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"set{i}.yaml"
        path.write_text(text)
        with pytest.raises(KitError, match=message) as error:
            load_model_set(path)
        assert "\n" not in str(error.value)


def test_the_command_line_prints_one_line_on_bad_input(env, tmp_path):
    result = run_script("preference_gen.py", "--language", "xx", env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: no language pack 'xx'")
    assert "Traceback" not in result.stderr


def test_another_runs_output_is_not_mixed_in(env, tmp_path):
    with ScriptedOpenAI() as api:
        run(models=str(model_set(tmp_path / "a.yaml", api.base_url, models=1)), sample=1, output="out")
        with pytest.raises(KitError, match="holds generations of another run") as error:
            run(models=str(model_set(tmp_path / "b.yaml", api.base_url, models=2)), sample=1, output="out")
    # a set that adds a model (round two) is told where its answers go
    assert "for a new round with" in str(error.value) and "--round N" in str(error.value)
    assert "\n" not in str(error.value)


def test_dataset_card_names_models_counts_and_reuse(env, tmp_path):
    with ScriptedOpenAI() as api:
        run(models=str(model_set(tmp_path / "m.yaml", api.base_url, models=2)), sample=3, output="out")
    card = (Path("out") / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\nlanguage:\n- en\n")
    assert "`org/model-a`" in card and "`org/model-b`" in card and "max_new_tokens=64" in card
    assert "- prompts: 3" in card and "load_from_disk" in card and "create_task.py --language en" in card


class LostMachine(Exception):
    """The first machine goes away after its second pushed batch."""


def test_pushed_batches_let_another_machine_resume(env, hub, tmp_path, monkeypatch, capsys):
    import importlib

    hub_sync = importlib.import_module("ktokit.generate.hub_sync")
    gen_run = importlib.import_module("ktokit.generate.run")
    datasets_pushed: list[int] = []
    monkeypatch.setattr(  # the dataset's own push goes through `datasets`, not the kit's Hub client
        gen_run,
        "push_dataset",
        lambda dataset, repo, card, **_: datasets_pushed.append(len(dataset)) or f"https://hf.co/{repo}",
    )
    real_batch_done, done = hub_sync.Pusher.batch_done, []

    def lost_after_two(self):
        done.append(real_batch_done(self))
        if len(done) == 2:
            raise LostMachine

    monkeypatch.setattr(hub_sync.Pusher, "batch_done", lost_after_two)
    push = dict(push_to_hub=True, hub_model_id="org/haiku-en", push_every_batches=1, push_every_minutes=0)
    with ScriptedOpenAI() as api:
        models = str(model_set(tmp_path / "m.yaml", api.base_url, models=2, concurrency=2, batch_size=2))
        with pytest.raises(LostMachine):
            run(models=models, output="machine-a", **push)
        assert done == [True, True]  # each finished batch was pushed before the machine was lost
        files = hub.api.repos["org/haiku-en"]
        pushed = [
            json.loads(line)["input"] for line in files["ktokit_checkpoint/checkpoint.jsonl"].splitlines()
        ]
        assert len(pushed) == 4 and json.loads(files["ktokit_checkpoint/run.json"])["language"] == "en"
        monkeypatch.setattr(hub_sync.Pusher, "batch_done", real_batch_done)
        asked_before = len(api.log)

        run(models=models, output="machine-b", **push)  # another machine: an empty output dir
        asked_again = {prompt for _, prompt, _ in api.log[asked_before:]}
        run(models=models, output="straight")
    out = capsys.readouterr()
    assert "resuming from org/haiku-en: 4 rows pushed by an earlier run" in out.err + out.out
    assert "4 done earlier and skipped" in out.out
    assert not asked_again & set(pushed) and len(asked_again) == len(PROMPTS) - 4
    resumed, straight = rows_of(Path("machine-b")), rows_of(Path("straight"))
    assert len(resumed) == len(straight) == len(PROMPTS)
    assert [list(r) for r in resumed] == [list(r) for r in straight] and list(resumed[0]) == COLUMNS
    assert [r["input"] for r in resumed] == [r["input"] for r in straight]
    assert all(r["generations"] for r in resumed)
    # the end of the run pushed the whole checkpoint and the dataset
    assert len(hub.api.repos["org/haiku-en"]["ktokit_checkpoint/checkpoint.jsonl"].splitlines()) == len(
        PROMPTS
    )
    assert datasets_pushed == [len(PROMPTS)]


def test_a_hub_checkpoint_of_other_models_is_refused(env, hub, tmp_path, monkeypatch):
    hub.api.repos["org/haiku-en"] = {
        "ktokit_checkpoint/run.json": json.dumps({"language": "en", "models": ["someone-else"]}),
        "ktokit_checkpoint/checkpoint.jsonl": "",
    }
    models = str(model_set(tmp_path / "m.yaml", "http://127.0.0.1:9/v1", models=1))
    with pytest.raises(KitError, match="org/haiku-en holds generations of another run"):
        run(models=models, output="out", push_to_hub=True, hub_model_id="org/haiku-en")


def test_pushes_come_by_batches_or_minutes_and_a_failed_push_is_retried(env, hub, tmp_path, capsys):
    from kit_testing import FakeClock

    from ktokit.generate.hub_sync import HubSync, Pusher

    (tmp_path / "checkpoint.jsonl").write_text("")
    (tmp_path / "run.json").write_text("{}")
    clock = FakeClock()
    by_time = Pusher(HubSync("org/x", every_minutes=5), tmp_path, clock=clock)
    clock.sleep(299)
    assert by_time.batch_done() is False
    clock.sleep(1)
    assert by_time.batch_done() is True and by_time.batch_done() is False  # the minutes count from the push
    by_count = Pusher(HubSync("org/x", every_batches=3, every_minutes=0), tmp_path, clock=clock)
    assert [by_count.batch_done() for _ in range(6)] == [False, False, True, False, False, True]
    pushed = [a for name, a in hub.api.calls if name == "upload_folder"]
    assert len(pushed) == 3 and pushed[0]["path_in_repo"] == "ktokit_checkpoint"

    class Refused(hub.api.__class__):
        def upload_folder(self, **kwargs):
            import httpx
            from huggingface_hub.errors import HfHubHTTPError

            url = "https://huggingface.co/api/datasets/org/x/upload"
            response = httpx.Response(503, request=httpx.Request("POST", url))
            raise HfHubHTTPError("503 Service Unavailable", response=response)

    hub.api = Refused()
    failing = Pusher(HubSync("org/x", every_batches=1, every_minutes=0), tmp_path, clock=clock)
    assert failing.batch_done() is False and failing.batches == 1  # not reset: the next push carries them
    assert "warning: pushing the checkpoint to org/x failed" in capsys.readouterr().err
