"""Where the kit's files are, and the few ways it writes them.

`CHECKOUT` is the folder that holds `ktokit/` (a clone, or a rendered demo Space): languages/,
model_sets/, recipes/ and space_template/ are found there. What the kit builds (tiny models, the
local Argilla server) lives in `$KTOKIT_HOME`. JSON and JSONL files are written by the functions
below only, so every file the kit writes is UTF-8, unescaped, one row per line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parent.parent


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
    from ktokit.console import KitError

    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise KitError(f"cannot read {path}: {exc}{'; ' + fix if fix else ''}") from None


def write_json(path: Path, data: Any) -> Path:
    """Indented, unescaped JSON (`default=str` for paths and the like); the folder is created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]], *, append: bool = False) -> Path:
    """One JSON object per line; with `append`, added to the file and synced to disk, so a run killed
    right after still finds every row it was told was written (what resume reads)."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    with open(path, "a" if append else "w", encoding="utf-8") as handle:
        handle.write(text)
        if append:
            handle.flush()
            os.fsync(handle.fileno())
    return path
