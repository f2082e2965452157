"""Do the reliability flags catch careless annotators, and does leaving their votes out help? The flow,
through the kit's own commands, with simulated honest and careless annotators in several mixes.

    .venv/bin/python benchmarks/trust.py --language en [--mixes 0,20,40] [--prompts 72] [--no_train]

In a folder of its own (its own Argilla server, credentials and outputs): preference_gen.py (offline
tiny models, the first --prompts prompts) → for each mix, create_task.py --local (gold mixed in, the
default amount) → --annotators simulated annotators, --per_record of them on each record: honest ones
give 👍 to an answer with the pack's form in the pack's language, and slip on --noise of their votes;
careless ones (the mix's share) click at random, press 👍 on everything or 👎 on everything, in turn
→ the annotators scored (ktokit.export.reliability) → export_kto.py's export with `--annotators
reliable` (the default) and `--annotators all` → train_kto.py --config recipes/cpu-learning.yaml --eval
on each (the learning gain as benchmarks/learning.py measures it; one training when both exports are
the same).

Per mix it prints: careless annotators caught (of those with 20+ answers), honest ones wrongly
flagged, the exported labels' accuracy against the honest annotators' majority with and without the
filter, and the learning gain (tuned - base form score, 95 % CI) with and without it. The target:
every careless annotator caught, no honest one flagged, and the filtered labels and gain at least as
good as the unfiltered in every mix.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

CARELESS_KINDS = ("random", "always-up", "always-down")


def simulate_votes(
    language: str, dataset_name: str, n: int, careless: int, per_record: int, noise: float, seed: int
):
    """The annotators' votes, logged as theirs (SDK, owner key); returns {annotator username: kind}."""
    from uuid import UUID

    import argilla as rg

    from ktokit.annotate.admin import ensure_annotators
    from ktokit.annotate.credentials import argilla_target
    from ktokit.annotate.task import BAD, GOOD, QUESTION_LABEL
    from ktokit.packs.form import PASS

    target = argilla_target(language)
    client = target.client()
    dataset = client.datasets(name=dataset_name, workspace=target.workspace)
    kinds = {f"{dataset_name}-honest-{i}": "honest" for i in range(n - careless)}
    kinds |= {f"{dataset_name}-careless-{i}": CARELESS_KINDS[i % 3] for i in range(careless)}
    ids, _ = ensure_annotators(client.http_client, kinds, str(client.workspaces(target.workspace).id))
    rng = random.Random(seed)
    records = list(dataset.records(with_responses=False))
    for record in records:
        meta = record.metadata
        good = meta.get("form_verdict") == PASS and meta.get("detected_language", language) == language
        for name in rng.sample(sorted(kinds), per_record):
            vote = {
                "honest": good != (rng.random() < noise),
                "random": rng.random() < 0.5,
                "always-up": True,
                "always-down": False,
            }[kinds[name]]
            record.responses.add(
                rg.Response(
                    QUESTION_LABEL, GOOD if vote else BAD, user_id=UUID(ids[name]), status="submitted"
                )
            )
    dataset.records.log(records)
    return {str(UUID(ids[name])): (name, kind) for name, kind in kinds.items()}


def honest_majority(records, honest: set[str]) -> dict[str, bool]:
    """Record id -> the honest annotators' majority label (ties left out): the reference labels."""
    out = {}
    for r in records:
        votes = Counter(a.vote for a in r.answers if a.annotator in honest and a.vote)
        if votes["good"] != votes["bad"]:
            out[r.id] = votes["good"] > votes["bad"]
    return out


def accuracy(rows, reference: dict[str, bool]) -> float:
    judged = [r for r in rows if r["record_id"] in reference]
    return sum(r["label"] == reference[r["record_id"]] for r in judged) / len(judged)


def run_mix(pct: int, work: Path, args: argparse.Namespace) -> dict:
    from learning import gain_of

    from ktokit.demo.walkthrough import run_step
    from ktokit.export.build import build_export
    from ktokit.export.read import connect, fetch_records, pseudonym
    from ktokit.export.reliability import UNRELIABLE, score_annotators
    from ktokit.export.write import write_export
    from ktokit.packs.languages import load_pack

    name = f"trust-{pct}"
    careless = round(args.annotators * pct / 100)
    run_step(
        "create_task.py",
        "--language",
        args.language,
        "--local",
        "--argilla_dir",
        str(work / "argilla"),
        "--generations",
        str(work / "generations"),
        "--dataset_name",
        name,
        "--min_submitted",
        str(args.per_record),
    )
    who = simulate_votes(
        args.language, name, args.annotators, careless, args.per_record, args.noise, args.seed + pct
    )
    pack = load_pack(args.language)
    client, dataset, _ = connect(args.language, name)
    records = fetch_records(client, dataset, pack.code)
    kind = {pseudonym(str(dataset.id), uid): k for uid, (_, k) in who.items()}
    scores = score_annotators(records)
    flagged = {a for a, s in scores.items() if s.flag == UNRELIABLE}
    careless_set = {a for a, k in kind.items() if k != "honest"}
    countable = {a for a in careless_set if scores[a].answers >= 20}
    reference = honest_majority([r for r in records if r.gold is None], set(kind) - careless_set)
    exports = {m: build_export(records, pack, dataset=name, annotators=m) for m in ("reliable", "all")}
    result = {
        "careless": f"{pct} % ({careless} of {args.annotators})",
        "caught": f"{len(countable & flagged)} of {len(countable)}",
        "honest_flagged": len(flagged - careless_set),
        "acc": {m: accuracy(e.kto["train"], reference) for m, e in exports.items()},
        "rows": {m: len(e.kto["train"]) for m, e in exports.items()},
        "why": {kind[a] + " " + a[-4:]: scores[a].why for a in sorted(flagged)},
        "gain": {},
    }
    if args.no_train:
        return result
    same = exports["reliable"].kto == exports["all"].kto
    for m, export in exports.items():
        if m == "all" and same:
            result["gain"]["all"] = result["gain"]["reliable"]
            continue
        folder = write_export(work / f"kto-{name}-{m}", export.kto, export.summary)
        run_step(
            "train_kto.py",
            "--config",
            args.recipe,
            "--language",
            args.language,
            "--dataset_name",
            str(folder),
            "--output_dir",
            str(work / f"model-{name}-{m}"),
            "--eval",
            "--eval_prompts",
            str(args.eval_prompts),
            "--eval_seeds",
            str(args.eval_seeds),
        )
        base, tuned = gain_of(work / f"model-{name}-{m}")
        result["gain"][m] = tuned["gain"]
    return result


def gain_text(g: dict | None) -> str:
    return "-" if not g else f"{g['delta']:+.3f} [{g['ci95'][0]:+.3f}, {g['ci95'][1]:+.3f}]"


def table(results: list[dict]) -> str:
    lines = [
        "| careless | caught (20+ answers) | honest flagged | label accuracy filtered / all "
        "| rows filtered / all | gain filtered (95% CI) | gain all (95% CI) |",
        "|---|---|---:|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['careless']} | {r['caught']} | {r['honest_flagged']} | {r['acc']['reliable']:.1%} / "
            f"{r['acc']['all']:.1%} | {r['rows']['reliable']} / {r['rows']['all']} | "
            f"{gain_text(r['gain'].get('reliable'))} | {gain_text(r['gain'].get('all'))} |"
        )
    return "\n".join(lines)


def main() -> int:
    from ktokit.annotate.argilla_local import down, ensure_running
    from ktokit.annotate.argilla_local.manager import free_port
    from ktokit.demo.walkthrough import run_step

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", default="en", help="a pack code")
    parser.add_argument("--mixes", default="0,20,40", help="shares of careless annotators, in percent")
    from learning import add_flow_options

    add_flow_options(parser, eval_seeds=4)
    parser.add_argument("--annotators", type=int, default=10, help="simulated annotators per mix")
    parser.add_argument("--per_record", type=int, default=5, help="annotators who rate each record")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated votes")
    parser.add_argument("--no_train", action="store_true", help="flags and labels only: no training")
    args = parser.parse_args()
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="ktokit-trust-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["KTOKIT_CONFIG_DIR"] = str(work / "config")  # create_task records this run's server here
    start = time.perf_counter()
    results = []
    try:
        ensure_running(work / "argilla", port=free_port())
        run_step(
            "preference_gen.py",
            "--language",
            args.language,
            "--sample",
            str(args.prompts),
            "--models",
            args.models,
            "--output",
            str(work / "generations"),
        )
        for pct in (int(x) for x in args.mixes.split(",")):
            print(f"\n=== {pct} % careless", flush=True)
            results.append(run_mix(pct, work, args))
            r = results[-1]
            print(f"caught {r['caught']}, honest flagged {r['honest_flagged']}, why: {r['why']}", flush=True)
    finally:
        down(work / "argilla", say=lambda *a, **k: None)
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print("\n" + table(results))
    print(f"wall {time.perf_counter() - start:.0f} s")
    ok = all(
        r["honest_flagged"] == 0
        and r["caught"].split(" of ")[0] == r["caught"].split(" of ")[1]
        and r["acc"]["reliable"] >= r["acc"]["all"]
        and (not r["gain"] or r["gain"]["reliable"]["delta"] >= r["gain"]["all"]["delta"])
        for r in results
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
