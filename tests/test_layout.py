"""The layout as a rule that can fail: `ktokit/` reads as the flow, and its imports follow the flow.

Every `import` of a kit module is an edge of the graph below, a lazy one inside a function too (it is a
dependency all the same). Read from the source with `ast`, so nothing is imported to check it:

- no import cycle between the kit's modules;
- no step imports a later step: shared modules < packs < generate < annotate < export < train < demo
  < the command line;
- a Space's vendored modules (demo, dashboard) import nothing it does not ship;
- the command line starts without the heavy libraries.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from kit_testing import ROOT

KIT = ROOT / "ktokit"
# The flow's order. Shared modules are what every step may use; they use only each other.
STEPS = {
    "ktokit": 0,
    "console": 0,
    "options": 0,
    "quiet": 0,
    "paths": 0,
    "hub": 0,
    "kto_format": 0,
    "inference": 0,
    "spaces": 0,  # what the three Spaces share: it uses shared modules only, and every step may push a Space
    "packs": 1,
    "generate": 2,
    "annotate": 3,
    "export": 4,
    "train": 5,
    "demo": 6,
    "campaign": 7,
    "draft": 7,
    "cli": 8,
    "__main__": 8,
}
# Run by the Argilla server's own Python by path (a venv of their own): they import each other by file name.
SERVER_SIDE = {
    "ktokit.annotate.argilla_local.launcher",
    "ktokit.annotate.argilla_local.engine",
    "ktokit.annotate.argilla_local.speedups",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def kit_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(KIT.rglob("*.py")) if "__pycache__" not in p.parts}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The kit modules a file imports, anywhere in it.

    `from ktokit.x import y` is ktokit.x.y when y is a module.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{path}: the kit imports absolutely (ktokit.x), so the graph can be read"
            names = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                for a in node.names
            ]
        else:
            continue
        found |= {name for name in names if name in modules}
    return found


def graph() -> dict[str, set[str]]:
    modules = kit_modules()
    return {
        name: imports_of(path, modules) - {name} for name, path in modules.items() if name not in SERVER_SIDE
    }


def step(module: str) -> int:
    parts = module.split(".")
    return STEPS[parts[1] if len(parts) > 1 else parts[0]]


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first = last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_every_module_belongs_to_a_step():
    unplaced = [m for m in kit_modules() if (m.split(".")[1] if "." in m else m) not in STEPS]
    assert not unplaced, f"add these to a step (tests/test_layout.py STEPS): {unplaced}"


def test_no_import_cycle():
    assert find_cycle(graph()) is None, " -> ".join(find_cycle(graph()))


def test_no_step_imports_a_later_step():
    backwards = sorted(f"{a} -> {b}" for a, targets in graph().items() for b in targets if step(b) > step(a))
    assert not backwards, "an earlier step imports a later one:\n" + "\n".join(backwards)


def test_the_checks_bite():
    """The cycle finder and the step order catch what they are meant to."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert step("ktokit.export.card") == 4 and step("ktokit.train.run") == 5 and step("ktokit.console") == 0
    modules = kit_modules()
    assert "ktokit.kto_format" in imports_of(KIT / "export" / "rows.py", modules)
    # a lazy import counts
    assert "ktokit.generate.tiny" in imports_of(KIT / "generate" / "adapters.py", modules)


def reached_from(app: Path) -> set[str]:
    """The kit modules a Space's app reaches, through every import (a lazy one too)."""
    edges = graph()
    reached, todo = set(), list(imports_of(app, kit_modules()))
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo += edges[module]
    return reached


def shipped_with(app: Path) -> set[str]:
    """The kit modules the Space of `app` ships (ktokit.spaces.vendor reads them off its imports)."""
    from ktokit.spaces.vendor import vendored

    files = vendored(app)
    return {
        name
        for name, path in kit_modules().items()
        if any(path == KIT / v or KIT / v in path.parents for v in files)
    }


def test_the_demo_space_ships_every_kit_module_its_app_reaches():
    shipped = shipped_with(ROOT / "space_template" / "demo" / "app.py")
    reached = reached_from(ROOT / "space_template" / "demo" / "app.py")
    assert reached <= shipped, f"the Space imports modules it does not ship: {sorted(reached - shipped)}"
    # shared modules, the packs, and the annotation records: no generation, server, export or training code
    assert all(step(m) <= 1 or m in ("ktokit.annotate", "ktokit.annotate.task") for m in shipped), sorted(
        shipped
    )


def test_the_dashboard_space_ships_every_kit_module_its_app_reaches_but_the_local_server():
    from ktokit.spaces.vendor import LEFT_OUT

    shipped = shipped_with(ROOT / "space_template" / "dashboard" / "app.py")
    reached = {
        m
        for m in reached_from(ROOT / "space_template" / "dashboard" / "app.py")
        if not m.startswith(LEFT_OUT)
    }
    assert reached <= shipped, f"the Space imports modules it does not ship: {sorted(reached - shipped)}"
    assert {"ktokit.campaign.backup", "ktokit.campaign.dashboard", "ktokit.packs.counting.english"} <= shipped
    assert not any(m.startswith(LEFT_OUT) for m in shipped), sorted(shipped)


def test_the_command_line_starts_without_the_heavy_libraries():
    heavy = ("torch", "transformers", "trl", "datasets", "argilla", "distilabel", "gradio", "peft")
    code = (
        "import sys; from ktokit.cli import build_parser; build_parser(); "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
