"""`argilla up|down|status|logs|add-annotator|reset-password`: the local Argilla server (annotation)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ktokit.annotate.argilla_local.manager import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_WORKSPACE
from ktokit.console import KitError
from ktokit.options import add_arguments, add_command, argilla_dir_option, option

DATA_DIR = "data_dir"  # `argilla --data-dir D up` and `argilla up --data-dir D` both work


@dataclass
class ArgillaArguments:
    """What every `argilla` subcommand takes."""

    data_dir: str | None = argilla_dir_option()


@dataclass(kw_only=True)
class UpArguments(ArgillaArguments):
    port: int | None = option(f"default: the last one used, else {DEFAULT_PORT}", None)
    host: str | None = option(
        f"default: the last one used, else {DEFAULT_HOST}; 0.0.0.0 for a workshop LAN", None
    )

    def __post_init__(self) -> None:
        if self.port is not None and not 0 < self.port < 65536:
            raise KitError(f"--port {self.port} is not a port number (1-65535)")


@dataclass(kw_only=True)
class StatusArguments(ArgillaArguments):
    json: bool = option("machine-readable, with the credentials file's path", False)


@dataclass(kw_only=True)
class LogsArguments(ArgillaArguments):
    lines: int = option("the last lines of each log (default %(default)s)", 40, aliases="-n")


@dataclass(kw_only=True)
class AnnotatorArguments(ArgillaArguments):
    name: str = option("user name: lowercase letters, digits, - and _", positional=True)
    workspace: str = option("default: %(default)s", DEFAULT_WORKSPACE)


@dataclass(kw_only=True)
class ResetPasswordArguments(ArgillaArguments):
    name: str = option("the annotator's user name", positional=True)


def up(args: UpArguments) -> None:
    from ktokit.annotate import argilla_local

    argilla_local.up(args.data_dir, port=args.port, host=args.host)


def down(args: ArgillaArguments) -> None:
    from ktokit.annotate import argilla_local

    argilla_local.down(args.data_dir)


def status(args: StatusArguments) -> None:
    from ktokit.annotate import argilla_local
    from ktokit.annotate.argilla_local import manager

    info = argilla_local.status(args.data_dir)
    print(json.dumps(info, indent=2) if args.json else "\n".join(manager.status_lines(info)))


def logs(args: LogsArguments) -> None:
    from ktokit.annotate import argilla_local

    print(argilla_local.logs(args.data_dir, lines=args.lines))


def password_lines(headline: str, user: dict) -> list[str]:
    """A new account's or password's report: the password is shown this once, never stored."""
    return [
        headline,
        f"  password: {user['password']}  (shown once, not stored: hand it to the annotator now)",
    ]


def add_annotator(args: AnnotatorArguments) -> None:
    from ktokit.annotate import argilla_local

    user = argilla_local.add_annotator(args.name, workspace=args.workspace, data_dir=args.data_dir)
    where = f"to workspace {user['workspace']!r} at {user['api_url']}"
    print("\n".join(password_lines(f"Annotator {user['username']!r} added {where}", user)))


def reset_password(args: ResetPasswordArguments) -> None:
    from ktokit.annotate.argilla_local import manager

    user = manager.reset_password(args.name, data_dir=args.data_dir)
    print("\n".join(password_lines(f"New password for {user['username']!r} at {user['api_url']}", user)))


def register(commands) -> None:
    group = commands.add_parser(
        "argilla",
        help="the local Argilla server: up, down, status, logs, add-annotator, reset-password",
        description="A real Argilla server on this machine (API + annotation UI), no Docker, "
        "no Elasticsearch.",
    )
    add_arguments(group, ArgillaArguments)
    sub = group.add_subparsers(dest="argilla_command", required=True, metavar="COMMAND")
    for name, arguments, run, help in (
        ("up", UpArguments, up, "start the server, its worker and Redis (creates them on first run)"),
        ("down", ArgillaArguments, down, "stop everything (the data stays)"),
        ("status", StatusArguments, status, "URL, health, datasets and record counts"),
        ("logs", LogsArguments, logs, "the last lines of the server, worker and Redis logs"),
        (
            "add-annotator",
            AnnotatorArguments,
            add_annotator,
            "an annotator account (prints its password once)",
        ),
        (
            "reset-password",
            ResetPasswordArguments,
            reset_password,
            "a new password for an annotator (prints it once)",
        ),
    ):
        add_command(sub, name, arguments, run, help=help, hidden={DATA_DIR})
