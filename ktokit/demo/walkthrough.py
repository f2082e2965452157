"""`make demo`: the kit's main job on the local target, step by step, as a user would run it.

Every step is the user's own command (printed before it runs), so the demo is also the tutorial:
packs → local Argilla → preference_gen.py (tiny offline models) → create_task.py --local →
(simulated annotators) → export_kto.py → train_kto.py with the cpu-learning recipe and --eval →
demo-space --serve (the blind arena) with simulated visitors voting through it, ending with base vs tuned
on held-out prompts twice: the form check's gain, and which model the visitors prefer, each with whether
it is beyond noise (benchmarks/learning.py runs the flow up to the form check, with a flipped-labels
control, for every pack).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ktokit.console import KitError, say
from ktokit.paths import CHECKOUT
from ktokit.quiet import quiet_libraries

if TYPE_CHECKING:
    from ktokit.demo.simulated_visitors import BlindVote

DEMO_RATERS = ("demo-rater-1", "demo-rater-2", "demo-rater-3")  # odd: a majority, never a tie
DEMO_RECIPE = "recipes/cpu-learning.yaml"
DEMO_SAMPLE = 72  # prompts rated: ~140 rows, enough for KTO to show on the held-out prompts
VISITOR_NOISE = 0.15  # simulated visitors' random verdicts, as the simulated annotators' flipped votes
VISITS_PER_PROMPT = 2  # verdicts per held-out prompt: 80 on the recipe's 40: a CI of about ±7 points
APP_START_S = 180  # the app imports torch and gradio and loads the model: ~10 s idle, more on a busy machine


def _step(title: str) -> None:
    say(f"\n== {title}")


def run_step(script: str, *args: str) -> None:
    """Run one of the kit's entry scripts as the user would; stop the demo if it fails.

    The script inherits this process's environment, so `--verbose` (KTOKIT_VERBOSE) or the quiet
    settings of `quiet_libraries` hold for it too."""
    shown = " ".join(["python", script, *args])
    say(f"$ {shown}")
    path = [script] if script.startswith("-") else [str(CHECKOUT / script)]  # `-m ktokit`: a kit command
    result = subprocess.run([sys.executable, *path, *args], cwd=CHECKOUT)
    if result.returncode != 0:
        raise KitError(f"`{shown}` failed (exit {result.returncode}); see its message above")


@dataclass
class PackCheck:
    """A pack's validation and the form check of its examples."""

    code: str
    prompts: int
    examples: int
    passed: int
    score: float
    form: str
    problems: list[str]


def check_packs(codes: list[str]) -> list[PackCheck]:
    """Validate packs and form-check their examples; a pack is ready when it has no problems."""
    from ktokit.packs.form import check_examples
    from ktokit.packs.languages import load_pack, pack_problems

    results = []
    for code in codes:
        pack = load_pack(code)
        checks = check_examples(pack)
        results.append(
            PackCheck(
                code,
                len(pack.prompts),
                len(pack.examples),
                sum(c.passed for c in checks),
                sum(c.score for c in checks) / max(len(checks), 1),
                pack.form.describe(),
                pack_problems(pack),
            )
        )
    return results


def pack_table(checks: list[PackCheck]) -> str:
    """The packs as step 1 of the demo shows them, each one's problems under it."""
    lines = [f"{'pack':<6}{'prompts':>8}{'examples':>9}{'pass':>6}{'score':>7}  form rule"]
    for c in checks:
        lines.append(f"{c.code:<6}{c.prompts:>8}{c.examples:>9}{c.passed:>6}{c.score:>7.2f}  {c.form}")
        lines += [f"      ! {problem}" for problem in c.problems]
    return "\n".join(lines)


def simulate_ratings(language: str, noise: float = 0.15, seed: int = 0) -> int:
    """Three simulated annotators rate every record, so the demo can go on to export and training
    without people: 👍 when the answer passes the pack's form check, each vote flipped `noise` of the
    time (people disagree and misclick). Only records a rater has not rated yet are touched: a rerun,
    or a person's own ratings, are never overwritten."""
    from uuid import UUID

    import argilla as rg

    from ktokit.annotate.admin import ensure_annotators
    from ktokit.annotate.credentials import argilla_target
    from ktokit.annotate.task import BAD, GOOD, QUESTION_LABEL
    from ktokit.packs.form import PASS

    target = argilla_target(language)
    client = target.client()
    dataset = client.datasets(name=target.dataset, workspace=target.workspace)
    workspace = client.workspaces(target.workspace)
    ids, _ = ensure_annotators(client.http_client, DEMO_RATERS, str(workspace.id))
    raters = [UUID(ids[name]) for name in DEMO_RATERS]
    rng = random.Random(seed)
    records = list(dataset.records(with_responses=True))
    liked = {  # what the guidelines ask: the pack's form, in the pack's language
        r.id
        for r in records
        if r.metadata.get("form_verdict") == PASS
        and r.metadata.get("detected_language", language) == language
    }
    if not liked or len(liked) == len(records):  # a pack without a form rule, or models that always pass
        ranked = sorted(records, key=lambda r: (r.metadata.get("form_score", 0.0), r.id), reverse=True)
        liked = {r.id for r in ranked[: (len(ranked) + 1) // 2]}  # KTO needs both labels: the better half
    changed = []
    for record in records:
        done = {r.user_id for r in record.responses if r.question_name == QUESTION_LABEL}
        passed = record.id in liked
        for rater in raters:
            if rater in done:
                continue
            good = passed != (rng.random() < noise)
            record.responses.add(
                rg.Response(QUESTION_LABEL, GOOD if good else BAD, user_id=rater, status="submitted")
            )
            changed.append(record)
    if changed:
        dataset.records.log(list({r.id: r for r in changed}.values()))
    return len(changed)


def run_demo(language: str = "en", sample: int = DEMO_SAMPLE, stop_after_task: bool = False) -> int:
    """`python -m ktokit demo` (`make demo`): the flow on the local target, each step the user's command."""
    from ktokit.annotate.argilla_local import ensure_running
    from ktokit.packs.languages import pack_codes

    quiet_libraries()  # in this process and the scripts it runs (KTOKIT_VERBOSE brings the libraries back)
    codes = pack_codes()
    if not codes:
        raise KitError("no language packs found under languages/")
    language = language or "en"
    if language not in codes:
        raise KitError(f"no language pack {language!r} (known: {', '.join(codes)})")

    _step("1. Language packs: validation and the form check of each pack's examples")
    checks = check_packs(codes)
    say(pack_table(checks))
    unready = sum(bool(c.problems) for c in checks)
    if unready:
        raise KitError(
            f"{unready} pack(s) need fixing (listed above); "
            "`python -m ktokit validate CODE` shows the details"
        )

    _step("2. The local Argilla server")
    say("$ python -m ktokit argilla up")
    creds = ensure_running()
    say(f"Argilla is up at {creds['api_url']}")

    _step(f"3. Generate: {sample} prompts × the offline model set (two tiny local models)")
    run_step("preference_gen.py", "--language", language, "--sample", str(sample), "--models", "offline")

    _step("4. The annotation task on the local server")
    run_step("create_task.py", "--language", language, "--local")

    if stop_after_task:
        return _closing(language, creds)

    _step("5. Simulated annotators (the demo only: people rate in the Argilla UI)")
    added = simulate_ratings(language)
    say(f"{added} ratings added by {', '.join(DEMO_RATERS)} (👍 for a form-check pass, 15 % noise)")

    _step("6. Export the ratings to TRL's KTO format")
    run_step("export_kto.py", "--language", language, "--dpo")

    _step(f"7. Train with KTO + LoRA on the tiny model ({DEMO_RECIPE}); base vs tuned on held-out prompts")
    run_step("train_kto.py", "--config", DEMO_RECIPE, "--language", language, "--eval")

    _step("8. Simulated visitors vote blind in the demo Space (the demo only: people vote in the Space)")
    adapter, recipe = _recipe(language)
    votes = visit_arena(
        language,
        adapter,
        held_out(adapter) * VISITS_PER_PROMPT,
        temperature=recipe.get("eval_temperatures", [0.7])[0],
        max_new_tokens=recipe.get("eval_max_new_tokens", 64),
    )
    decisive = sum(v.form_a != v.form_b for v in votes)
    say(
        f"{len(votes)} blind verdicts stored in the visitors' dataset ({decisive} with one answer keeping "
        f"the form, which the visitor prefers; {VISITOR_NOISE:.0%} of verdicts random)"
    )
    _closing(language, creds)
    return finish(language, adapter)


def _recipe(language: str) -> tuple[Path, dict]:
    """The demo recipe's output folder (the adapter) and its settings."""
    import yaml

    recipe = yaml.safe_load((CHECKOUT / DEMO_RECIPE).read_text())
    return Path(recipe["output_dir"].replace("{language}", language)), recipe


def held_out(adapter: Path) -> list[str]:
    """The prompts the evaluation used (never trained on), in its order, from its completions.jsonl."""
    import json

    rows = (CHECKOUT / adapter / "eval" / "completions.jsonl").read_text(encoding="utf-8").splitlines()
    return list(dict.fromkeys(json.loads(line)["prompt"] for line in rows if line.strip()))


def visit_arena(
    language: str,
    adapter: Path,
    prompts: list[str],
    *,
    temperature: float,
    max_new_tokens: int,
    noise: float = VISITOR_NOISE,
    seed: int = 0,
    output: Path | None = None,
) -> list[BlindVote]:
    """Serve the demo Space as its user would (`demo-space --serve`: the blind arena, verdicts to the
    visitors' dataset of the server create_task.py recorded), with the evaluation's sampling; simulated
    visitors vote once per prompt (ktokit.demo.simulated_visitors); then stop it. Returns the verdicts
    stored. `output`: where the Space is rendered (default outputs/<lang>/demo-space; its log beside it)."""
    from ktokit.annotate.argilla_local.processes import free_port
    from ktokit.demo.simulated_visitors import vote_blind
    from ktokit.packs.languages import load_pack

    port = free_port()
    args = ["-m", "ktokit", "demo-space", "--language", language, "--adapter", str(adapter)]
    out = Path(output) if output else CHECKOUT / "outputs" / language / "demo-space"
    if output:
        args += ["-o", str(out)]
    say(f"$ python {' '.join([*args, '--serve', str(port)])}")
    log_path = out.parent / f"{out.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {  # the evaluation's sampling, so the arena and the form check see the same kind of answers
        **os.environ,
        "TEMPERATURE": str(temperature),
        "MAX_NEW_TOKENS": str(max_new_tokens),
        # one answer at a time: the tiny model's small matrices gain nothing from a second thread, and
        # threads that wait on each other on a busy machine made a comparison ten times slower (0.28 s
        # against 2.5 s on 2 shared cores)
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }
    with open(log_path, "w", encoding="utf-8") as log:
        app = subprocess.Popen(
            [sys.executable, *args, "--serve", str(port)],
            cwd=CHECKOUT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the CLI and the app it starts stop together
        )
    try:
        url = wait_for_app(app, f"http://127.0.0.1:{port}/", log_path)
        say(f"the blind arena is up at {url} (its log: {log_path})")
        return vote_blind(url, prompts, load_pack(language), noise=noise, seed=seed)
    finally:
        stop_app(app)


def wait_for_app(app: subprocess.Popen, url: str, log_path: Path, timeout: float = APP_START_S) -> str:
    """`url` once the app answers there; one line (with the log's last lines) when it stopped or never
    came up."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and app.poll() is None:
        try:
            if httpx.get(f"{url}config", timeout=2).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    tail = " | ".join(log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:])
    why = (
        f"stopped (exit {app.returncode})" if app.poll() is not None else f"did not answer in {timeout:.0f} s"
    )
    raise KitError(f"the demo Space {why}; its log {log_path} ends: {tail}")


def stop_app(app: subprocess.Popen) -> None:
    """Ctrl+C to the app's process group (the CLI stops the app it serves), then a kill if it lingers."""
    if app.poll() is not None:
        return
    os.killpg(app.pid, signal.SIGINT)
    try:
        app.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(app.pid, signal.SIGKILL)
        app.wait()


def finish(language: str, adapter: Path) -> int:
    """The evaluation's table and its verdict, then the arena's (`ktokit arena`, run as the user would),
    last, so the demo ends on whether the votes helped: by the form check, and by (simulated) people."""
    _step("Did the votes make the model better? (held-out prompts, base vs tuned)")
    say((CHECKOUT / adapter / "eval" / "summary.md").read_text(encoding="utf-8").strip())
    _step("Do people prefer the tuned model? (blind verdicts in the demo Space)")
    run_step("-m", "ktokit", "arena", "--language", language)
    return 0


def _closing(language: str, creds: dict) -> int:
    from ktokit.annotate.argilla_local import manager

    _step("Annotate yourself")
    try:
        user = manager.add_annotator(
            f"annotator-{random.SystemRandom().getrandbits(24):06x}", workspace=language
        )
        say(
            f"Sign in at {creds['api_url']} as {user['username']} with password {user['password']} "
            "(shown once; add more with `python -m ktokit argilla add-annotator NAME --workspace "
            f"{language}`)"
        )
    except KitError as exc:
        say(f"(could not add an annotator: {exc})")
    say(f"Outputs are under outputs/{language}/. Stop the server with `python -m ktokit argilla down`.")
    return 0
