"""A running campaign: progress, backup, restore, and its dashboard Space."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from ktokit.console import KitError, table
from ktokit.options import (
    add_command,
    argilla_dir_option,
    json_option,
    language_option,
    min_submitted_option,
    option,
    output_option,
    server_option,
    space_option,
)
from ktokit.spaces.options import SpaceOptions

BACKUP_PLACE = "DIR_OR_REPO"


@dataclass
class ProgressArguments:
    language: str | None = language_option(None)
    all: bool = option("every language that has a task", False)
    json: bool = json_option("one JSON object per language")
    min_submitted: int | None = min_submitted_option()

    def __post_init__(self) -> None:
        if self.all == bool(self.language):
            raise KitError("say which: --language CODE, or --all for every language with a task")


def progress(args: ProgressArguments) -> int:
    from ktokit.annotate.credentials import recorded_languages
    from ktokit.campaign.progress import Progress, progress_for

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
        print(("\n" if n else "") + "\n".join(p.report_lines()))
        if p["annotators"]:
            table(Progress.LEADERBOARD, p.leaderboard_rows())
            flags = p.flag_lines()
            if flags:
                print("\n".join(flags))
    return 1 if failed else 0


@dataclass
class ArenaArguments:
    language: str = language_option()
    json: bool = json_option("the result as one JSON object")


def arena(args: ArenaArguments) -> None:
    from ktokit.campaign.arena import arena_for, report_lines

    summary = arena_for(args.language)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    print(f"blind arena of {args.language}: {sum(p['votes'] for p in summary['pairs'])} verdicts")
    table(
        ("a", "b", "votes", "a wins", "b wins", "ties", "both bad", "b win rate", "95 % CI"),
        [
            (
                p["a"],
                p["b"],
                str(p["votes"]),
                str(p["a_wins"]),
                str(p["b_wins"]),
                str(p["ties"]),
                str(p["both_bad"]),
                f"{p['b_win_rate']:.0%}",
                f"{p['ci'][0]:.0%}-{p['ci'][1]:.0%}",
            )
            for p in summary["pairs"]
        ],
    )
    if summary["ratings"]:
        print("Bradley-Terry scores (Elo scale, 95 % bootstrap CI):")
        table(
            ("model", "score", "95 % CI"),
            [
                (r["model"], f"{r['score']:.0f}", f"{r['ci'][0]:.0f}-{r['ci'][1]:.0f}")
                for r in summary["ratings"]
            ],
        )
    print("\n".join(report_lines(summary)))
    print("win rate: a draw (tie or both bad) counts half; CI: percentile bootstrap, seeded resample")


@dataclass
class BackupArguments:
    language: str = language_option()
    to: str = option(
        "a folder, or a Hub dataset repo ORG/NAME (created private); a new local folder that looks like "
        "ORG/NAME: write ./ORG/NAME",
        metavar=BACKUP_PLACE,
    )
    only_if_changed: bool = option("skip when the last backup there is the same", False)


def backup(args: BackupArguments) -> None:
    from ktokit.campaign.backup import backup

    print("\n".join(backup(args.language, args.to, only_if_changed=args.only_if_changed).report_lines()))


@dataclass
class RestoreArguments:
    language: str = language_option()
    source: str = option(
        "the folder or Hub dataset repo `backup --to` wrote", flag="--from", metavar=BACKUP_PLACE
    )
    local: bool = option(
        "into the local Argilla server (started if needed)", False, exclusive="where", required=True
    )
    space: str | None = space_option(
        "into this Argilla Space (its owner credentials from create_task.py, or ARGILLA_API_KEY)",
        exclusive="where",
        required=True,
    )
    server: str | None = server_option("into any Argilla server you run", exclusive="where", required=True)
    argilla_dir: str | None = argilla_dir_option()


def restore(args: RestoreArguments) -> None:
    from ktokit.campaign.backup import restore

    summary = restore(
        args.language,
        args.source,
        space=args.space,
        local=args.local,
        argilla_dir=args.argilla_dir,
        server=args.server,
    )
    print("\n".join(summary.report_lines()))


@dataclass(kw_only=True)
class DashboardArguments(SpaceOptions):
    language: str = language_option()
    backup_to: str | None = option(
        "where the scheduled backups go (default: the private Hub dataset ORG/<dataset>-backups next to the "
        "Space, or outputs/<lang>/backups when served here)",
        None,
        metavar=BACKUP_PLACE,
    )
    backup_every: float = option(
        "minutes between backups, each written only when something changed (default 30)",
        30.0,
        metavar="MINUTES",
    )
    min_submitted: int | None = min_submitted_option()
    output: str | None = output_option("where to render (default: outputs/<lang>/dashboard-space)")


def dashboard(args: DashboardArguments) -> int:
    from ktokit.campaign.dashboard_space import prepare_dashboard

    dash = prepare_dashboard(
        args.language,
        args,
        output=args.output,
        backup_to=args.backup_to,
        backup_every=args.backup_every,
        min_submitted=args.min_submitted,
    )
    return dash.run(args, show=print)


def register(commands) -> None:
    add_command(
        commands,
        "progress",
        ProgressArguments,
        progress,
        help="records done, answers by status and the annotator leaderboard",
        description="How far a language's annotation is, and who is carrying it (Argilla's own "
        "progress API, on the server create_task.py recorded).",
    )
    add_command(
        commands,
        "arena",
        ArenaArguments,
        arena,
        help="the demo Space's blind verdicts: win rates with 95 %% CIs, Bradley-Terry scores",
        description="Reads the blind arena's verdicts from the visitors' dataset and says, per pair of "
        "models, who is preferred and whether beyond noise (bootstrap CIs; Bradley-Terry with 3+ models).",
    )
    add_command(
        commands,
        "backup",
        BackupArguments,
        backup,
        help="back up a language's dataset, every answer included, to a folder or the Hub",
        description="Settings, records, suggestions, metadata and every answer with its status and "
        "its author's username, into DIR/<language>/ or a private Hub dataset repo.",
    )
    add_command(
        commands,
        "restore",
        RestoreArguments,
        restore,
        help="bring a backup back into the local server, a Space or any Argilla server",
        description="Restore a backup into an empty (or partly filled) server: adds what is missing, "
        "never overwrites an answer, and records the server for the language.",
    )
    add_command(
        commands,
        "dashboard",
        DashboardArguments,
        dashboard,
        help="render, serve or push the campaign dashboard Space (progress, backups)",
        description="A Gradio dashboard of a language's annotation: progress bar, leaderboard, answers "
        "per day, 👍 rate per model, agreement; it backs the dataset up on a schedule.",
    )
