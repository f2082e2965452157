"""An annotator in a real browser: Debian's chromium, headless, driven by Playwright
(never `playwright install`).

Signs in to the local server (configured like the Space, with HF sign-in offered), opens the dataset
create_task.py made, sees prompt, completion, labels and guidelines in the pack's language, clicks 👍
and submits; the SDK then reads that response. The screenshot is kept in tests/artifacts/.
"""

import time
from pathlib import Path

import pytest
from kit_testing import SPACE_LANGUAGE as LANG
from kit_testing import make_generations, run_script

from ktokit.packs.languages import load_pack

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium() -> str:
    """Debian's chromium, which `make test` installs first (`make test-deps`); never installed from a test."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make test-deps` (apt-get install chromium and CJK/emoji fonts)"
        )
    return CHROMIUM


def wait_for_answers(dataset, user_id, timeout_s: float = 30.0) -> list[tuple[str, str, str]]:
    """(record id, value, status) of the user's label answers, once the UI's submit has reached the server."""
    deadline = time.monotonic() + timeout_s
    while True:
        answers = [
            (str(r.id), a.value, a.status)
            for r in dataset.records(with_responses=True)
            for a in r.responses["label"]
            if a.user_id == user_id
        ]
        if answers or time.monotonic() > deadline:
            return answers
        time.sleep(0.5)


def wait_for_flags(client, dataset, user_id, timeout_s: float = 30.0) -> list[tuple[str, str]]:
    """(status, flag) of the user's flagged answers, once the UI's discard has reached the server."""
    from ktokit.export.read import record_items

    deadline = time.monotonic() + timeout_s
    while True:
        found = [
            (r["status"], r["values"]["flag"]["value"])
            for item in record_items(client, dataset)
            for r in item.get("responses") or []
            if r["user_id"] == str(user_id) and "flag" in (r.get("values") or {})
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


@pytest.mark.server
def test_annotator_rates_a_completion_in_the_browser(kit_server, tmp_path, monkeypatch):
    import argilla as rg
    from playwright.sync_api import expect, sync_playwright

    from ktokit.annotate.argilla_local import manager

    monkeypatch.setenv("KTOKIT_CONFIG_DIR", str(tmp_path / "config"))
    pack = load_pack(LANG)
    gen = make_generations(tmp_path / "gen", LANG, 2)
    proc = run_script(
        "create_task.py",
        "--language",
        LANG,
        "--generations",
        str(gen),
        "--local",
        "--argilla_dir",
        str(kit_server["data_dir"]),
        "--dataset_name",
        "haiku-ja-browser",
    )
    assert proc.returncode == 0, proc.stderr
    url = next(line.split()[-1] for line in proc.stdout.splitlines() if line.startswith("annotate at"))
    user = manager.add_annotator("browser-annotator", workspace=LANG, data_dir=kit_server["data_dir"])
    client = rg.Argilla(api_url=kit_server["api_url"], api_key=kit_server["api_key"], timeout=120)
    dataset = client.datasets(name="haiku-ja-browser", workspace=LANG)
    by_prompt = {}
    for record in dataset.records():
        by_prompt.setdefault(record.fields["prompt"], []).append(record)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"annotation-{LANG}.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale=LANG)
            # the UI speaks the browser's language: sign in through the form, whatever its labels say
            page.goto(f"{kit_server['api_url']}/sign-in")
            expect(page.get_by_text("Hugging Face")).to_be_visible(timeout=30_000)  # HF sign-in is offered
            page.fill("form input[type=text]", user["username"])
            page.fill("form input[type=password]", user["password"])
            page.click("form button[type=submit]")
            page.wait_for_url(lambda u: "/sign-in" not in u, timeout=30_000)

            page.goto(url)
            ann = pack.annotation
            expect(page.get_by_text(ann.question)).to_be_visible(timeout=30_000)
            expect(page.get_by_text(ann.label_good, exact=True)).to_be_visible()
            expect(page.get_by_text(ann.label_bad, exact=True)).to_be_visible()
            expect(page.get_by_text(ann.comment)).to_be_visible()
            expect(page.get_by_text("ktokit-form-check/ja/5-7-5")).to_be_visible()  # the suggestion's agent
            shown = [prompt for prompt in by_prompt if page.get_by_text(prompt, exact=True).count()]
            assert len(shown) == 1, shown
            body = page.inner_text("body")
            shown_records = [r for r in by_prompt[shown[0]] if r.fields["completion"].splitlines()[0] in body]
            assert shown_records, "the completion is not on the page"

            page.locator("button.panel__header").first.click()  # the guidelines panel
            first_guideline = (
                next(ln for ln in ann.guidelines.splitlines() if ln.strip()).lstrip("# ").strip()
            )
            expect(page.get_by_text(first_guideline)).to_be_visible()

            submit = page.locator("button.button--submit")
            thumbs_up = page.get_by_text(ann.label_good, exact=True)
            thumbs_up.click()
            if submit.is_disabled():  # 👍 was the form check's suggestion, preselected: the click unset it
                thumbs_up.click()
            expect(submit).to_be_enabled()
            page.screenshot(path=str(shot), full_page=True)
            submit.click()
            me = next(u for u in client.users if u.username == user["username"])
            answers = wait_for_answers(dataset, me.id)  # the SDK reads what the browser submitted

            # the next record: a flag instead of 👍/👎 (the optional question), then Discard
            flag = page.get_by_text(ann.flag_labels["wrong_language"], exact=True)
            expect(flag).to_be_visible(timeout=30_000)
            expect(page.get_by_text(ann.flag)).to_be_visible()
            flag.click()
            page.wait_for_timeout(500)  # the chip's selected style, for the screenshot
            page.screenshot(path=str(ARTIFACTS / f"annotation-flag-{LANG}.png"), full_page=True)
            page.locator("button.button--discard").click()
            flagged = wait_for_flags(client, dataset, me.id)
        finally:
            browser.close()
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000
    assert len(answers) == 1
    record_id, value, status = answers[0]
    assert (value, status) == ("good", "submitted")
    assert record_id in {str(r.id) for r in shown_records}
    assert flagged == [("discarded", "wrong_language")]  # the export leaves it out, not a 👎
