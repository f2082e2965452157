"""The demo Space: rendered files, the app run for real (tiny model + a real LoRA adapter) and driven
over HTTP with gradio_client, votes landing in the session's Argilla server, and the Hub calls
against the recording `HfApi` stand-in (kit_testing.RecordingHfApi).
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import kit_testing
import pytest
from kit_testing import ROOT, RecordingHfApi, free_port, front_matter, stand_in_adapter

from ktokit.cli import main as kit
from ktokit.console import KitError
from ktokit.demo import space as demo_space
from ktokit.generate.adapters import adapter_info
from ktokit.packs.languages import load_pack
from ktokit.spaces import gradio

LANG = "en"
DEMO_REPO = "kit-community/haiku-en-demo"
KEY = "argilla-key-for-tests-0123456789"


# What the tuned side says: the adapter is trained to say it (never in the pack), so base and tuned differ
# on purpose, on any machine, whatever the tiny base model happens to write.
TUNED_SAYS = "a kettle sings low\nthe adapter keeps its word\nsteam on the window"


def train_adapter(out: Path, answer: str, steps: int = 150) -> Path:
    """A real LoRA adapter on the tiny model, trained until it gives `answer` to the pack's prompts
    (~15 s on 2 cores for 150 steps)."""
    from ktokit.generate.tiny import tiny_model

    return kit_testing.train_adapter(out, tiny_model(LANG, progress=False), load_pack(LANG), answer, steps)


@pytest.fixture(scope="module")
def adapter(tmp_path_factory):
    return train_adapter(tmp_path_factory.mktemp("kto-model-demo"), TUNED_SAYS)


@pytest.fixture(scope="module")
def silent_adapter(tmp_path_factory):
    """An adapter trained to answer nothing at all: the app must say so, and refuse a vote on it."""
    return train_adapter(tmp_path_factory.mktemp("kto-model-silent"), "", steps=60)


@pytest.fixture(scope="module")
def rendered(adapter, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-space")
    pack = load_pack(LANG)
    info = adapter_info(adapter, language=LANG)
    files = demo_space.render_demo_space(pack, info, demo_space.Feedback(), out)
    return out, files


def constraint_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("#")[0].strip().split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


@pytest.mark.slow
def test_rendered_files_front_matter_and_pins(rendered, adapter):
    out, files = rendered
    names = {str(p.relative_to(out)) for p in files}
    assert {
        "README.md",
        "app.py",
        "requirements.txt",
        "languages/en/pack.yaml",
        "languages/en/prompts.txt",
        "adapter/adapter_config.json",
        "adapter/adapter_model.safetensors",
        "base/config.json",
        "ktokit/packs/form.py",
        "ktokit/packs/counting/english.py",
        "ktokit/packs/counting/data/en_syllables.json",
        "ktokit/inference.py",
    } <= names
    assert not any(
        n.startswith(
            (
                "ktokit/annotate/argilla_local",
                "ktokit/train",
                "ktokit/generate",
                "ktokit/export",
                "ktokit/demo",
            )
        )
        for n in names
    )
    readme = (out / "README.md").read_text()
    assert not re.search(r"\{\{\w+\}\}", readme)
    meta = front_matter(readme)
    assert (meta["sdk"], str(meta["sdk_version"]), meta["app_file"]) == ("gradio", "6.31.0", "app.py")
    assert meta["sdk_version"] == gradio.GRADIO_VERSION == constraint_pins()["gradio"]
    assert (
        meta["python_version"] == gradio.PYTHON_VERSION
    )  # Spaces default to 3.10 (tests/test_space_boot.py)
    assert len(meta["title"]) <= 60 and "en" in meta["tags"] and "feedback is off" in readme

    pins = constraint_pins()
    import torch

    reqs = [line.split("#")[0].strip() for line in (out / "requirements.txt").read_text().splitlines()]
    reqs = dict(
        r.split("==") for r in reqs if r and not r.startswith("-")
    )  # skip pip options (the CPU index)
    assert reqs.pop("torch") == torch.__version__.split("+")[0] + "+cpu"  # torch stays out of constraints.txt
    assert reqs and all(pins[name.lower().replace("_", "-")] == version for name, version in reqs.items())
    assert "fugashi" not in reqs  # the Japanese tagger only for a pack that counts morae with it
    ja = demo_space._requirements((demo_space.TEMPLATE_DIR / "requirements.txt").read_text(), load_pack("ja"))
    assert "fugashi==" in ja and "unidic-lite==" in ja


@pytest.mark.slow
def test_app_runs_on_what_the_space_ships(rendered):
    """`import app` in the rendered folder, as the Space runs it: every kit module comes from the folder."""
    out, _ = rendered
    code = (
        "import sys, app; demo = app.build(app.Settings.from_env()); "
        "app.check_form('an old silent pond', app.load_pack('en').form); "
        "print('\\n'.join(m.__file__ for n, m in sys.modules.items() if n.split('.')[0] == 'ktokit'))"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ARGILLA_", "KTOKIT_LANGUAGES", "PYTHONPATH"))
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=out,
        env={**env, "LANGUAGE": LANG},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = [Path(p) for p in result.stdout.split()]
    assert loaded and all(out in p.parents for p in loaded), loaded
    assert {"form.py", "inference.py", "english.py"} <= {p.name for p in loaded}


def load_app(out: Path):
    spec = importlib.util.spec_from_file_location("ktokit_demo_app", out / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def demo_target(argilla_server, workspace="en-demo", dataset="haiku-en-demo"):
    from ktokit.annotate.credentials import ArgillaTarget

    return ArgillaTarget(
        language=LANG,
        kind="local",
        api_url=argilla_server["api_url"],
        api_key=argilla_server["api_key"],
        workspace=workspace,
        dataset=dataset,
    )


@pytest.mark.server
def test_app_compares_base_and_tuned_and_votes_reach_argilla(
    rendered, adapter, argilla_server, client, config_dir
):
    from gradio_client import Client

    from ktokit.annotate.task import ensure_dataset, record_id, task_template
    from ktokit.campaign.visitors import visitor_votes
    from ktokit.demo.visitors import demo_credentials

    out, _ = rendered
    pack = load_pack(LANG)
    ensure_dataset(client, task_template(pack, dataset="haiku-en-demo", workspace="en-demo"))
    demo = demo_credentials(
        demo_target(argilla_server)
    )  # what demo-space gives the Space: never the owner key
    app = load_app(out)
    info = adapter_info(adapter, language=LANG)
    settings = app.Settings(
        base_model=info.base_path,
        adapter=str(adapter),
        language=LANG,
        argilla_api_url=argilla_server["api_url"],
        argilla_api_key=demo.api_key,
        dataset="haiku-en-demo-visitors",
        workspace="en-demo-visitors",
        base_name="tiny",
        temperature=0.0,
        votes_per_minute=4,
        mode="side-by-side",
    )
    demo_app = app.build(settings)
    demo_app.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        ui = Client(demo_app.local_url, verbose=False)
        prompt = pack.prompts[-1]  # a prompt the adapter was not trained on
        asked, base, base_check, tuned, tuned_check, _ = ui.predict(prompt, api_name="/compare")
        assert asked == prompt and tuned == TUNED_SAYS  # the adapter is applied on the tuned side
        assert base and base != TUNED_SAYS  # and switched off on the base side
        for check in (base_check, tuned_check):
            assert re.match(r"\*\*form check: (pass|fail)\*\* \(score \d\.\d\d", check)
        assert "5-7-5" in tuned_check
        if base == app.EMPTY_ANSWER:  # the tiny base may say nothing: then no vote on it
            base = "an old silent pond\na frog jumps into the pond\nsplash! silence again"

        said = ui.predict(prompt, base, tuned, api_name="/vote_tuned_good")
        assert "Sent to the visitors' dataset" in said
        assert "already in the visitors' dataset" in ui.predict(
            prompt, base, tuned, api_name="/vote_tuned_good"
        )
        assert "already" in ui.predict(
            prompt, base, tuned, api_name="/vote_tuned_bad"
        )  # same text, other vote
        assert "Sent" in ui.predict(prompt, base, tuned, api_name="/vote_base_bad")
        slow = ui.predict(prompt, base, tuned, api_name="/vote_base_good")  # the 5th vote within a minute
        assert slow.startswith("Slow down: at most 4 votes a minute from one visitor. Try again in ")
        other_visitor = Client(demo_app.local_url, verbose=False)  # another session has its own allowance
        assert "already" in other_visitor.predict(prompt, base, tuned, api_name="/vote_base_good")
    finally:
        demo_app.close()

    visitors = client.datasets(name="haiku-en-demo-visitors", workspace="en-demo-visitors")
    records = {r.id: r for r in visitors.records(with_responses=True, with_suggestions=True)}
    assert len(records) == 2
    voted = records[record_id(LANG, prompt, tuned)]
    assert voted.fields["completion"] == tuned and voted.fields["prompt"] == prompt
    assert voted.metadata["source"] == "demo" and voted.metadata["visitor_vote"] == "good"
    assert voted.metadata["side"] == "tuned" and voted.metadata["compare"] == app.compare_id(
        prompt, base, tuned
    )
    assert voted.metadata["model"] == [settings.names["tuned"]] and voted.metadata["language"] == LANG
    assert len(voted.responses) == 0  # a visitor's vote is never an annotator's answer
    assert records[record_id(LANG, prompt, base)].metadata["visitor_vote"] == "bad"
    props = {m.name: m for m in visitors.settings.metadata}
    assert props["visitor_vote"].visible_for_annotators is False and props["source"].visible_for_annotators
    assert props["side"].visible_for_annotators is False
    assert len(list(client.datasets(name="haiku-en-demo", workspace="en-demo").records())) == 0  # untouched
    # tuned 👍 and base 👎 in one pair: one preference for the tuned model, out of two votes
    assert visitor_votes(client, "en-demo", "haiku-en-demo") == {
        "prefer_tuned": 1,
        "prefer_base": 0,
        "votes": 2,
        "by_side": {"base": {"good": 0, "bad": 1}, "tuned": {"good": 1, "bad": 0}},
    }

    # a fresh app process (empty cache) voting the same text again adds nothing
    again = app.Feedback(settings, pack)
    assert "already" in again.vote(prompt, tuned, "tiny", "bad")
    assert len(list(visitors.records())) == 2

    off = app.Feedback(app.Settings(base_model="b", adapter="a", language=LANG), pack)
    assert off.vote(prompt, tuned, "tiny", "good") == "Feedback is off: this Space has no Argilla settings."


@pytest.mark.server
def test_an_empty_answer_is_said_plainly_and_cannot_be_voted(rendered, silent_adapter, argilla_server):
    from gradio_client import Client

    out, _ = rendered
    app = load_app(out)
    info = adapter_info(silent_adapter, language=LANG)
    settings = app.Settings(
        base_model=info.base_path,
        adapter=str(silent_adapter),
        language=LANG,
        argilla_api_url=argilla_server["api_url"],
        argilla_api_key=argilla_server["api_key"],
        dataset="haiku-en-demo",
        workspace="en-demo",
        temperature=0.0,
        mode="side-by-side",
    )
    demo = app.build(settings)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        ui = Client(demo.local_url, verbose=False)
        prompt = load_pack(LANG).prompts[-1]
        _, base, _, tuned, tuned_check, _ = ui.predict(prompt, api_name="/compare")
        assert tuned == app.EMPTY_ANSWER and "raise the temperature" in tuned
        assert tuned_check.startswith("**form check: fail** (score 0.00") and "empty response" in tuned_check
        refused = ui.predict(prompt, base, tuned, api_name="/vote_tuned_good")
        assert refused == "Nothing to vote on: the model returned nothing. Generate again."
        assert ui.predict(prompt, base, "  ", api_name="/vote_tuned_bad") == refused
    finally:
        demo.close()


@pytest.mark.slow
def test_evaluation_counts_an_empty_answer_as_a_failed_form_check(silent_adapter, tmp_path):
    from ktokit.inference import load_model
    from ktokit.train.evaluation import evaluate

    pack = load_pack(LANG)
    info = adapter_info(silent_adapter, language=LANG)
    model, tokenizer = load_model(info.base_path, str(silent_adapter))
    summary = evaluate(model, tokenizer, pack, pack.prompts[-2:], tmp_path, seeds=1, temperatures=[0.0])
    tuned = next(s for s in summary if s["model"] == "tuned")
    assert (
        tuned["empty"] == tuned["completions"] == 2 and tuned["form_score"] == 0 and tuned["pass_rate"] == 0
    )
    rows = [json.loads(line) for line in (tmp_path / "completions.jsonl").read_text().splitlines()]
    assert all(r["verdict"] == "fail" and r["score"] == 0 for r in rows if r["model"] == "tuned")
    assert "| 2 | 2 |" in (tmp_path / "summary.md").read_text()  # the Empty column


def space_target(
    tmp_path, monkeypatch, kind="space", api_url="https://kit-community-haiku-en.hf.space", key=KEY
):
    from ktokit.annotate.credentials import save_space_credentials, save_target

    monkeypatch.setenv("KTOKIT_CONFIG_DIR", str(tmp_path / "config"))
    if kind == "space":
        save_space_credentials("kit-community/haiku-en", {"api_url": api_url, "api_key": key})
        save_target(
            LANG,
            {
                "kind": "space",
                "space": "kit-community/haiku-en",
                "workspace": "en-hub",
                "dataset": "haiku-en-hub",
            },
        )
    else:
        save_target(
            LANG,
            {
                "kind": "local",
                "data_dir": str(tmp_path / "nowhere"),
                "workspace": "en",
                "dataset": "haiku-en",
            },
        )


@pytest.mark.server
def test_hub_path_sets_the_demo_users_key_as_a_secret_never_the_owners(
    tmp_path, monkeypatch, hub, capsys, argilla_server
):
    """The Space's Argilla server here is the session's real one, reached with the owner key the kit holds."""
    from ktokit.annotate.roles import users_path

    owner_key = argilla_server["api_key"]
    adapter = stand_in_adapter(tmp_path / "adapter", base="tiny")  # the tiny base ships with the Space
    space_target(tmp_path, monkeypatch, api_url=argilla_server["api_url"], key=owner_key)
    argv = [
        "demo-space",
        "--language",
        LANG,
        "--adapter",
        str(adapter),
        "--space",
        DEMO_REPO,
        "-o",
        str(tmp_path / "out"),
    ]

    assert kit([*argv, "--dry-run"]) == 0
    assert hub.api.names() == []  # a dry run asks nothing of the Hub, and makes no Argilla user
    assert not users_path().exists()
    out, err = capsys.readouterr()
    assert (
        "secrets      ARGILLA_API_KEY  (the demo user en-hub-demo: admin of workspace en-hub-visitors only"
        in out
    )
    assert owner_key not in out + err
    assert f"ARGILLA_API_URL={argilla_server['api_url']}" in out
    assert "ARGILLA_DATASET=haiku-en-hub-visitors" in out and "ARGILLA_WORKSPACE=en-hub-visitors" in out

    api = hub.api = RecordingHfApi()
    assert kit(argv) == 0
    out, err = capsys.readouterr()
    demo_key = json.loads(users_path().read_text())[argilla_server["api_url"]]["en-hub-demo"]["api_key"]
    names = api.names()
    assert names[:3] == ["repo_exists", "create_repo", "add_space_secret"] and names[-1] == "upload_folder"
    (create,) = [a for n, a in api.calls if n == "create_repo"]
    assert create["repo_type"] == "space" and create["space_sdk"] == "gradio" and create["private"] is False
    assert {a["key"]: a["value"] for n, a in api.calls if n == "add_space_secret"} == {
        "ARGILLA_API_KEY": demo_key
    }
    variables = {a["key"]: a["value"] for n, a in api.calls if n == "add_space_variable"}
    assert "ARGILLA_API_KEY" not in variables and demo_key not in variables.values()
    assert (
        variables["LANGUAGE"] == LANG
        and variables["BASE_MODEL"] == "base"
        and variables["ADAPTER"] == "adapter"
    )
    for name, arguments in api.calls:
        assert owner_key not in json.dumps(arguments, default=str)  # the owner key never leaves this machine
        if name != "add_space_secret":
            assert demo_key not in json.dumps(arguments, default=str)
    assert set(api.uploaded) == {"README.md", "app.py", "requirements.txt"}
    assert not any(k in text for text in api.uploaded.values() for k in (owner_key, demo_key))
    assert not any(
        k in p.read_bytes().decode("latin-1")
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
        for k in (owner_key, demo_key)
    )
    (upload,) = [a for n, a in api.calls if n == "upload_folder"]
    assert {"ktokit/**", "languages/**", "adapter/**", "base/**"} <= set(upload["allow_patterns"])
    assert owner_key not in out + err and demo_key not in out + err and "secret ARGILLA_API_KEY set" in err
    assert f"https://huggingface.co/spaces/{DEMO_REPO}" in out

    # rerun: the Space holds no data, so it is updated in place; the demo user is the same one
    api = hub.api = RecordingHfApi(exists=True)
    assert kit(argv) == 0
    assert "create_repo" not in api.names() and "upload_folder" in api.names()
    assert {a["key"]: a["value"] for n, a in api.calls if n == "add_space_secret"} == {
        "ARGILLA_API_KEY": demo_key
    }
    assert demo_key not in "".join(capsys.readouterr())


def test_local_annotation_server_is_not_sent_to_a_space(tmp_path, monkeypatch, hub, capsys):
    adapter = stand_in_adapter(tmp_path / "adapter", base="tiny")
    space_target(tmp_path, monkeypatch, kind="local")
    api = hub.api
    argv = [
        "demo-space",
        "--language",
        LANG,
        "--adapter",
        str(adapter),
        "--space",
        DEMO_REPO,
        "-o",
        str(tmp_path / "out"),
    ]
    assert kit(argv) == 0
    assert "add_space_secret" not in api.names()
    assert not any(a["key"].startswith("ARGILLA_") for n, a in api.calls if n == "add_space_variable")
    out = capsys.readouterr().out
    assert "feedback     off: the annotation server of 'en' is a local one" in out
    assert "feedback is off" in api.uploaded["README.md"]


def test_bad_input_is_one_clear_line(tmp_path, capsys):
    assert kit(["demo-space", "--language", LANG, "--adapter", str(tmp_path)]) == 2
    assert "not a LoRA adapter folder" in capsys.readouterr().err
    assert kit(["demo-space", "--language", LANG, "--adapter", str(tmp_path), "--space", "noslash"]) == 2
    assert "ORG/NAME" in capsys.readouterr().err
    with pytest.raises(KitError, match="no base model"):
        (tmp_path / "adapter_config.json").write_text("{}")
        adapter_info(tmp_path)


def test_demo_space_is_created_on_the_hardware_its_requirements_were_rendered_for(
    tmp_path, config_dir, hub, capsys
):
    """The demo Space's requirements.txt depends on --hardware (CPU torch index).

    The Space gets that hardware.
    """
    adapter = stand_in_adapter(tmp_path / "adapter")
    argv = [
        "demo-space",
        "--language",
        "en",
        "--adapter",
        str(adapter),
        "--space",
        "kit-community/haiku-en-demo",
        "-o",
        str(tmp_path / "out"),
    ]
    api = hub.api
    assert kit([*argv, "--hardware", "t4-small", "--sleep-time", "3600"]) == 0
    (create,) = [a for n, a in api.calls if n == "create_repo"]
    assert create["space_hardware"] == "t4-small" and create["space_sleep_time"] == 3600
    assert not any(
        line.startswith(("-", "torch==")) and "cpu" in line
        for line in api.uploaded["requirements.txt"].splitlines()
    )
    again = hub.api = RecordingHfApi(exists=True)  # a rerun updates the Space in place, its hardware too
    assert kit(argv) == 0
    assert [a for n, a in again.calls if n == "request_space_hardware"] == [
        {"repo_id": "kit-community/haiku-en-demo", "hardware": "cpu-basic"}
    ]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in again.uploaded["requirements.txt"]
    assert "hardware cpu-basic" in capsys.readouterr().err
    assert "set_space_sleep_time" not in again.names()
    again = hub.api = RecordingHfApi(exists=True)
    assert kit([*argv, "--hardware", "cpu-upgrade", "--sleep-time", "-1"]) == 0
    assert [a for n, a in again.calls if n == "set_space_sleep_time"] == [
        {"repo_id": "kit-community/haiku-en-demo", "sleep_time": -1}
    ]
    assert "never sleeps" in capsys.readouterr().out
    assert kit([*argv, "--sleep-time", "600"]) == 2  # the free hardware's sleep is fixed
    assert "--sleep-time needs paid hardware" in capsys.readouterr().err


@pytest.mark.server
def test_blind_arena_in_the_browser_names_no_model_before_the_verdict(
    rendered, adapter, argilla_server, client, config_dir, capsys
):
    """The default mode: the browser sees A and B, never a name, until the verdict; the verdict lands in
    the visitors' dataset once per pair; `arena` says there is none before and counts them after."""
    import urllib.request

    from playwright.sync_api import expect, sync_playwright

    from ktokit.annotate.credentials import save_target
    from ktokit.annotate.task import ensure_dataset, task_template
    from ktokit.demo.visitors import demo_credentials

    out, _ = rendered
    pack = load_pack(LANG)
    ensure_dataset(client, task_template(pack, dataset="haiku-en-arena", workspace="en-arena"))
    save_target(
        LANG,
        {
            "kind": "local",
            "data_dir": str(argilla_server["data_dir"]),
            "workspace": "en-arena",
            "dataset": "haiku-en-arena",
        },
    )
    assert kit(["arena", "--language", LANG]) == 2  # no verdicts yet: one line, and how to get some
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("error: no arena verdicts yet for en: serve or push the demo Space")
        and "\n" not in err
    )

    demo = demo_credentials(demo_target(argilla_server, "en-arena", "haiku-en-arena"))
    app = load_app(out)
    info = adapter_info(adapter, language=LANG)
    names = ("zetabase", "omegatuned")  # words no page would hold by chance
    settings = app.Settings(
        base_model=info.base_path,
        adapter=str(adapter),
        language=LANG,
        argilla_api_url=argilla_server["api_url"],
        argilla_api_key=demo.api_key,
        dataset="haiku-en-arena-visitors",
        workspace="en-arena-visitors",
        base_name=names[0],
        tuned_name=names[1],
        temperature=0.0,
        votes_per_minute=50,
    )
    assert settings.mode == "arena"  # the default
    ui = app.build(settings)
    ui.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    seen: list[str] = []  # every response body the browser got before the verdict
    try:
        with urllib.request.urlopen(f"{ui.local_url.rstrip('/')}/config") as response:
            config = response.read().decode()
        assert '"State"' in config or "state" in config
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 900})

                def keep(route):  # every response passes through here, streams read whole
                    response = route.fetch()
                    body = response.body()
                    seen.append(body.decode("utf-8", "replace"))
                    route.fulfill(response=response, body=body)

                page.route("**/*", keep)
                page.goto(ui.local_url)
                page.get_by_label("Prompt").fill(pack.prompts[-1])
                page.get_by_role("button", name="Generate").click()
                expect(page.locator("#arena-status")).to_contain_text(
                    "Which answer is better", timeout=60_000
                )
                answer = json.dumps(TUNED_SAYS)[1:-1]  # as a response carries it
                before = page.content() + page.locator("body").inner_text() + config + "".join(seen)
                texts = {s: page.locator(f"#answer-{s} textarea").input_value() for s in "AB"}
                page.unroute("**/*", keep)
                page.get_by_role("button", name="A is better").click()
                expect(page.locator("#arena-reveal")).to_contain_text("A was", timeout=30_000)
                reveal = page.locator("#arena-reveal").inner_text()
                assert (
                    "Your verdict is in the visitors' dataset" in page.locator("#arena-status").inner_text()
                )
                page.get_by_role("button", name="B is better").click()  # a second verdict on the pair
                expect(page.locator("#arena-status")).to_contain_text("already has a verdict", timeout=30_000)
            finally:
                browser.close()
    finally:
        ui.close()
    assert answer in "".join(seen)  # the answers came in a response read here
    assert len(seen) > 3 and all(n not in before for n in names)  # page, config, responses: no name
    assert all(n in reveal for n in names)
    a_name = names[0] if reveal.index(names[0]) < reveal.index(names[1]) else names[1]
    b_name = names[1] if a_name == names[0] else names[0]

    visitors = client.datasets(name="haiku-en-arena-visitors", workspace="en-arena-visitors")
    records = list(visitors.records(with_responses=True))
    assert len(records) == 2  # one verdict: both answers, once
    for r in records:
        m = r.metadata
        assert (m["source"], m["verdict"], m["model_a"], m["model_b"]) == ("arena", "a", a_name, b_name)
        assert r.fields["completion"] == texts[m["side"]] and len(r.responses) == 0  # never an answer
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["voted_at"])

    # a fixed set of verdicts through the app's own storing path, counted by hand
    feedback = app.Feedback(settings, pack)
    for n, (a, b, verdict) in enumerate(
        [("x", "y", "a"), ("y", "x", "a"), ("x", "y", "b"), ("x", "y", "tie"), ("y", "x", "both_bad")]
    ):
        pair = {"id": f"fixed{n}", "prompt": f"p{n}", "texts": {"A": f"a{n}", "B": f"b{n}"}}
        assert "Thanks" in feedback.verdict({**pair, "names": {"A": a, "B": b}}, verdict)
    assert "already" in feedback.verdict({**pair, "names": {"A": a, "B": b}}, "a")  # one per pair
    assert kit(["arena", "--language", LANG, "--json"]) == 0
    printed = capsys.readouterr().out
    assert printed.strip(), printed
    result = json.loads(printed.strip().splitlines()[-1])
    assert result["language"] == LANG and result["models"] == sorted([*names, "x", "y"])
    pairs = {(p["a"], p["b"]): p for p in result["pairs"]}
    xy = pairs[("x", "y")]  # y wins twice, loses once, two draws (half each): 3 of 5
    assert (xy["votes"], xy["a_wins"], xy["b_wins"], xy["ties"], xy["both_bad"]) == (5, 1, 2, 1, 1)
    assert xy["b_win_rate"] == pytest.approx(0.6) and xy["ci"][0] < 0.6 < xy["ci"][1]
    tiny = pairs[tuple(sorted(names))]
    assert tiny["votes"] == 1 and tiny["b_wins" if b_name > a_name else "a_wins"] == 0
    assert len(result["ratings"]) == 4  # four models: Bradley-Terry scores
    assert kit(["arena", "--language", LANG]) == 0
    printed = capsys.readouterr().out
    assert "Bradley-Terry scores" in printed and "x against y: only 5 votes, too few" in printed
    assert kit(["progress", "--language", LANG]) == 0
    progress = capsys.readouterr().out
    assert "arena        6 blind verdicts;" in progress


@pytest.mark.server
def test_simulated_visitors_vote_blind_through_the_served_app_and_the_demo_ends_on_both_results(
    rendered, adapter, argilla_server, client, config_dir, tmp_path, capfd
):
    """`make demo`'s last steps, with a tuned side that always keeps the form (on the prompts it was
    trained on, the adapter says TUNED_SAYS, a 5-7-5 haiku, at temperature 0): `demo-space --serve` in a
    process of its own, simulated visitors vote over HTTP (no noise), the verdicts stored are the ones they
    returned, the form-keeping side never loses and wins wherever the base breaks the form, and the demo
    ends on the form gain and the arena's sentence."""
    import shutil

    from ktokit.annotate.credentials import save_target
    from ktokit.annotate.task import ensure_dataset, task_template
    from ktokit.campaign.arena import arena_summary, read_verdicts, verdict_sentence
    from ktokit.demo import walkthrough
    from ktokit.demo.simulated_visitors import form_verdict
    from ktokit.inference import load_model
    from ktokit.packs.form import check_form
    from ktokit.train.evaluation import evaluate

    pack = load_pack(LANG)
    assert check_form(TUNED_SAYS, pack.form).passed  # the side that always keeps the form
    tuned_dir = Path(shutil.copytree(adapter, tmp_path / "kto-model-visits"))
    info = adapter_info(tuned_dir, language=LANG)
    model, tokenizer = load_model(info.base_path, str(tuned_dir))  # what train_kto.py --eval writes beside it
    trained_on = pack.prompts[:8]  # the adapter says TUNED_SAYS to these (held-out ones it may garble)
    evaluate(model, tokenizer, pack, trained_on, tuned_dir / "eval", seeds=1, temperatures=[0.0])
    ensure_dataset(client, task_template(pack, dataset="haiku-en-visits", workspace="en-visits"))
    save_target(
        LANG,
        {
            "kind": "local",
            "data_dir": str(argilla_server["data_dir"]),
            "workspace": "en-visits",
            "dataset": "haiku-en-visits",
        },
    )
    prompts = walkthrough.held_out(tuned_dir)
    assert prompts == trained_on  # the evaluation's prompts, in its order
    votes = walkthrough.visit_arena(
        LANG, tuned_dir, prompts, temperature=0.0, max_new_tokens=48, noise=0.0, output=tmp_path / "space"
    )
    tuned, base = "tiny + KTO (kto-model-visits)", "tiny"  # the names demo-space gives the two sides
    assert (
        len(votes) >= 6
    )  # a pair with an empty base answer takes no verdict (the tiny base may say nothing)
    for v in votes:
        assert {v.model_a, v.model_b} == {tuned, base} and not v.noisy
        assert (v.form_a, v.form_b) == tuple(check_form(t, pack.form).passed for t in (v.text_a, v.text_b))
        assert (v.form_a if v.model_a == tuned else v.form_b) is True
        assert v.verdict == form_verdict(v.form_a, v.form_b)

    visitors = client.datasets(name="haiku-en-visits-visitors", workspace="en-visits-visitors")
    records = list(visitors.records())
    assert len(records) == 2 * len(votes)  # both answers of each verdict, once
    stored = {}
    for r in records:
        m = r.metadata
        assert m["source"] == "arena" and m["tuned"] == tuned
        stored.setdefault(m["compare"], {})[m["side"]] = (r.fields["prompt"], r.fields["completion"], m)
    returned = sorted((v.prompt, v.text_a, v.text_b, v.verdict, v.model_a, v.model_b) for v in votes)
    assert returned == sorted(
        (a[0], a[1], b[1], a[2]["verdict"], a[2]["model_a"], a[2]["model_b"])
        for a, b in ((sides["A"], sides["B"]) for sides in stored.values())
    )

    # the form-keeping side never loses, and wins wherever the base breaks the form; the sentence is the
    # tuned model's
    (pair,) = arena_summary(LANG, read_verdicts(r.metadata for r in records))["pairs"]
    base_broke = sum(not (v.form_b if v.model_a == tuned else v.form_a) for v in votes)
    assert pair["tuned"] == tuned and (pair["a"], pair["b"]) == (base, tuned)
    assert (pair["votes"], pair["a_wins"], pair["b_wins"]) == (len(votes), 0, base_broke)
    assert pair["b_win_rate"] >= 0.5 and re.match(
        rf"[Tt]he tuned model {re.escape(tuned)} ", verdict_sentence(pair)
    )

    capfd.readouterr()
    assert walkthrough.finish(LANG, tuned_dir) == 0
    out, err = capfd.readouterr()
    printed = out + err
    assert "tuned - base form score:" in printed  # the form check's gain, from the evaluation
    assert f"$ python -m ktokit arena --language {LANG}" in printed
    assert verdict_sentence(pair) in printed  # the arena's sentence, as `ktokit arena` prints it
    assert "Warning" not in printed and "Traceback" not in printed

    # base and tuned may write the same answer from the same seed: a verdict still stores one record a side
    app = load_app(rendered[0])
    settings = app.Settings(
        base_model="base",
        adapter="adapter",
        language=LANG,
        argilla_api_url=argilla_server["api_url"],
        argilla_api_key=argilla_server["api_key"],
        dataset="haiku-en-visits-visitors",
        workspace="en-visits-visitors",
    )
    same = {
        "id": "same",
        "prompt": "p",
        "texts": {"A": TUNED_SAYS, "B": TUNED_SAYS},
        "names": {"A": base, "B": tuned},
    }
    assert "Thanks" in app.Feedback(settings, pack).verdict(same, "tie")
    assert len(list(visitors.records())) == 2 * len(votes) + 2
