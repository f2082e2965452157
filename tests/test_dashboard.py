"""The campaign dashboard Space: rendered by `python -m ktokit dashboard`, run for real against the local
Argilla server with three annotators' answers, read in a real browser (Debian's chromium, headless,
driven by Playwright), its scheduled backup written only when something changed, and its Hub push
against the recording `HfApi` stand-in. The screenshot is kept in tests/artifacts/ (git-ignored): a test
run leaves the checkout as it found it; `make docs` copies it to docs/dashboard.png.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kit_testing import ROOT, RecordingHfApi, free_port, front_matter, sign_in, task_with_examples

from ktokit.cli import main as kit

LANG = "en"
WORKSPACE, DATASET = "en-dash", "haiku-en-dash"
NAMES = ("dash-ana", "dash-ben", "dash-cho")
MODELS = ("model-a", "model-b")
# pack example index -> each annotator's answer: good/bad (submitted), draft:<v>, None (no answer)
ANSWERS = {
    0: ("good", "good", None),
    1: ("bad", "good", "bad"),
    2: ("good", "draft:bad", None),
    3: ("bad", "bad", "good"),
    4: ("good", None, None),
    5: (None, None, None),
}
MIN_SUBMITTED = 2
SCREENSHOT = ROOT / "tests" / "artifacts" / "dashboard.png"  # docs/screenshots.py copies it to docs/


def submitted(specs):
    return [s for s in specs if s in ("good", "bad")]


def expected():
    """What the page must show, worked out from ANSWERS alone."""
    per_user = {n: Counter() for n in NAMES}
    for specs in ANSWERS.values():
        for name, spec in zip(NAMES, specs):
            if spec:
                per_user[name]["draft" if spec.startswith("draft") else "submitted"] += 1
    board = sorted(
        ((n, c["submitted"], c["draft"]) for n, c in per_user.items() if c), key=lambda t: (-t[1], t[0])
    )
    models = Counter()
    for i, specs in ANSWERS.items():
        votes = submitted(specs)
        up, down = votes.count("good"), votes.count("bad")
        if up != down:  # the export's majority: ties and unrated records have no label
            models[(MODELS[i % 2], up > down)] += 1
    return {
        "records": len(ANSWERS),
        "completed": sum(len(submitted(s)) >= MIN_SUBMITTED for s in ANSWERS.values()),
        "submitted": sum(len(submitted(s)) for s in ANSWERS.values()),
        "board": board,
        "models": {m: (models[(m, True)], models[(m, False)]) for m in MODELS},
        "overlap": sum(len(submitted(s)) >= 2 for s in ANSWERS.values()),
    }


@pytest.fixture(scope="module")
def campaign(argilla_server, client, tmp_path_factory):
    """A task answered by three annotators through the endpoints the annotation UI uses, recorded for LANG."""
    from ktokit.annotate.argilla_local import manager
    from ktokit.annotate.credentials import save_target
    from ktokit.packs.languages import load_pack

    pack = load_pack(LANG)
    dataset, ids = task_with_examples(
        client, pack, ANSWERS, lambda i: MODELS[i % 2], MIN_SUBMITTED, DATASET, WORKSPACE
    )
    for k, name in enumerate(NAMES):
        user = manager.add_annotator(name, workspace=WORKSPACE, data_dir=argilla_server["data_dir"])
        http = sign_in(argilla_server["api_url"], name, user["password"])
        for i, specs in ANSWERS.items():
            if specs[k]:
                status, _, value = specs[k].partition(":") if ":" in specs[k] else ("submitted", "", specs[k])
                r = http.post(
                    f"/api/v1/records/{ids[pack.examples[i]]}/responses",
                    json={"status": status, "values": {"label": {"value": value}}},
                )
                assert r.status_code == 201, r.text
    config = tmp_path_factory.mktemp("dash-config")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KTOKIT_CONFIG_DIR", str(config))
        save_target(
            LANG,
            {
                "kind": "local",
                "data_dir": str(argilla_server["data_dir"]),
                "workspace": WORKSPACE,
                "dataset": DATASET,
            },
        )
        yield {"dataset": dataset, "config": config}


def load_app(folder: Path):
    spec = importlib.util.spec_from_file_location("dashboard_app", folder / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def chromium() -> str:
    path = "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"{path} is missing: run `make test-deps` (apt-get install chromium and CJK/emoji fonts)")
    return path


@pytest.mark.server
def test_dashboard_in_the_browser_shows_the_answers_and_backs_up_when_changed(
    campaign, argilla_server, tmp_path, monkeypatch, capsys
):
    from playwright.sync_api import expect, sync_playwright

    from ktokit.annotate.roles import users_path

    out = tmp_path / "dash"
    assert kit(["dashboard", "--language", LANG, "-o", str(out)]) == 0  # renders, makes the dashboard user
    printed = "".join(capsys.readouterr())
    assert "rendered only" in printed and argilla_server["api_key"] not in printed
    creds = json.loads(users_path().read_text())[argilla_server["api_url"]]["en-dash-dashboard"]
    # admin of the annotation workspace and of its gold key's (annotators belong to neither's key)
    assert creds["role"] == "admin" and creds["workspaces"] == [WORKSPACE, f"{WORKSPACE}-organisers"]
    assert creds["api_key"] not in printed

    app = load_app(out)
    backups_dir = tmp_path / "backups"
    settings = app.Settings(
        language=LANG,
        argilla_api_url=argilla_server["api_url"],
        argilla_api_key=creds["api_key"],
        workspace=WORKSPACE,
        dataset=DATASET,
        backup_repo=str(backups_dir),
    )
    monkeypatch.setenv("KTOKIT_CONFIG_DIR", str(tmp_path / "app-config"))  # the app's own, restored after
    backups = app.Backups(settings)
    ui = app.build(settings, backups)
    ui.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, css=app.STYLE
    )
    want = expected()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium(),
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            try:
                page = browser.new_page(viewport={"width": 1300, "height": 1000})
                page.goto(ui.local_url)
                text = page.locator("#progress-text")
                expect(text).to_contain_text("records completed", timeout=60_000)
                assert text.inner_text().startswith(
                    f"{want['completed']} of {want['records']} records completed"
                )
                assert f"{want['submitted']} submitted, 1 draft, 0 discarded" in text.inner_text()
                fill = page.locator("#progress .fill").get_attribute("style")
                assert f"width:{want['completed'] / want['records']:.1%}" in fill
                rows = [
                    [c.strip() for c in r.split("\t")]
                    for r in page.locator("#leaderboard tbody tr").all_inner_texts()
                ]
                # a handful of answers: every annotator `check`, so reliable answers = submitted ones
                assert [(r[1], int(r[3]), int(r[4])) for r in rows] == want["board"]
                assert all(r[2] == r[3] and r[6].endswith("check") for r in rows)
                days = page.locator("#per-day tbody tr").all_inner_texts()
                assert [d.split("\t")[:2] for d in days] == [[today, str(want["submitted"])]]
                models = {
                    r.split("\t")[0]: r.split("\t")[1:3]
                    for r in page.locator("#models tbody tr").all_inner_texts()
                }
                assert {m: tuple(int(v) for v in ud) for m, ud in models.items()} == {
                    m: ud for m, ud in want["models"].items() if sum(ud)
                }
                agreement = page.locator("#agreement").inner_text()
                assert agreement.startswith(f"{want['overlap']} records with 2+ votes")
                expect(page.locator("#backup")).to_contain_text("saved", timeout=60_000)
                page.get_by_role("button", name="Refresh").click()
                expect(page.locator("#backup")).to_contain_text(f"{want['submitted']} submitted answers")
                expect(page.get_by_text(re.compile(r"processing \|"))).to_have_count(0, timeout=60_000)
                assert page.locator("#progress-text").inner_text() == text.inner_text()
                SCREENSHOT.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOT), full_page=True)
            finally:
                browser.close()
    finally:
        ui.close()
    assert SCREENSHOT.stat().st_size > 10_000

    # the schedule's first run wrote the backup; nothing changed since, so the next one writes nothing
    meta = json.loads((backups_dir / LANG / "ktokit-backup.json").read_text())
    assert meta["responses"]["submitted"] == want["submitted"] and meta["records"] == want["records"]
    assert {a["username"] for a in meta["answers"]} == set(NAMES)  # usernames, read with the narrow user
    assert backups.run_once()["changed"] is False and "unchanged" in backups.last


@pytest.mark.server
def test_dashboard_space_push_sets_the_dashboard_users_key_never_the_owners(
    argilla_server, tmp_path, monkeypatch, hub, capsys
):
    from ktokit.annotate.credentials import save_space_credentials, save_target
    from ktokit.annotate.roles import users_path

    owner_key = argilla_server["api_key"]
    monkeypatch.setenv("KTOKIT_CONFIG_DIR", str(tmp_path / "config"))
    save_space_credentials(
        "kit-community/haiku-en", {"api_url": argilla_server["api_url"], "api_key": owner_key}
    )
    save_target(
        LANG,
        {
            "kind": "space",
            "space": "kit-community/haiku-en",
            "workspace": "en-dash-hub",
            "dataset": "haiku-en-dash-hub",
        },
    )
    argv = [
        "dashboard",
        "--language",
        LANG,
        "--space",
        "kit-community/haiku-en-dashboard",
        "-o",
        str(tmp_path / "o"),
    ]

    assert kit([*argv, "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert hub.api.names() == [] and not users_path().exists()  # a dry run asks nobody anything
    assert (
        "secrets      ARGILLA_API_KEY (the dashboard user en-dash-hub-dashboard, "
        "admin of workspace en-dash-hub only); never shown" in out
    )
    assert "BACKUP_REPO=kit-community/haiku-en-dash-hub-backups" in out and "BACKUP_EVERY_MIN=30" in out
    assert "once the Space has a secret HF_TOKEN" in out and owner_key not in out + err

    monkeypatch.setenv("KTOKIT_BACKUP_TOKEN", "hf_backup_only_token_for_tests")
    api = hub.api = RecordingHfApi()
    assert kit([*argv, "--hardware", "cpu-upgrade", "--sleep-time", "7200", "--backup-every", "15"]) == 0
    out, err = capsys.readouterr()
    assert "HF_TOKEN (from $KTOKIT_BACKUP_TOKEN); never shown" in out
    key = json.loads(users_path().read_text())[argilla_server["api_url"]]["en-dash-hub-dashboard"]["api_key"]
    (create,) = [a for n, a in api.calls if n == "create_repo"]
    assert (create["space_sdk"], create["space_hardware"], create["space_sleep_time"]) == (
        "gradio",
        "cpu-upgrade",
        7200,
    )
    assert {a["key"]: a["value"] for n, a in api.calls if n == "add_space_secret"} == {
        "ARGILLA_API_KEY": key,
        "HF_TOKEN": "hf_backup_only_token_for_tests",
    }
    variables = {a["key"]: a["value"] for n, a in api.calls if n == "add_space_variable"}
    assert variables["BACKUP_EVERY_MIN"] == "15" and variables["ARGILLA_DATASET"] == "haiku-en-dash-hub"
    for name, arguments in api.calls:
        assert owner_key not in json.dumps(arguments, default=str)
        if name != "add_space_secret":
            assert key not in json.dumps(arguments, default=str)
    assert set(api.uploaded) == {"README.md", "app.py", "requirements.txt"}
    shipped = api.repos["kit-community/haiku-en-dashboard"]
    assert {"ktokit/campaign/backup.py", "ktokit/campaign/dashboard.py", "ktokit/annotate/roles.py"} <= set(
        shipped
    )
    assert not any(k in text for text in shipped.values() for k in (owner_key, key))
    meta = front_matter(api.uploaded["README.md"])
    assert (meta["sdk"], meta["app_file"]) == ("gradio", "app.py")
    assert not any(k in out + err for k in (owner_key, key, "hf_backup_only_token_for_tests"))
    assert kit([*argv, "--serve", "0"]) == 2 and "--serve takes a port number" in capsys.readouterr().err


@pytest.mark.slow  # a fresh interpreter importing gradio and argilla: seconds, so not in the fast half
def test_dashboard_app_runs_on_what_the_space_ships(tmp_path, config_dir):
    """`import app` in the rendered folder, as the Space runs it: every kit module comes from the folder."""
    from ktokit.annotate.credentials import save_space_credentials, save_target

    save_space_credentials(
        "kit-community/haiku-en", {"api_url": "https://kit-community-haiku-en.hf.space", "api_key": "k"}
    )
    save_target(
        LANG, {"kind": "space", "space": "kit-community/haiku-en", "workspace": "en", "dataset": "haiku-en"}
    )
    out = tmp_path / "dash"
    assert (
        kit(["dashboard", "--language", LANG, "--space", "kit-community/dash", "--dry-run", "-o", str(out)])
        == 0
    )
    pins = dict(
        line.split("==")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    reqs = [
        line
        for line in (out / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert reqs and all(pins[name] == version for name, version in (r.split("==") for r in reqs))
    code = (
        "import sys, app; "
        "print('\\n'.join(m.__file__ for n, m in sys.modules.items() if n.split('.')[0] == 'ktokit'))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGILLA_", "KTOKIT_", "PYTHONPATH"))}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=out, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = [Path(p) for p in result.stdout.split()]
    assert loaded and all(out in p.parents for p in loaded), loaded
    assert {"backup.py", "dashboard.py", "progress.py"} <= {p.name for p in loaded}
    assert not re.search(r"\{\{\w+\}\}", (out / "README.md").read_text())


def test_the_docs_screenshots_are_pngs_that_make_docs_takes():
    """docs/ holds screenshots the browser tests took; `make docs` (docs/screenshots.py) copies them there,
    no test writes to docs/. Every one is a PNG of a plausible size, and its test exists."""
    spec = importlib.util.spec_from_file_location("docs_screenshots", ROOT / "docs" / "screenshots.py")
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    assert SCREENSHOT.name in screenshots.SHOTS and SCREENSHOT.parent == screenshots.ARTIFACTS
    for name, test in screenshots.SHOTS.items():
        shot = ROOT / "docs" / name
        assert screenshots.is_png(shot) and 10_000 < shot.stat().st_size < 5_000_000, name
        path, _, function = test.partition("::")
        assert f"def {function}(" in (ROOT / path).read_text(), test


def test_bad_input_is_one_clear_line(tmp_path, config_dir, capsys):
    assert kit(["dashboard", "--language", LANG, "--dry-run"]) == 2
    assert "no annotation dataset recorded for 'en'" in capsys.readouterr().err
    assert kit(["dashboard", "--language", LANG, "--sleep-time", "600", "--dry-run"]) == 2
    assert "--sleep-time needs paid hardware" in capsys.readouterr().err
    assert kit(["dashboard", "--language", LANG, "--backup-every", "0", "--dry-run"]) == 2
    assert "--backup-every is minutes" in capsys.readouterr().err
