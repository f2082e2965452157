"""`python -m ktokit argilla {up,down,status,logs,add-annotator}`: the local Argilla server."""

from __future__ import annotations

import argparse
import functools
import json
import sys

from ktokit.argilla_local import manager
from ktokit.errors import KitError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ktokit argilla",
        description="A real Argilla server on this machine (API + annotation UI), no Docker, no Elasticsearch.",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where the database, logs and credentials live (default: $KTOKIT_HOME/argilla, "
        "KTOKIT_HOME defaulting to ~/.cache/ktokit)",
    )
    common = argparse.ArgumentParser(add_help=False)  # --data-dir after the subcommand works too
    common.add_argument("--data-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    add = functools.partial(sub.add_parser, parents=[common])
    p = add("up", help="start the server, its worker and Redis (creates them on first run)")
    p.add_argument(
        "--port", type=int, default=None, help=f"default: the last one used, else {manager.DEFAULT_PORT}"
    )
    p.add_argument(
        "--host",
        default=None,
        help=f"default: the last one used, else {manager.DEFAULT_HOST}; 0.0.0.0 for a workshop LAN",
    )
    add("down", help="stop everything (the data stays)")
    p = add("status", help="URL, health, datasets and record counts")
    p.add_argument("--json", action="store_true", help="machine-readable, with the credentials file's path")
    p = add("logs", help="the last lines of the server, worker and Redis logs")
    p.add_argument("-n", "--lines", type=int, default=40)
    p = add("add-annotator", help="an annotator account (prints its password once)")
    p.add_argument("name", help="user name: lowercase letters, digits, - and _")
    p.add_argument("--workspace", default=manager.DEFAULT_WORKSPACE, help="default: %(default)s")
    return parser


def _print_status(info: dict) -> None:
    state = "healthy" if info["healthy"] else "running, not answering" if info["running"] else "stopped"
    print(f"Argilla ({info['data_dir']}): {state}")
    if info["api_url"]:
        print(f"  url:   {info['api_url']}")
    if info["username"]:
        print(f"  owner: {info['username']}  (credentials: {info['credentials_file']})")
    for ds in info["datasets"]:
        print(
            f"  dataset {ds['workspace']}/{ds['name']}: {ds['records']} records, {ds['completed']} completed"
        )
    if info["healthy"] and not info["datasets"]:
        print("  no datasets yet")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data_dir = args.data_dir
    if args.command == "up":
        port = args.port
        if port is not None and not 0 < port < 65536:
            raise KitError(f"--port {port} is not a port number (1-65535)")
        manager.up(data_dir, port=port, host=args.host)
    elif args.command == "down":
        manager.down(data_dir)
    elif args.command == "status":
        info = manager.status(data_dir)
        if args.json:
            print(json.dumps(info, indent=2))
        else:
            _print_status(info)
    elif args.command == "logs":
        print(manager.logs(data_dir, lines=args.lines))
    elif args.command == "add-annotator":
        user = manager.add_annotator(args.name, workspace=args.workspace, data_dir=data_dir)
        print(f"Annotator {user['username']!r} added to workspace {user['workspace']!r} at {user['api_url']}")
        print(f"  password: {user['password']}  (shown once, not stored: hand it to the annotator now)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KitError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
