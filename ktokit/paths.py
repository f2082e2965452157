"""Where the kit keeps what it builds (tiny models, the local Argilla server): `$KTOKIT_HOME`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def kit_home() -> Path:
    """`$KTOKIT_HOME`, else `~/.cache/ktokit`; shared by every checkout on the machine."""
    return Path(os.environ.get("KTOKIT_HOME") or Path.home() / ".cache" / "ktokit").expanduser()


def write_private(path: Path, data: dict[str, Any]) -> None:
    """Atomic JSON write, readable by the owner only (0600) from the first byte: credentials live here."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_json(path: Path, fix: str = "") -> dict[str, Any]:
    """A JSON file the kit wrote, {} if it is not there; one clear error (and `fix`) if it is unreadable."""
    from ktokit.errors import KitError

    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise KitError(f"cannot read {path}: {exc}{'; ' + fix if fix else ''}") from None
