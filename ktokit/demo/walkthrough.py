"""`make demo`: the kit's main job on the local target, step by step, as a user would run it.

Every step is the user's own command (printed before it runs), so the demo is also the tutorial:
packs → local Argilla → preference_gen.py (tiny offline models) → create_task.py --local →
(simulated annotators) → export_kto.py → train_kto.py with the cpu-learning recipe and --eval, ending
with base vs tuned on held-out prompts and whether the gain is beyond noise (benchmarks/learning.py runs
the same flow, with a flipped-labels control, for every pack).
"""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass

from ktokit.console import KitError, quiet_libraries, say
from ktokit.paths import CHECKOUT

DEMO_RATERS = ("demo-rater-1", "demo-rater-2", "demo-rater-3")  # odd: a majority, never a tie
DEMO_RECIPE = "recipes/cpu-learning.yaml"
DEMO_SAMPLE = 72  # prompts rated: ~140 rows, enough for KTO to show on the held-out prompts


def _step(title: str) -> None:
    say(f"\n== {title}")


def run_step(script: str, *args: str) -> None:
    """Run one of the kit's entry scripts as the user would; stop the demo if it fails.

    The script inherits this process's environment, so `--verbose` (KTOKIT_VERBOSE) or the quiet
    settings of `quiet_libraries` hold for it too."""
    shown = " ".join(["python", script, *args])
    say(f"$ {shown}")
    result = subprocess.run([sys.executable, str(CHECKOUT / script), *args], cwd=CHECKOUT)
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
    _closing(language, creds)
    return _result(language)


def _result(language: str) -> int:
    """The evaluation's table and its verdict, last, so the demo ends on whether the votes helped."""
    import yaml

    output_dir = yaml.safe_load((CHECKOUT / DEMO_RECIPE).read_text())["output_dir"].replace(
        "{language}", language
    )
    summary = CHECKOUT / output_dir / "eval" / "summary.md"
    _step("Did the votes make the model better? (held-out prompts, base vs tuned)")
    say(summary.read_text(encoding="utf-8").strip())
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
