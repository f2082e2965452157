"""Entry point run by the *server venv's* Python: the Argilla server, its rq worker, or setup steps.

usage: python launcher.py {bootstrap|server|worker|cli} ...

`manager.py` (kit venv) sets the environment (database, Redis, home path) and runs this file by
path. `ARGILLA_SEARCH_ENGINE` must be set before `argilla_server.settings` is imported, and the
engine module must be imported in every process that builds the engine by name (server, rq worker
and server CLI), so this file does both before anything else.
"""

import asyncio
import json
import os
import sys

os.environ["ARGILLA_SEARCH_ENGINE"] = "sqlite"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")  # also turns Argilla's telemetry off
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import engine  # noqa: E402  registers the "sqlite" search engine and the SQLite hardening


async def _ensure_owner(owner: dict) -> str:
    from argilla_server.cli.database.users.utils import get_or_new_workspace
    from argilla_server.contexts import accounts
    from argilla_server.database import AsyncSessionLocal
    from argilla_server.models import User, UserRole

    async with AsyncSessionLocal() as db:
        if await accounts.get_user_by_username(db, owner["username"]):
            return "exists"
        await User.create(
            db,
            first_name=owner["username"],
            username=owner["username"],
            role=UserRole.owner,
            password_hash=accounts.hash_password(owner["password"]),
            api_key=owner["api_key"],
            workspaces=[await get_or_new_workspace(db, owner["workspace"])],
        )
    return "created"


def bootstrap() -> None:
    """Schema migration, WAL + indexes, and the owner (read as JSON from stdin: never on argv)."""
    from argilla_server.cli.database.migrate import migrate_db

    migrate_db(revision="head")
    asyncio.run(engine.bootstrap())
    owner = json.loads(sys.stdin.read() or "{}")
    if owner:
        print(f"owner {owner['username']!r}: {asyncio.run(_ensure_owner(owner))}", flush=True)


def main(argv: list[str]) -> None:
    cmd, args = (argv[0], argv[1:]) if argv else ("server", [])
    if os.environ.get("KTOKIT_ARGILLA_SPEEDUPS", "1") != "0":  # 0: stock argilla-server code paths
        import speedups

        speedups.install()
    if cmd == "bootstrap":
        bootstrap()
    elif cmd == "server":
        import uvicorn
        from argilla_server import app

        host, port = args if len(args) == 2 else ("127.0.0.1", "6900")
        uvicorn.run(app, host=host, port=int(port), access_log=False, log_level="info")
    elif cmd == "worker":
        from argilla_server.cli.worker import worker  # forked rq workers inherit the registration

        worker(queues=["default", "high"], num_workers=int(args[0]) if args else 1)
    elif cmd == "cli":
        from argilla_server.cli.__main__ import app

        app(args, prog_name="argilla_server")
    else:
        raise SystemExit(f"unknown command {cmd!r}: bootstrap, server, worker or cli")


if __name__ == "__main__":
    main(sys.argv[1:])
