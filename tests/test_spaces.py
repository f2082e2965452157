"""The annotation Space: rendered files, the server accepting them, and the Hub calls.

The Hub calls run against `RecordingHfApi`, a stand-in whose methods have huggingface_hub.HfApi's own
signatures (arguments are bound against them, so a wrong call fails here as it would on the Hub);
it is the only stand-in in the kit's tests. Everything else is real: the rendered files, the local
Argilla server reading the rendered `.oauth.yaml`, the dataset created through the Space flow.
"""

import json
import re
import stat

import httpx
import pytest
import yaml
from kit_testing import OAUTH_CLIENT_ID, FakeClock, RecordingHfApi, front_matter, make_generations
from kit_testing import SPACE_LANGUAGE as LANG

from ktokit.annotate import space
from ktokit.annotate.create import TaskArguments, create_task, plan_task
from ktokit.console import KitError
from ktokit.hub import check_repo_id
from ktokit.packs.languages import load_pack
from ktokit.spaces import provision, render

REPO = "kit-community/haiku-ja-annotation"


def run_task(args: TaskArguments) -> None:
    """What create_task.py does with its arguments: the plan, then the work, each printed."""
    plan = plan_task(args)
    print("\n".join(plan.lines()))
    print("\n".join(create_task(plan).lines()))


@pytest.fixture
def rendered(tmp_path):
    pack = load_pack(LANG)
    values = space.render_values(pack, "ja", "haiku-ja", 2, "none")
    return {p.name: p.read_text() for p in space.render_space(values, tmp_path / "space")}


def test_rendered_space_files(rendered):
    assert set(rendered) == {"README.md", "Dockerfile", ".oauth.yaml"}
    assert not any(re.search(r"\{\{\w+\}\}", text) for text in rendered.values())
    meta = front_matter(rendered["README.md"])
    assert meta["sdk"] == "docker" and meta["app_port"] == 6900 and meta["hf_oauth"] is True
    assert "ja" in meta["tags"] and len(meta["title"]) <= 60
    assert "no persistent storage" in rendered["README.md"]
    froms = [line for line in rendered["Dockerfile"].splitlines() if line.startswith("FROM ")]
    assert froms == [f"FROM argilla/argilla-hf-spaces:v{space.ARGILLA_VERSION}"]  # pinned, never :latest
    assert "COPY --chown=argilla:argilla .oauth.yaml /home/argilla/.oauth.yaml" in rendered["Dockerfile"]
    oauth = yaml.safe_load(rendered[".oauth.yaml"])
    assert oauth == {"providers": [{"name": "huggingface"}], "allowed_workspaces": [{"name": "ja"}]}
    with pytest.raises(KitError, match="unknown placeholder"):
        render.render_text("{{nope}}", {})
    with pytest.raises(AssertionError, match="front matter"):
        front_matter("# no header\n")


def test_space_names_and_storage():
    assert provision.space_url("Kit-Community/haiku_ja.v2") == "https://kit-community-haiku-ja-v2.hf.space"
    for bad in ("noslash", "a/b/c", "", "/x"):
        with pytest.raises(KitError, match="ORG/NAME"):
            check_repo_id(bad)
    with pytest.raises(KitError, match="storage buckets"):
        space.check_storage("small")
    plan = space.plan_space(REPO, [], storage="bucket")
    assert plan.bucket == f"{REPO}-data" and space.NO_STORAGE_WARNING not in plan.notes
    assert space.BUCKET_WARNING in plan.notes and space.BUCKET_WARNING not in space.plan_space(REPO, []).notes


def test_bucket_storage_warns_in_the_plan_and_the_space_readme(tmp_path, capsys):
    """Bucket mounts may not be writable by Argilla's non-root user: say so, and name the backup."""
    gen = make_generations(tmp_path / "gen", LANG, 1)
    run_task(TaskArguments(language=LANG, generations=str(gen), space=REPO, storage="bucket", dry_run=True))
    out = capsys.readouterr().out
    assert f"bucket {REPO}-data mounted at /data" in out
    warning = [line for line in out.splitlines() if line.startswith("WARNING: --storage bucket")]
    assert len(warning) == 1 and "nobody:nogroup" in warning[0] and "/data/argilla" in warning[0]
    assert "untested on a real Space" in warning[0] and "ktokit backup --language LANG" in warning[0]
    assert "NO persistent storage" not in out
    values = space.render_values(load_pack(LANG), "ja", "haiku-ja", 2, "bucket")
    readme = dict((p.name, p.read_text()) for p in space.render_space(values, tmp_path / "space"))[
        "README.md"
    ]
    assert f"ktokit backup --language {LANG}" in readme and "no persistent storage" not in readme


def test_no_app_file_right_after_the_upload_is_a_grace_period_then_an_error():
    said: list[str] = []
    clock = FakeClock()
    api = RecordingHfApi(stages=("NO_APP_FILE", "NO_APP_FILE", "BUILDING", "RUNNING"))
    assert (
        provision.wait_until_running(api, REPO, say=said.append, clock=clock, sleep=clock.sleep) == "RUNNING"
    )
    assert api.names() == ["get_space_runtime"] * 4 and clock.now == 3 * provision.POLL_S
    assert "no app file (normal right after an upload" in said[0] and "running" in said[-1]

    clock, said = FakeClock(), []
    with pytest.raises(KitError, match=r"still has no app file after 130 s \(stage NO_APP_FILE\)") as error:
        provision.wait_until_running(
            RecordingHfApi(stages=("NO_APP_FILE",)), REPO, say=said.append, clock=clock, sleep=clock.sleep
        )
    assert "\n" not in str(error.value) and f"spaces/{REPO}/tree/main" in str(error.value)
    assert (
        provision.NO_APP_FILE_GRACE_S == 120 and clock.now == 130 and len(said) == 1
    )  # one stage line, no repeats

    clock = FakeClock()  # a shorter grace, as a caller may ask
    with pytest.raises(KitError, match="after 20 s"):
        provision.wait_until_running(
            RecordingHfApi(stages=("NO_APP_FILE",)),
            REPO,
            say=said.append,
            no_app_file_grace_s=15,
            clock=clock,
            sleep=clock.sleep,
        )


@pytest.mark.server
def test_server_accepts_the_rendered_oauth_config(kit_server, tmp_path, monkeypatch, hub, capsys):
    """The local server started with the rendered .oauth.yaml lists HF sign-in with our client id."""
    api_url = kit_server["api_url"]
    served = yaml.safe_load((kit_server["data_dir"] / ".oauth.yaml").read_text())
    providers = httpx.get(f"{api_url}/api/v1/oauth2/providers").json()["items"]
    assert [p["name"] for p in providers] == ["huggingface"]
    start = httpx.get(f"{api_url}/api/v1/oauth2/providers/huggingface/authentication", follow_redirects=False)
    assert start.status_code in (302, 303, 307)
    assert start.headers["location"].startswith("https://huggingface.co/oauth/authorize")
    assert f"client_id={OAUTH_CLIENT_ID}" in start.headers["location"]

    # the Space flow creates the workspace the .oauth.yaml lets signed-in users into
    run_space_flow(kit_server, tmp_path, monkeypatch, hub, dataset_name="haiku-ja-oauth")
    capsys.readouterr()
    owner = httpx.get(f"{api_url}/api/v1/me/workspaces", headers={"X-Argilla-Api-Key": kit_server["api_key"]})
    names = {w["name"] for w in owner.json()["items"]}
    assert {w["name"] for w in served["allowed_workspaces"]} <= names


def run_space_flow(kit_server, tmp_path, monkeypatch, hub, api=None, stored: dict | None = None, **overrides):
    """create_task for --space with the stand-in Hub; the Space's Argilla is the local server."""
    monkeypatch.setenv("KTOKIT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(provision, "POLL_S", 0.01)
    from ktokit.annotate.credentials import save_space_credentials

    # a previous run stored the owner credentials (as before any upload); here they are the local server's
    save_space_credentials(
        REPO,
        stored
        or {
            "api_key": kit_server["api_key"],
            "password": "owner-password-123",
            "auth_secret": "f" * 64,
            "username": "organiser",
        },
    )
    gen = make_generations(tmp_path / "gen", LANG, 2)
    overrides.setdefault("dataset_name", "haiku-ja-space")
    overrides.setdefault(
        "gold", 0
    )  # the counts below are the generations'; gold: tests/argilla/test_trust.py
    hub.api = api or RecordingHfApi()
    run_task(
        TaskArguments(
            language=LANG, generations=str(gen), space=REPO, space_url=kit_server["api_url"], **overrides
        )
    )
    return hub.api


@pytest.mark.server
def test_space_flow_sets_secrets_never_variables_and_never_prints_them(
    kit_server, tmp_path, monkeypatch, hub, capsys
):
    password, auth_secret = "owner-password-123", "e" * 64
    stored = {"api_key": kit_server["api_key"], "password": password, "auth_secret": auth_secret}
    api = run_space_flow(kit_server, tmp_path, monkeypatch, hub, stored=stored, private=True)
    out, err = capsys.readouterr()

    assert api.names()[:6] == [
        "repo_exists",
        "create_repo",
        "add_space_secret",
        "add_space_secret",
        "add_space_secret",
        "upload_folder",
    ]
    assert set(api.names()[6:]) == {"get_space_runtime"} and len(api.names()) == 9  # polled to RUNNING
    (create,) = [a for n, a in api.calls if n == "create_repo"]
    assert create["repo_type"] == "space" and create["space_sdk"] == "docker" and create["private"] is True
    assert not create.get("space_variables") and not create.get("space_secrets")
    secrets_set = {a["key"]: a["value"] for n, a in api.calls if n == "add_space_secret"}
    assert secrets_set == {
        "API_KEY": kit_server["api_key"],
        "PASSWORD": password,
        "ARGILLA_AUTH_SECRET_KEY": auth_secret,
    }
    assert "add_space_variable" not in api.names()
    assert set(api.uploaded) == {"README.md", "Dockerfile", ".oauth.yaml"}
    for value in secrets_set.values():
        for name, arguments in api.calls:
            if name != "add_space_secret":
                assert value not in json.dumps(arguments, default=str)
        assert not any(value in text for text in api.uploaded.values())
        assert value not in out and value not in err
    assert "API_KEY" in err and "secret ARGILLA_AUTH_SECRET_KEY set" in err
    assert re.search(r"\d+ s\s+building", err) and "running" in err  # progress while waiting
    assert "NO persistent storage" in err
    assert "4 records added" in out and "annotate at  " + kit_server["api_url"] + "/dataset/" in out

    from ktokit.annotate.credentials import argilla_target, space_credentials_path

    path = space_credentials_path(REPO)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["api_url"] == kit_server["api_url"]
    target = argilla_target(LANG)
    assert (target.kind, target.space, target.private, target.dataset) == (
        "space",
        REPO,
        True,
        "haiku-ja-space",
    )

    # rerun: the Space exists and is reused as it is; nothing is uploaded, no secret is reset
    again = run_space_flow(
        kit_server,
        tmp_path / "2",
        monkeypatch,
        hub,
        api=RecordingHfApi(exists=True, stages=("RUNNING",)),
        stored=stored,
    )
    out, err = capsys.readouterr()
    assert again.names() == ["repo_exists", "get_space_runtime"]
    assert "reusing it" in err and "0 records added, 4 already there" in out


def test_new_secrets_are_generated_stored_first_and_storage_is_a_bucket(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KTOKIT_CONFIG_DIR", str(tmp_path / "config"))
    values = space.render_values(load_pack(LANG), "ja", "haiku-ja", 2, "bucket")
    files = space.render_space(values, tmp_path / "space")
    plan = space.plan_space(REPO, files, storage="bucket")
    generated = space.new_secrets()
    assert all(len(v) >= 8 for v in generated.values()) and generated != space.new_secrets()
    api = RecordingHfApi()
    assert space.provision_space(api, plan, generated, say=print) is True
    assert api.names() == [
        "repo_exists",
        "create_repo",
        "add_space_secret",
        "add_space_secret",
        "add_space_secret",
        "create_bucket",
        "set_space_volumes",
        "upload_folder",
    ]
    (volumes,) = [a["volumes"] for n, a in api.calls if n == "set_space_volumes"]
    assert [(v.type, v.source, v.mount_path) for v in volumes] == [("bucket", f"{REPO}-data", "/data")]
    out = capsys.readouterr().out
    assert not any(v in out for v in generated.values())
    assert "\n".join(plan.lines()).count("API_KEY") == 1 and not any(
        v in "\n".join(plan.lines()) for v in generated.values()
    )

    failing = RecordingHfApi(stages=("BUILDING", "BUILD_ERROR"))
    monkeypatch.setattr(provision, "POLL_S", 0.01)
    with pytest.raises(KitError, match="stopped at BUILD_ERROR"):
        provision.wait_until_running(failing, REPO, say=print)
    with pytest.raises(KitError, match="not running after"):
        provision.wait_until_running(RecordingHfApi(stages=("BUILDING",)), REPO, timeout_s=0.05, say=print)


def test_existing_space_without_credentials_is_refused(tmp_path, monkeypatch, config_dir, hub):
    monkeypatch.delenv("ARGILLA_API_KEY", raising=False)
    gen = make_generations(tmp_path / "gen", LANG, 1)
    hub.api = RecordingHfApi(exists=True)
    with pytest.raises(KitError, match="no credentials for it: set ARGILLA_API_KEY"):
        run_task(TaskArguments(language=LANG, generations=str(gen), space=REPO))
    assert hub.api.names() == ["repo_exists"]
