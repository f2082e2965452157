"""A Space's folder from its template: placeholders filled, pins for the hardware, the plan's file list."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from ktokit.console import KitError
from ktokit.paths import write_text

PLACEHOLDER_RE = re.compile(r"\{\{(\w+)\}\}")
# On CPU hardware torch comes from PyTorch's CPU index: PyPI's Linux wheel is the CUDA build, which pulls
# gigabytes of NVIDIA libraries into a Space that cannot use them. `+cpu` exists only on that index.
CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
TAG_RE = re.compile(r"\s#\s*([\w-]+)\s*$")  # `fugashi==1.5.2  # ja`: a pin only some Spaces need


def render_text(text: str, values: Mapping[str, str], where: str = "template") -> str:
    """`{{name}}` replaced by `values[name]`; an unknown name is an error, never left in a Space's file."""
    unknown = sorted(set(PLACEHOLDER_RE.findall(text)) - set(values))
    if unknown:
        raise KitError(f"{where}: unknown placeholder(s) {', '.join(unknown)}")
    return PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], text)


def render_space(
    values: Mapping[str, str],
    out_dir: str | Path,
    template_dir: Path,
    names: Collection[str],
    *,
    verbatim: Collection[str] = (),
    edit: Mapping[str, Callable[[str], str]] | None = None,
) -> list[Path]:
    """Write the template files `names` to `out_dir`, placeholders filled except in `verbatim` ones (code,
    pins: copied as they are, or rewritten by `edit[name]`); returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        src = template_dir / name
        if not src.is_file():
            raise KitError(f"missing Space template file {src}")
        text = src.read_text(encoding="utf-8")
        if name not in verbatim:
            text = render_text(text, values, str(src))
        if edit and name in edit:
            text = edit[name](text)
        write_text(out_dir / name, text)
        written.append(out_dir / name)
    return written


def clear(out_dir: Path, folders: Collection[str]) -> None:
    """Remove the folders a previous render wrote, and only those: never anything else in `out_dir`."""
    for name in folders:
        if (out_dir / name).is_dir():
            shutil.rmtree(out_dir / name)


def is_cpu(hardware: str) -> bool:
    return hardware.startswith("cpu")


def requirements(text: str, hardware: str, tags: Collection[str] = ()) -> str:
    """A template's pins for this hardware: a pin tagged `# <tag>` only when `tag` is asked for (the Japanese
    tagger for a pack counting morae); on CPU hardware torch is the `+cpu` build from CPU_TORCH_INDEX."""
    keep = []
    for line in text.splitlines():
        tag = None if line.startswith("#") else TAG_RE.search(line)
        if tag is None or tag.group(1) in tags:
            keep.append(line)
    if is_cpu(hardware):
        keep = [re.sub(r"^(torch==[^\s#+]+)(?=\s|#|$)", r"\1+cpu", line) for line in keep]
        first_pin = next(
            (i for i, line in enumerate(keep) if line.strip() and not line.startswith("#")), len(keep)
        )
        keep.insert(first_pin, f"--extra-index-url {CPU_TORCH_INDEX}")
    return "\n".join(keep) + "\n"


def rendered_files(out_dir: Path) -> list[Path]:
    """Every file of a rendered folder, sorted (caches left out)."""
    return sorted(p for p in out_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def size(paths: Collection[Path]) -> str:
    n = sum(p.stat().st_size for p in paths)
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB" if n >= 1e3 else f"{n} B"


def describe_files(out_dir: Path, files: Collection[Path]) -> str:
    """`README.md (1.2 kB), ..., ktokit/ (14 files, 120 kB)`: one entry per top-level file or folder."""
    groups: dict[str, list[Path]] = {}
    for p in files:
        top = p.relative_to(out_dir).parts
        groups.setdefault(top[0] + ("/" if len(top) > 1 else ""), []).append(p)
    return ", ".join(
        f"{k} ({size(v)})" if not k.endswith("/") else f"{k} ({len(v)} files, {size(v)})"
        for k, v in groups.items()
    )
