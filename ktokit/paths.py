"""Where the kit keeps what it builds (tiny models, the local Argilla server): `$KTOKIT_HOME`."""

from __future__ import annotations

import os
from pathlib import Path


def kit_home() -> Path:
    """`$KTOKIT_HOME`, else `~/.cache/ktokit`; shared by every checkout on the machine."""
    return Path(os.environ.get("KTOKIT_HOME") or Path.home() / ".cache" / "ktokit")
