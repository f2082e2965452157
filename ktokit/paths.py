"""Where the kit's files are, and the few ways it writes them.

`CHECKOUT` is the folder that holds `ktokit/` (a clone, or a rendered demo Space): languages/,
model_sets/, recipes/ and space_template/ are found there. What the kit builds (tiny models, the
local Argilla server) lives in `$KTOKIT_HOME`. JSON and JSONL files are written by the functions
below only, so every file the kit writes is UTF-8, unescaped, one row per line.

Every file the kit writes for the user is written whole or not at all: into a temporary file in the
same folder, synced to disk, then renamed over the old one (`atomic_file`), so a kill, a crash or a full
disk mid-write leaves the previous file, never half of a new one. A folder is replaced the same way:
the new one is written next to it, then swapped in (`replace_folder`); `settled_folder` finds the
previous one when a kill fell between the two renames of a swap.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

CHECKOUT = Path(__file__).resolve().parent.parent


def kit_home() -> Path:
    """`$KTOKIT_HOME`, else `~/.cache/ktokit`; shared by every checkout on the machine."""
    return Path(os.environ.get("KTOKIT_HOME") or Path.home() / ".cache" / "ktokit").expanduser()


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "w", *, private: bool = False) -> Iterator[IO]:
    """A file handle whose content replaces `path` only when the block ends without an error.

    Written to `.<name>.<random>.tmp` in the same folder (a rename is atomic within one filesystem),
    flushed and fsynced, then `os.replace`d over `path` and the folder synced, so the new name survives
    a power cut too. On any error (a kill cannot run this, but leaves only the hidden temporary file)
    the temporary file is removed and `path` is untouched. `private`: mode 0600 from the first byte
    (credentials); else the usual mode (0666 less the umask). `mode` "w" (text, UTF-8) or "wb".
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a quota: said with the file it was for
        tmp.unlink(missing_ok=True)
        if exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so a rename in it is on disk (POSIX; a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_text(path: str | os.PathLike, text: str, *, private: bool = False) -> Path:
    """`text` as the whole content of `path` (UTF-8), written atomically (`atomic_file`)."""
    with atomic_file(path, private=private) as handle:
        handle.write(text)
    return Path(path)


def write_private(path: Path, data: dict[str, Any]) -> None:
    """Atomic JSON write, readable by the owner only (0600) from the first byte: credentials live here."""
    with atomic_file(path, private=True) as handle:
        json.dump(data, handle, indent=2)


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
    """Indented, unescaped JSON (`default=str` for paths and the like), written atomically."""
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]], *, append: bool = False) -> Path:
    """One JSON object per line, the whole file written atomically; with `append`, added to the file and
    synced to disk, so a run killed right after still finds every row it was told was written (what
    resume reads). A line cut short by a kill mid-append is ended first, so it spoils only itself: the
    readers skip a line that is not JSON, and redo its row."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if not append:
        return write_text(path, text)
    with contextlib.suppress(OSError), open(path, "rb") as before:
        before.seek(-1, os.SEEK_END)
        if before.read(1) != b"\n":
            text = "\n" + text
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def _old(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.old")


def settled_folder(folder: str | os.PathLike) -> Path:
    """`folder`, or the whole previous version a swap had set aside when a kill fell between its two
    renames (`replace_folder`): what a reader should read. Moves that one back into place."""
    folder = Path(folder)
    old = _old(folder)
    if not folder.exists() and old.is_dir():
        with contextlib.suppress(OSError):
            old.rename(folder)
        return folder if folder.exists() else old
    return folder


def replace_folder(new: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Swap the complete folder `new` in as `folder` (same filesystem): the old one is renamed aside,
    the new one renamed in, the old one removed. At every moment either `folder` or its set-aside copy
    is whole (`settled_folder` finds it); the new one is never seen half-written."""
    new, folder = Path(new), Path(folder)
    settled_folder(folder)  # a swap cut off before: the previous version back in place first
    old = _old(folder)
    shutil.rmtree(old, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _sync_folder(new)
    if folder.exists():
        folder.rename(old)
    new.rename(folder)
    _sync_folder(folder.parent)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def save_dataset(dataset: Any, folder: str | os.PathLike) -> Path:
    """`dataset.save_to_disk(folder)` (a Dataset or DatasetDict) that never leaves a half-written one:
    saved into a temporary folder next to it, then each of its files moved in, the index files
    (`state.json`, `dataset_dict.json`) last, so `load_from_disk` finds either the old or the new set.
    Other files in `folder` (a card, a JSONL copy) stay."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".save-{secrets.token_hex(4)}.tmp"
    try:
        dataset.save_to_disk(str(tmp))
        files = sorted(
            (p for p in tmp.rglob("*") if p.is_file()),
            key=lambda p: (p.name in ("state.json", "dataset_dict.json"), len(p.parts)),
        )
        for src in files:
            with open(src, "rb") as handle:
                os.fsync(handle.fileno())
            dst = folder / src.relative_to(tmp)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
        _sync_folder(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
