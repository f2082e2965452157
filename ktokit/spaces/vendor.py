"""The part of the kit a Space ships, found by reading its app's imports: nobody keeps the list by hand.

A Space runs with only what it installs, so its folder carries the kit modules its `app.py` reaches:
each kit module a reached file imports (inside a function too: the app may call it), the packages they
sit in (importing `a.b.c` runs `a` and `a.b`), modules named in strings (a registry imported by name,
like the pack counters), and the data files of every package shipped. The code is read with `ast`,
never imported, so finding the list costs no heavy library.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from ktokit.paths import CHECKOUT

KIT = CHECKOUT / "ktokit"
# Named by code a Space never runs: the local Argilla server is the organiser's machine's (its imports
# sit on the `kind == "local"` paths); a Space reaches Argilla over HTTP.
LEFT_OUT = ("ktokit.annotate.argilla_local",)
MODULE_STRING_RE = re.compile(r"^(ktokit(?:\.\w+)+)(?::\w+)?$")  # "ktokit.packs.counting.english:Counter"


@cache
def kit_modules() -> dict[str, Path]:
    """Every kit module by dotted name (a package by its own name), with its file."""
    modules = {}
    for path in sorted(KIT.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(CHECKOUT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_by(path: Path) -> set[str]:
    """The kit modules a file names: its imports anywhere in it, and module names in strings."""
    modules = kit_modules()
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from pkg import module`
        elif isinstance(node, ast.Constant) and (match := MODULE_STRING_RE.match(str(node.value))):
            names.add(match.group(1))
    return {name for name in names if name in modules}


def reached(app: Path) -> set[str]:
    """The kit modules `app` reaches, with the packages they sit in, less what no Space runs (LEFT_OUT)."""
    found: set[str] = set()
    todo = list(imported_by(app))
    while todo:
        name = todo.pop()
        if name in found or name.startswith(LEFT_OUT):
            continue
        found.add(name)
        todo += imported_by(kit_modules()[name])
        todo += [".".join(name.split(".")[:n]) for n in range(1, name.count(".") + 1)]  # its packages
    return found


def data_files(folder: Path) -> list[Path]:
    """A package's files that are not Python: in its folder, and in its folders that are no package."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_dir():
            if path.name != "__pycache__" and not (path / "__init__.py").exists():
                found += data_files(path)
        elif path.suffix not in (".py", ".pyc"):
            found.append(path)
    return found


@cache
def vendored(app: Path) -> tuple[str, ...]:
    """The files of `ktokit/` a Space whose app is `app` ships, relative to `ktokit/`, sorted."""
    files = set()
    for name in reached(app):
        path = kit_modules()[name]
        files.add(path)
        if path.name == "__init__.py":
            files.update(data_files(path.parent))
    return tuple(sorted(str(p.relative_to(KIT)) for p in files))


def copy_vendored(out: Path, names: Iterable[str]) -> None:
    """The files `names` (relative to ktokit/, as `vendored` gives them) into out/ktokit/."""
    for name in names:
        dst = out / "ktokit" / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(KIT / name, dst)
