"""`python -m ktokit`: the kit's small commands, one parser for all, in the order of the flow.

    languages, validate, check, count, new-language   the packs
    tiny-model                                        the offline tiny models (generation's stand-ins)
    argilla up|down|status|logs|add-annotator         the local Argilla server (annotation)
    evaluate                                          base vs tuned with the form check (training)
    demo-space, demo                                  the Gradio demo Space, and `make demo`
    draft-prompts, draft-examples                     a model set drafts a new pack's lines for review
    review-pack, accept-pack                          a new pack's drafts reviewed in Argilla, then kept
    progress, backup, restore, dashboard              a running campaign: how far, who, its backups, its Space

Each command runs through `ktokit.console.run_command`: a user error is one `error:` line and exit
status 2. Everything heavy is imported inside the command that needs it, so the CLI starts fast.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import unicodedata

from ktokit.console import KitError, run_command

# ---- the packs -------------------------------------------------------------------------------------


def _pack_and_counter(args: argparse.Namespace):
    from ktokit.packs.counting import get_counter
    from ktokit.packs.languages import load_pack

    if getattr(args, "counter", None):
        return None, get_counter(args.counter)
    if not args.language:
        raise KitError("say which language: --language CODE (see `python -m ktokit languages`)")
    pack = load_pack(args.language)
    if not pack.form.counter:
        raise KitError(f"pack {pack.code!r} has no form.counter: nothing to count with")
    return pack, get_counter(pack.form.counter)


def _width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: tuple[str, ...], rows: list[tuple]) -> None:
    widths = [max(_width(str(c)) for c in col) for col in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(str(c) + " " * (w - _width(str(c))) for c, w in zip(row, widths)).rstrip())


def cmd_languages(args: argparse.Namespace) -> int:
    from ktokit.packs.languages import load_pack, pack_codes, pack_problems

    rows = []
    for code in pack_codes():
        try:
            pack = load_pack(code)
            problems = pack_problems(pack)
            rows.append(
                (
                    code,
                    pack.name,
                    pack.native_name,
                    str(len(pack.prompts)),
                    str(len(pack.examples)),
                    pack.form.describe(),
                    "ok" if not problems else f"{len(problems)} to fix",
                )
            )
        except KitError as exc:
            rows.append((code, "?", "", "", "", "", f"broken: {exc}"))
    if args.json:
        keys = ("code", "name", "native_name", "prompts", "examples", "form", "status")
        for row in rows:
            print(json.dumps(dict(zip(keys, row)), ensure_ascii=False))
        return 0
    _table(("code", "name", "native name", "prompts", "examples", "form rule", "status"), rows)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from ktokit.packs.form import validation_problems
    from ktokit.packs.languages import load_pack, pack_codes

    failed = 0
    for code in args.codes or pack_codes():
        problems = validation_problems(load_pack(code))
        print(f"{code}: {'ok' if not problems else f'{len(problems)} to fix'}")
        for problem in problems:
            print(f"  - {problem}")
        failed += bool(problems)
    return 1 if failed else 0


def cmd_check(args: argparse.Namespace) -> int:
    from ktokit.packs.form import check_form

    pack, _ = _pack_and_counter(args)
    raw = sys.stdin.read()
    result = check_form(raw, pack.form, clean=not args.no_clean)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0 if result.passed else 1
    raw_lines = [line for line in raw.splitlines() if line.strip()]
    if result.cleaned != raw.strip():
        print(f"cleaned: {len(raw_lines)} raw lines -> {len(result.lines)} lines")
    unit = result.unit or "units"
    for i, line in enumerate(result.lines, 1):
        alt = f" (or {', '.join(map(str, line.alternatives))})" if line.alternatives else ""
        want = f" / {line.expected}" if line.expected is not None else ""
        mark = {True: "ok", False: "x", None: ""}[line.ok]
        count = "-" if line.count is None else str(line.count)
        print(f"{i}. {line.text}  [{count}{alt}{want} {unit}] {mark}".rstrip())
    reason = f" ({result.reason})" if result.reason else ""
    print(f"verdict: {result.verdict}{reason}  score: {result.score:.2f}  rule: {pack.form.describe()}")
    return 0 if result.verdict != "fail" else 1


def cmd_count(args: argparse.Namespace) -> int:
    _, counter = _pack_and_counter(args)
    for line in sys.stdin:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        c = counter.count(text)
        print(
            json.dumps(
                {"text": text, "count": c.count, "alternatives": list(c.alternatives)}, ensure_ascii=False
            ),
            flush=True,
        )
    return 0


def cmd_new_language(args: argparse.Namespace) -> int:
    from ktokit.packs.languages import languages_dir, load_pack, pack_problems
    from ktokit.packs.scaffold import scaffold_pack

    path = scaffold_pack(languages_dir(), args.code, args.name, args.native_name or "", args.counter)
    print(f"created {path}/ (pack.yaml, prompts.txt, examples.txt)")
    print("still to fill in before it validates:")
    for problem in pack_problems(load_pack(path)):
        print(f"  - {problem}")
    print(f"check again with: python -m ktokit validate {args.code}")
    return 0


# ---- generation, annotation, training, the demo ------------------------------------------------------


def cmd_tiny_model(args: argparse.Namespace) -> int:
    from ktokit.generate.tiny import tiny_model

    print(tiny_model(args.language, seed=args.seed))
    return 0


def cmd_argilla(args: argparse.Namespace) -> int:
    from ktokit.annotate.argilla_local import manager

    data_dir = args.data_dir
    if args.argilla_command == "up":
        if args.port is not None and not 0 < args.port < 65536:
            raise KitError(f"--port {args.port} is not a port number (1-65535)")
        manager.up(data_dir, port=args.port, host=args.host)
    elif args.argilla_command == "down":
        manager.down(data_dir)
    elif args.argilla_command == "status":
        info = manager.status(data_dir)
        print(json.dumps(info, indent=2) if args.json else "\n".join(manager.status_lines(info)))
    elif args.argilla_command == "logs":
        print(manager.logs(data_dir, lines=args.lines))
    elif args.argilla_command == "add-annotator":
        user = manager.add_annotator(args.name, workspace=args.workspace, data_dir=data_dir)
        print(f"Annotator {user['username']!r} added to workspace {user['workspace']!r} at {user['api_url']}")
        print(f"  password: {user['password']}  (shown once, not stored: hand it to the annotator now)")
    elif args.argilla_command == "reset-password":
        user = manager.reset_password(args.name, data_dir=data_dir)
        print(f"New password for {user['username']!r} at {user['api_url']}")
        print(f"  password: {user['password']}  (shown once, not stored: hand it to the annotator now)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ktokit.train.evaluation import evaluate_adapter, summary_table

    summary, out = evaluate_adapter(
        args.language,
        args.adapter,
        base=args.base,
        dataset=args.dataset,
        prompts=args.prompts,
        seeds=args.seeds,
        temperatures=args.temperature,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        output=args.output,
    )
    print(summary_table(summary), end="")
    print(f"files: {out}/ (completions.jsonl, results-*.json, summary.md)")
    return 0


def cmd_demo_space(args: argparse.Namespace) -> int:
    from ktokit.demo.space import demo_space

    return demo_space(
        args.language,
        args.adapter,
        base=args.base,
        space=args.space,
        private=args.private,
        hardware=args.hardware,
        sleep_time=args.sleep_time,
        dry_run=args.dry_run,
        serve_port=args.serve,
        output=args.output,
    )


def cmd_draft_prompts(args: argparse.Namespace) -> int:
    from ktokit.draft.run import draft_prompts

    draft_prompts(args.language, args.models, args.source, args.topics, args.n, args.runner)
    return 0


def cmd_draft_examples(args: argparse.Namespace) -> int:
    from ktokit.draft.run import draft_examples

    draft_examples(args.language, args.models, args.n, args.runner)
    return 0


def _add_drafting(sub: argparse._SubParsersAction) -> None:
    models = (
        "model set: a YAML file or a shipped name, as for preference_gen.py (default: `default` with a "
        "Hugging Face token, else `offline`)"
    )
    runner = "`local` (threads in this process) or `distilabel` (distilabel's multi-process runner)"
    p = sub.add_parser(
        "draft-prompts",
        help="draft a pack's prompts: translated from another pack, or from topics",
        description="Draft prompts for a pack with a model set; cleaned, de-duplicated and "
        "language-checked drafts go to outputs/CODE/drafts/prompts.jsonl.",
    )
    p.add_argument("--language", "-l", required=True, help="the pack to draft for, e.g. pt")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--from", dest="source", metavar="CODE", help="translate this pack's prompts, e.g. en")
    g.add_argument("--topics", metavar="FILE", help="a text file, one topic per line: one prompt per topic")
    p.add_argument("--models", "-m", help=models)
    p.add_argument("--n", type=int, help="use only the first N prompts or topics (default: all)")
    p.add_argument("--runner", default="local", choices=["local", "distilabel"], help=runner)
    p.set_defaults(func=cmd_draft_prompts)

    p = sub.add_parser(
        "draft-examples",
        help="draft a pack's examples: answers that pass its form check",
        description="Draft examples for a pack with a model set: answers to its prompts (and "
        "drafted prompts) that pass the form and language checks, de-duplicated, "
        "go to outputs/CODE/drafts/examples.jsonl.",
    )
    p.add_argument("--language", "-l", required=True, help="the pack to draft for, e.g. pt")
    p.add_argument("--models", "-m", help=models)
    p.add_argument("--n", type=int, help="answer only the first N prompts (default: all)")
    p.add_argument("--runner", default="local", choices=["local", "distilabel"], help=runner)
    p.set_defaults(func=cmd_draft_examples)


def cmd_demo(args: argparse.Namespace) -> int:
    from ktokit.demo.walkthrough import DEMO_SAMPLE, run_demo

    return run_demo(args.language, args.sample or DEMO_SAMPLE, args.stop_after_task)


# ---- drafting a new pack ----------------------------------------------------------------------------


def cmd_review_pack(args: argparse.Namespace) -> int:
    from ktokit.draft.review import ReviewArguments, review_pack

    review_pack(
        ReviewArguments(
            language=args.language,
            local=args.local,
            space=args.space,
            drafts=args.drafts,
            dataset_name=args.dataset_name,
            min_submitted=args.min_submitted,
            private=args.private,
            storage=args.storage,
            space_url=args.space_url,
            argilla_dir=args.argilla_dir,
        )
    )
    return 0


def cmd_accept_pack(args: argparse.Namespace) -> int:
    from ktokit.draft.accept import accept_pack, report_lines

    result = accept_pack(args.language, args.dataset_name)
    print("\n".join(report_lines(result, args.language)))
    return 0


def _add_reviewing(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "review-pack",
        help="drafted prompts and examples → an Argilla review dataset (accept / edit / reject)",
        description="Drafts of a new pack (outputs/CODE/drafts/) as an Argilla dataset where "
        "speakers accept, edit or reject each; a rerun adds only new drafts.",
    )
    p.add_argument("--language", "-l", required=True, help="pack code, e.g. pt")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--local", action="store_true", help="the local Argilla server (the default)")
    g.add_argument(
        "--space", metavar="ORG/NAME", help="the language's Argilla Space (provisioned on first use)"
    )
    p.add_argument(
        "--drafts",
        metavar="FOLDER",
        help="where prompts.jsonl / examples.jsonl are (default: outputs/CODE/drafts)",
    )
    p.add_argument("--dataset-name", help="default: review-CODE")
    p.add_argument("--min-submitted", type=int, default=1, help="reviewers per draft (default 1)")
    p.add_argument("--private", action="store_true", help="a new Space is private")
    p.add_argument("--storage", default="none", help="a new Space's storage: none or bucket")
    p.add_argument("--space-url", help="the Space's Argilla URL when it is not https://OWNER-NAME.hf.space")
    p.add_argument("--argilla-dir", help="data dir of the local server (default: $KTOKIT_HOME/argilla)")
    p.set_defaults(func=cmd_review_pack)

    p = sub.add_parser(
        "accept-pack",
        help="accepted and edited drafts → prompts.txt / examples.txt, then validate",
        description="Reads the submitted review answers and appends the accepted and edited "
        "drafts to the pack (never twice, never deleting a line), then validates it.",
    )
    p.add_argument("--language", "-l", required=True, help="pack code, e.g. pt")
    p.add_argument("--dataset-name", help="default: the one review-pack recorded")
    p.set_defaults(func=cmd_accept_pack)


# ---- a running campaign -------------------------------------------------------------------------------


def cmd_progress(args: argparse.Namespace) -> int:
    from ktokit.annotate.credentials import recorded_languages
    from ktokit.campaign.progress import leaderboard_rows, progress_for, report

    if args.all == bool(args.language):
        raise KitError("say which: --language CODE, or --all for every language with a task")
    languages = recorded_languages() if args.all else [args.language]
    if not languages:
        raise KitError(
            "no language has an annotation task yet: run `python create_task.py --language CODE` first"
        )
    failed = 0
    for n, language in enumerate(languages):
        try:
            p = progress_for(language, min_submitted=args.min_submitted)
        except KitError as exc:
            if not args.all:
                raise
            print(f"error: {language}: {exc}", file=sys.stderr)  # the other languages still report
            failed += 1
            continue
        if args.json:
            print(json.dumps(p, ensure_ascii=False))
            continue
        print(("\n" if n else "") + "\n".join(report(p)))
        if p["annotators"]:
            _table(("#", "annotator", "submitted", "draft", "discarded"), leaderboard_rows(p))
    return 1 if failed else 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from ktokit.campaign.dashboard_space import dashboard

    return dashboard(
        args.language,
        space=args.space,
        private=args.private,
        hardware=args.hardware,
        sleep_time=args.sleep_time,
        dry_run=args.dry_run,
        serve_port=args.serve,
        output=args.output,
        backup_to=args.backup_to,
        backup_every=args.backup_every,
        min_submitted=args.min_submitted,
    )


def cmd_backup(args: argparse.Namespace) -> int:
    from ktokit.campaign.backup import backup

    b = backup(args.language, args.to, only_if_changed=args.only_if_changed)
    r = b["responses"]
    if not b["changed"]:
        print(
            f"unchanged since the last backup in {b['target']} (fingerprint {b['fingerprint'][:12]}): nothing written"
        )
        return 0
    print(f"backed up {b['dataset']} to {b['target']}")
    print(
        f"  {b['records']} records, {r['submitted']} submitted, {r['draft']} draft, {r['discarded']} discarded "
        f"answers by {b['annotators']} annotators (fingerprint {b['fingerprint'][:12]})"
    )
    print(
        f"restore with: python -m ktokit restore --language {args.language} --from {args.to} --local "
        "(or --space ORG/NAME)"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ktokit.campaign.backup import restore

    r = restore(args.language, args.source, space=args.space, local=args.local, argilla_dir=args.argilla_dir)
    print(f"restored {r['dataset']} into {r['where']}{' (dataset created)' if r['dataset_created'] else ''}")
    print(
        f"  records: {r['records_added']} added, {r['records_existing']} already there; "
        f"answers added: {r['responses_added']}; annotators: {r['annotators']} "
        f"({len(r['annotators_created'])} recreated)"
    )
    if r["annotators_created"]:
        names = ", ".join(r["annotators_created"])
        if r["kind"] == "space":
            print(f"  recreated {names}: they sign in with Hugging Face as before (matched by username)")
        else:
            print(
                f"  recreated {names} with passwords nobody knows: give each one a new password with "
                "`python -m ktokit argilla reset-password NAME`"
            )
    print(f"export_kto.py --language {args.language} now reads this server")
    return 0


# ---- the parser -------------------------------------------------------------------------------------


def _add_argilla(sub: argparse._SubParsersAction) -> None:
    from ktokit.annotate.argilla_local.manager import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_WORKSPACE

    parser = sub.add_parser(
        "argilla",
        help="the local Argilla server: up, down, status, logs, add-annotator",
        description="A real Argilla server on this machine (API + annotation UI), no Docker, "
        "no Elasticsearch.",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where the database, logs and credentials live (default: "
        "$KTOKIT_HOME/argilla, KTOKIT_HOME defaulting to ~/.cache/ktokit)",
    )
    parser.set_defaults(func=cmd_argilla)
    common = argparse.ArgumentParser(add_help=False)  # --data-dir after the subcommand works too
    common.add_argument("--data-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="argilla_command", required=True, metavar="COMMAND")
    add = functools.partial(commands.add_parser, parents=[common])
    p = add("up", help="start the server, its worker and Redis (creates them on first run)")
    p.add_argument("--port", type=int, default=None, help=f"default: the last one used, else {DEFAULT_PORT}")
    p.add_argument(
        "--host",
        default=None,
        help=f"default: the last one used, else {DEFAULT_HOST}; 0.0.0.0 for a workshop LAN",
    )
    add("down", help="stop everything (the data stays)")
    p = add("status", help="URL, health, datasets and record counts")
    p.add_argument("--json", action="store_true", help="machine-readable, with the credentials file's path")
    p = add("logs", help="the last lines of the server, worker and Redis logs")
    p.add_argument("-n", "--lines", type=int, default=40)
    p = add("add-annotator", help="an annotator account (prints its password once)")
    p.add_argument("name", help="user name: lowercase letters, digits, - and _")
    p.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="default: %(default)s")
    p = add("reset-password", help="a new password for an annotator (prints it once)")
    p.add_argument("name", help="the annotator's user name")


def _add_campaign(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "progress",
        help="records done, answers by status and the annotator leaderboard",
        description="How far a language's annotation is, and who is carrying it (Argilla's own "
        "progress API, on the server create_task.py recorded).",
    )
    p.add_argument("--language", "-l", help="pack code of the task")
    p.add_argument("--all", action="store_true", help="every language that has a task")
    p.add_argument("--json", action="store_true", help="one JSON object per language")
    p.add_argument(
        "--min-submitted",
        type=int,
        default=None,
        help="submitted answers that complete a record (default: the task's own)",
    )
    p.set_defaults(func=cmd_progress)

    p = sub.add_parser(
        "backup",
        help="back up a language's dataset, every answer included, to a folder or the Hub",
        description="Settings, records, suggestions, metadata and every answer with its status and "
        "its author's username, into DIR/<language>/ or a private Hub dataset repo.",
    )
    p.add_argument("--language", "-l", required=True, help="pack code of the task")
    p.add_argument(
        "--to",
        required=True,
        metavar="DIR_OR_REPO",
        help="a folder, or a Hub dataset repo ORG/NAME (created private); a new local folder "
        "that looks like ORG/NAME: write ./ORG/NAME",
    )
    p.add_argument(
        "--only-if-changed", action="store_true", help="skip when the last backup there is the same"
    )
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore",
        help="bring a backup back into the local server or a Space",
        description="Restore a backup into an empty (or partly filled) server: adds what is missing, "
        "never overwrites an answer, and records the server for the language.",
    )
    p.add_argument("--language", "-l", required=True, help="pack code of the task")
    p.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="DIR_OR_REPO",
        help="the folder or Hub dataset repo `backup --to` wrote",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--local", action="store_true", help="into the local Argilla server (started if needed)"
    )
    where.add_argument(
        "--space",
        metavar="ORG/NAME",
        help="into this Argilla Space (its owner credentials from create_task.py, or ARGILLA_API_KEY)",
    )
    p.add_argument(
        "--argilla-dir", default=None, help="data dir of the local server (default: $KTOKIT_HOME/argilla)"
    )
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser(
        "dashboard",
        help="render, serve or push the campaign dashboard Space (progress, backups)",
        description="A Gradio dashboard of a language's annotation: progress bar, leaderboard, answers "
        "per day, 👍 rate per model, agreement; it backs the dataset up on a schedule.",
    )
    p.add_argument("--language", "-l", required=True, help="pack code of the task")
    p.add_argument("--space", metavar="ORG/NAME", help="create or update this Space on the Hub")
    p.add_argument("--serve", type=int, metavar="PORT", help="run the rendered app on 127.0.0.1:PORT")
    p.add_argument("--dry-run", action="store_true", help="render and print the plan (secret names only)")
    p.add_argument("--private", action="store_true", help="a private Space")
    p.add_argument("--hardware", default=None, help="Space hardware (default cpu-basic)")
    _add_sleep_time(p)
    p.add_argument(
        "--backup-to",
        metavar="DIR_OR_REPO",
        help="where the scheduled backups go (default: the private Hub dataset ORG/<dataset>-backups "
        "next to the Space, or outputs/<lang>/backups when served here)",
    )
    p.add_argument(
        "--backup-every",
        type=float,
        default=30.0,
        metavar="MINUTES",
        help="minutes between backups, each written only when something changed (default 30)",
    )
    p.add_argument(
        "--min-submitted",
        type=int,
        default=None,
        help="submitted answers that complete a record (default: the task's own)",
    )
    p.add_argument("--output", "-o", help="where to render (default: outputs/<lang>/dashboard-space)")
    p.set_defaults(func=cmd_dashboard)


def _add_sleep_time(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sleep-time",
        type=int,
        default=None,
        metavar="SECONDS",
        help="seconds without visits before the Space sleeps, -1 never (paid hardware only; the free "
        "cpu-basic sleeps after 48 h)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ktokit",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("languages", help="list the language packs")
    p.add_argument("--json", action="store_true", help="one JSON object per pack")
    p.set_defaults(func=cmd_languages)

    p = sub.add_parser("validate", help="validate packs: fields, prompts, examples against the form rule")
    p.add_argument("codes", nargs="*", metavar="CODE", help="pack codes (default: all)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("check", help="form check of one response read on stdin")
    p.add_argument("--language", "-l", required=True, help="pack code, e.g. es")
    p.add_argument("--no-clean", action="store_true", help="count the text as given (no preamble removal)")
    p.add_argument("--json", action="store_true", help="print the full check as JSON")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("count", help="count syllables/morae: one text per stdin line -> one JSON per line")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--language", "-l", help="use this pack's counter")
    g.add_argument("--counter", help="use this counter directly (en, es, fr, de, nl, ja)")
    p.set_defaults(func=cmd_count)

    p = sub.add_parser("new-language", help="scaffold languages/CODE/ for a new language")
    p.add_argument("code", help="ISO 639 code, e.g. pt or pt-BR")
    p.add_argument("--name", required=True, help="English name, e.g. Portuguese")
    p.add_argument("--native-name", help="the name in the language itself")
    p.add_argument("--counter", help="an existing counter to use (default: the one named like CODE, if any)")
    p.set_defaults(func=cmd_new_language)

    p = sub.add_parser(
        "tiny-model", help="build (or reuse) a tiny offline model from a pack; prints its path"
    )
    p.add_argument("--language", "-l", required=True)
    p.add_argument("--seed", type=int, default=0, help="another seed gives another model")
    p.set_defaults(func=cmd_tiny_model)

    _add_argilla(sub)

    p = sub.add_parser(
        "evaluate",
        help="generate with a base model and its KTO adapter, score both with the form check",
        description="Base vs tuned on held-out prompts, scored with the pack's form check.",
    )
    p.add_argument("--language", "-l", required=True, help="pack code: prompts, system prompt, form rule")
    p.add_argument(
        "--adapter", help="the LoRA adapter folder train_kto.py wrote (omit to evaluate the base only)"
    )
    p.add_argument(
        "--base", help="base model (default: the adapter's base); tiny or tiny:<lang> for the tiny model"
    )
    p.add_argument(
        "--dataset",
        help="the KTO dataset trained on: its prompts are left out "
        "(default: the one in the adapter's metrics.json)",
    )
    p.add_argument("--prompts", type=int, default=8, help="held-out prompts (default 8)")
    p.add_argument("--seeds", type=int, default=2, help="seeds per prompt and setting, 1..N (default 2)")
    p.add_argument("--temperature", type=float, nargs="+", default=[0.7], help="one or more (0 = greedy)")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=16, help="prompts generated together")
    p.add_argument(
        "--output", "-o", help="folder for the files (default: <adapter>/eval or outputs/<lang>/eval)"
    )
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "demo-space",
        help="render, serve or push the Gradio demo Space of a KTO-tuned model",
        description="A Gradio demo Space of a KTO-tuned model: base vs tuned, votes to Argilla.",
    )
    p.add_argument("--language", "-l", required=True, help="pack code: prompts, system prompt, form rule")
    p.add_argument("--adapter", required=True, help="the adapter folder train_kto.py wrote")
    p.add_argument(
        "--base",
        help="base model (default: the one in the adapter's metrics.json); "
        "a Hub id when the adapter was trained on a local copy",
    )
    p.add_argument("--space", metavar="ORG/NAME", help="create or update this Space on the Hub")
    p.add_argument("--private", action="store_true", help="a private Space")
    p.add_argument(
        "--hardware",
        default=None,
        help="Space hardware, e.g. cpu-upgrade or t4-small (default cpu-basic); on cpu-* the "
        "requirements take torch from PyTorch's CPU index",
    )
    _add_sleep_time(p)
    p.add_argument("--dry-run", action="store_true", help="render and print the plan (secret names only)")
    p.add_argument("--serve", type=int, metavar="PORT", help="run the rendered app on 127.0.0.1:PORT")
    p.add_argument("--output", "-o", help="where to render (default: outputs/<lang>/demo-space)")
    p.set_defaults(func=cmd_demo_space)

    _add_campaign(sub)

    p = sub.add_parser("demo", help="the kit's main job on the local target (what `make demo` runs)")
    p.add_argument("--language", "-l", default="en", help="the pack to run the flow on (default: en)")
    p.add_argument(
        "--sample",
        type=int,
        default=None,
        help="prompts to generate for and rate (default: 72, enough for the votes to show)",
    )
    p.add_argument(
        "--stop-after-task",
        action="store_true",
        help="stop once the Argilla task exists, so people can annotate before export",
    )
    p.set_defaults(func=cmd_demo)

    _add_drafting(sub)
    _add_reviewing(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return run_command(lambda: args.func(args))
