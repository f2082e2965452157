"""The campaign dashboard Space: rendered by `python -m ktokit dashboard`, run for real against the local
Argilla server with three annotators' answers (and four blind arena verdicts in the visitors' dataset),
read in a real browser (Debian's chromium, headless, driven by Playwright): the figures, the charts
Gradio draws (in the pack's script, readable), its scheduled backup written only when something changed,
and its Hub push against the recording `HfApi` stand-in. The screenshot is kept in tests/artifacts/
(git-ignored): a test run leaves the checkout as it found it; `make docs` copies it to docs/dashboard.png.
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
from kit_testing import SPACE_LANGUAGE as CAMPAIGN_LANG

from ktokit.cli import main as kit

LANG = "en"  # the Space's rendering and push; the campaign in the browser is CAMPAIGN_LANG's (ja: CJK)
WORKSPACE, DATASET = f"{CAMPAIGN_LANG}-dash", f"haiku-{CAMPAIGN_LANG}-dash"
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
# blind arena verdicts (model A, model B, verdict): model-b wins 3 times (on either side), model-a once, a tie
VERDICTS = [("model-a", "model-b", "b"), ("model-b", "model-a", "a"), ("model-a", "model-b", "a")]
VERDICTS += [("model-b", "model-a", "tie"), ("model-b", "model-a", "a")]
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
        "b_win_rate": (3 + 0.5) / 5,  # model-b against model-a: a tie is half a win
    }


@pytest.fixture(scope="module")
def campaign(argilla_server, client, tmp_path_factory):
    """A task answered by three annotators through the endpoints the annotation UI uses, and arena verdicts
    stored as the demo Space stores them, recorded for CAMPAIGN_LANG."""
    from ktokit.annotate.argilla_local import manager
    from ktokit.annotate.credentials import save_target
    from ktokit.annotate.task import build_records, ensure_dataset, log_new_records
    from ktokit.demo.visitors import visitors_template
    from ktokit.packs.languages import load_pack

    pack = load_pack(CAMPAIGN_LANG)
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
    visitors, _ = ensure_dataset(client, visitors_template(CAMPAIGN_LANG, WORKSPACE, DATASET, MIN_SUBMITTED))
    verdicts = []
    for k, (a, b, verdict) in enumerate(VERDICTS):
        texts = pack.examples[10 + 2 * k : 12 + 2 * k]
        rows = [
            {"input": pack.prompts[k], "generation_model": [m], "generations": [t]}
            for m, t in zip((a, b), texts)
        ]
        for side, record in zip("AB", build_records(rows, pack), strict=True):
            record["id"] = f"{CAMPAIGN_LANG}-arena-p{k}-{side}"
            record["metadata"].update(
                source="arena", compare=f"p{k}", side=side, model_a=a, model_b=b, verdict=verdict,
                voted_at=f"2026-01-01T00:00:0{k}Z",
            )  # fmt: skip
            verdicts.append(record)
    assert log_new_records(visitors, verdicts).added == 2 * len(VERDICTS)
    config = tmp_path_factory.mktemp("dash-config")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KTOKIT_CONFIG_DIR", str(config))
        save_target(
            CAMPAIGN_LANG,
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


# In the page: a text's colour against the background it is painted on (the first ancestor with an opaque
# one; white under none), as WCAG 2's contrast ratio; an SVG text's colour is its fill.
CONTRAST_JS = """
(els) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  return els.map((el) => {
    const cs = getComputedStyle(el);
    const fg = rgb(el instanceof SVGElement ? cs.fill : cs.color);
    let bg = [255, 255, 255];
    for (let n = el; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length >= 3 && (c.length === 3 || c[3] > 0.5)) { bg = c; break; }
    }
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return [el.textContent.trim().slice(0, 40), (hi + 0.05) / (lo + 0.05)];
  });
}
"""
# Each CJK character of an element drawn in the element's own font, against a code point no font has
# (U+10FFFD): a missing glyph draws the same box (or nothing), a real one differs.
GLYPHS_JS = """
(el) => {
  const cs = getComputedStyle(el);
  const draw = (ch) => {
    const c = document.createElement("canvas");
    c.width = c.height = 48;
    const g = c.getContext("2d");
    g.font = `${cs.fontWeight} 32px ${cs.fontFamily}`;
    g.textBaseline = "top";
    g.fillText(ch, 4, 4);
    return Array.from(g.getImageData(0, 0, 48, 48).data).join();
  };
  const none = [draw("\\u{10FFFD}"), draw(" ")];
  const cjk = [...el.textContent].filter((ch) => /[\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}]/u.test(ch));
  return [cjk.join(""), cjk.filter((ch) => none.includes(draw(ch))).join("")];
}
"""
CHARTS = ("per-day-chart", "progress-chart", "models-chart", "arena-chart")


def chart_marks(page, chart: str) -> list[str]:
    """The aria-labels of a chart's data marks (Vega's SVG names each `title: value; ...`; its axes and
    legend, also `graphics-symbol`s, are named in sentences)."""
    marks = page.locator(f"#{chart} svg [role=graphics-symbol]")
    labels = [m.get_attribute("aria-label") or "" for m in marks.all()]
    return [label for label in labels if not label.startswith(("X-axis", "Y-axis", "Symbol legend"))]


@pytest.mark.server
def test_dashboard_in_the_browser_shows_the_answers_and_backs_up_when_changed(
    campaign, argilla_server, tmp_path, monkeypatch, capsys
):
    from playwright.sync_api import expect, sync_playwright

    from ktokit.annotate.roles import users_path
    from ktokit.packs.languages import load_pack

    out = tmp_path / "dash"
    assert kit(["dashboard", "--language", CAMPAIGN_LANG, "-o", str(out)]) == 0  # renders, makes its user
    printed = "".join(capsys.readouterr())
    assert "rendered only" in printed and argilla_server["api_key"] not in printed
    creds = json.loads(users_path().read_text())[argilla_server["api_url"]][f"{WORKSPACE}-dashboard"]
    # admin of the annotation workspace, of its gold key's and of the visitors' (the arena's verdicts)
    assert creds["role"] == "admin"
    assert creds["workspaces"] == [WORKSPACE, f"{WORKSPACE}-organisers", f"{WORKSPACE}-visitors"]
    assert creds["api_key"] not in printed

    app = load_app(out)
    pack = load_pack(CAMPAIGN_LANG)
    backups_dir = tmp_path / "backups"
    settings = app.Settings(
        language=CAMPAIGN_LANG,
        argilla_api_url=argilla_server["api_url"],
        argilla_api_key=creds["api_key"],
        workspace=WORKSPACE,
        dataset=DATASET,
        backup_repo=str(backups_dir),
        language_name=pack.native_name,  # as the command sets them (LANGUAGE_NAME, LABEL_GOOD)
        label_good=pack.annotation.label_good,
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
                agreement = page.locator("#agreement").inner_text()
                assert agreement.startswith(f"{want['overlap']} records with 2+ votes")

                # the charts: Vega's SVG in each, a mark per data point, named by its values
                for chart in CHARTS:
                    expect(page.locator(f"#{chart} svg [role=graphics-symbol]").first).to_be_attached(
                        timeout=30_000
                    )
                (bar,) = chart_marks(page, "per-day-chart")
                assert f"day (UTC): {today}" in bar and f"submitted answers: {want['submitted']}" in bar
                # one point per time an answer was saved (the last count of that time), up to every answer
                counts = Counter()
                for mark in chart_marks(page, "progress-chart"):
                    series = mark.rpartition("series: ")[2]
                    count = int(re.search(r"cumulative count: (\d+)", mark)[1])
                    counts[series] = max(counts[series], count)
                assert counts == {
                    "answers submitted": want["submitted"],
                    "records completed": want["completed"],
                }
                good = pack.annotation.label_good
                rates = {
                    m: dict(kv.split(": ") for kv in m_.split("; "))
                    for m_ in chart_marks(page, "models-chart")
                    for m in [m_]
                }
                estimates = {
                    d["model"]: d[f"share of {good}"] for d in rates.values() if d["series"] == "estimate"
                }
                assert estimates == {
                    m: f"{up / (up + down):.0%}" for m, (up, down) in want["models"].items() if up + down
                }
                arena = [m for m in chart_marks(page, "arena-chart") if "series: estimate" in m]
                rate = f"win rate (draws half): {want['b_win_rate']:.0%}"
                assert arena == [f"pair: model-b vs model-a; {rate}; series: estimate"], arena
                expect(page.locator("#arena-note")).to_contain_text(
                    f"model-a against model-b: only {len(VERDICTS)} votes"
                )

                # readable: text against what it is painted on, charts' axes and legends included
                texts = page.locator(
                    "#title h1, #progress-text, #leaderboard td, #agreement, #arena-note p, "
                    + ", ".join(f"#{c} svg text" for c in CHARTS)
                )
                ratios = page.evaluate(CONTRAST_JS, texts.element_handles())
                assert len(ratios) > 20 and all(r >= 4.5 for _, r in ratios), ratios
                # the pack's script, drawn: the title's language name and the 👍 label on the chart's axis
                for where in ("#title h1", "#models-chart svg text:has-text('share of')"):
                    cjk, missing = page.locator(where).first.evaluate(GLYPHS_JS)
                    assert cjk and not missing, (where, cjk, missing)

                expect(page.locator("#backup")).to_contain_text("saved", timeout=60_000)
                expect(page.get_by_text(re.compile(r"processing \|"))).to_have_count(0, timeout=60_000)
                SCREENSHOT.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOT), full_page=True)  # what was checked above

                with page.expect_response(lambda r: "/queue/join" in r.url):  # the refresh is under way
                    page.get_by_role("button", name="Refresh").click()
                expect(page.get_by_text(re.compile(r"processing \|"))).to_have_count(0, timeout=60_000)
                expect(page.locator("#backup")).to_contain_text(f"{want['submitted']} submitted answers")
                assert page.locator("#progress-text").inner_text() == text.inner_text()
                expect(page.locator("#models-chart svg [role=graphics-symbol]").first).to_be_attached()
            finally:
                browser.close()
    finally:
        ui.close()
    assert SCREENSHOT.stat().st_size > 10_000

    # the schedule's first run wrote the backup; nothing changed since, so the next one writes nothing
    meta = json.loads((backups_dir / CAMPAIGN_LANG / "ktokit-backup.json").read_text())
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
        "admin of workspace en-dash-hub, its gold key's and its visitors' only); never shown" in out
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
