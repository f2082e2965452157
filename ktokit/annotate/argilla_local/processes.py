"""The local server's processes: where each lives (`Layout`), spawning, PID files, stopping, locks, ports.

Each child runs in its own session (it outlives the CLI), logs to `logs/<name>.log` and has its PID in
`run/<name>.pid`. A PID file is trusted only while its process is alive and still this data dir's, so a
PID reused by another program is never signalled, and a PID file is removed only once its process is gone.

A process is this data dir's when it carries the data dir's marks in its environment (`marks`): the
data dir's path and its instance token (`instance`, written once into the data dir). Not the path of the
checkout that started it: every clone, fork or install of the kit that shares a `KTOKIT_HOME` (or a
`--data-dir`) sees the same server as running, uses it and stops it. Redis rewrites its own process
title over its environment, and servers started by an older kit carry no marks: those are recognised
by their working directory (the data dir, where `spawn` starts every child) and their command line.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from ktokit.console import mask
from ktokit.paths import kit_home, write_text

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "launcher.py"
PROCESSES = ("redis", "server", "worker")
DATA_DIR_ENV = "KTOKIT_ARGILLA_DATA_DIR"  # the marks every child of a data dir carries (`marks`)
INSTANCE_ENV = "KTOKIT_ARGILLA_INSTANCE"


def default_data_dir() -> Path:
    return kit_home() / "argilla"


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
        self.instance = self.root / "instance"
        sock = self.run / "redis.sock"
        if len(str(sock)) > 100:  # unix socket paths are limited to ~107 bytes
            digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
            sock = Path("/tmp") / f"ktokit-redis-{digest}.sock"
        self.redis_socket = sock

    def pid_file(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def token(self) -> str | None:
        """The data dir's instance token, None before the first `up`."""
        try:
            return self.instance.read_text().strip() or None
        except OSError:
            return None

    def marks(self) -> dict[str, str]:
        """What every child of this data dir carries in its environment (the token created if missing)."""
        token = self.token()
        if token is None:
            token = secrets.token_hex(16)
            write_text(self.instance, token + "\n")
        return {DATA_DIR_ENV: str(self.root), INSTANCE_ENV: token}


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """One `up`/`down` at a time per data dir (and one server venv build at a time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def tail(path: Path, lines: int = 20, secrets_: tuple[str, ...] = ()) -> str:
    """The last lines of a log, secrets masked."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return mask("\n".join(text.splitlines()[-lines:]), secrets_)


def pid_alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie (exited, not yet reaped) does not."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # another user's process: it exists
        return True


def belongs(layout: Layout, name: str, pid: int) -> bool:
    """Whether the live process `pid` is this data dir's `name` (see the module's docstring)."""
    try:
        proc = psutil.Process(pid)
        env = proc.environ()
        if env.get(INSTANCE_ENV):
            return env[INSTANCE_ENV] == layout.token() and env.get(DATA_DIR_ENV) == str(layout.root)
        # Redis (its title overwrites its environment) and servers of an older kit: by where and what they run
        marker = str(layout.redis_socket) if name == "redis" else "launcher.py"
        cwd = Path(proc.cwd())  # Redis moves to run/ (its --dir)
        return (cwd == layout.root or layout.root in cwd.parents) and marker in " ".join(proc.cmdline())
    except psutil.AccessDenied:  # another user's process: not one this user's kit started
        return False
    except psutil.Error:  # gone meanwhile
        return False


def file_pid(layout: Layout, name: str) -> int | None:
    """The PID in run/<name>.pid, None without a readable one."""
    try:
        return int(layout.pid_file(name).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def read_pid(layout: Layout, name: str) -> int | None:
    """The PID of this data dir's process `name`, or None (no file, dead, or another program's PID now)."""
    pid = file_pid(layout, name)
    if pid is None or not pid_alive(pid) or not belongs(layout, name, pid):
        return None
    return pid


def port_free(host: str, port: int) -> bool:
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


def spawn(layout: Layout, name: str, cmd: list[str], env: dict | None = None) -> int:
    """Start `cmd` in its own session (it outlives the CLI) in the data dir, with the data dir's marks in
    its environment; log to logs/<name>.log, write run/<name>.pid."""
    log = open(layout.log_file(name), "a")  # noqa: SIM115  handed to the child
    log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}\n")
    log.flush()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**(os.environ if env is None else env), **layout.marks()},
        start_new_session=True,
        cwd=layout.root,
    )
    log.close()
    write_text(layout.pid_file(name), f"{proc.pid}\n")
    return proc.pid


def stop_all(layout: Layout, names: tuple[str, ...], timeout: float = 15.0) -> list[str]:
    """SIGTERM each process group (the rq pool's forked workers go too), then wait; SIGKILL stragglers.

    Only this data dir's processes are signalled; a PID file goes once its process is gone (a PID that
    now belongs to another program leaves its file: the next `spawn` overwrites it). Returns the names
    stopped.
    """
    pids = {}
    for name in names:
        pid = read_pid(layout, name)
        if pid is not None:
            pids[name] = pid
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(pid_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids.values():
        with contextlib.suppress(ProcessLookupError):
            if pid_alive(pid):
                os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(pid_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for name in names:
        pid = file_pid(layout, name)
        if pid is None or not pid_alive(pid):
            layout.pid_file(name).unlink(missing_ok=True)
    return list(pids)


def stop(layout: Layout, name: str) -> bool:
    return bool(stop_all(layout, (name,)))


def redis_ping(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(sock))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False
