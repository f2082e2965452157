"""The local server's processes: where each lives (`Layout`), spawning, PID files, stopping, locks, ports.

Each child runs in its own session (it outlives the CLI), logs to `logs/<name>.log` and has its PID in
`run/<name>.pid`. A PID file is trusted only while its process is alive and still ours (psutil reads
its command line), so a PID reused by another program is never signalled.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from ktokit.console import mask
from ktokit.paths import kit_home

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "launcher.py"
PROCESSES = ("redis", "server", "worker")


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
        sock = self.run / "redis.sock"
        if len(str(sock)) > 100:  # unix socket paths are limited to ~107 bytes
            digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
            sock = Path("/tmp") / f"ktokit-redis-{digest}.sock"
        self.redis_socket = sock

    def pid_file(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"


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


def pid_cmdline(pid: int) -> str:
    """The command line of `pid`, "" when it cannot be read."""
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ""


def read_pid(layout: Layout, name: str) -> int | None:
    """The PID of our process `name`, or None (no file, dead, or the PID now belongs to another program)."""
    try:
        pid = int(layout.pid_file(name).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if not pid_alive(pid):
        return None
    cmd = pid_cmdline(pid)
    marker = str(layout.redis_socket) if name == "redis" else str(LAUNCHER)
    if cmd and marker not in cmd:
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


def stop_all(layout: Layout, names: tuple[str, ...], timeout: float = 15.0) -> list[str]:
    """SIGTERM each process group (the rq pool's forked workers go too), then wait; SIGKILL stragglers."""
    pids = {}
    for name in names:
        pid = read_pid(layout, name)
        layout.pid_file(name).unlink(missing_ok=True)
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
