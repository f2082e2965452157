"""First boot on the Hub: what each Space template the kit renders asks the Hub to build.

A Gradio Space installs our pins on the Python its front matter names (Spaces default to 3.10), so
that Python must satisfy every pin's `Requires-Python`, read here from the installed packages'
metadata (the pins are the versions installed here, which the test checks too). The Argilla Space is
a Docker Space on a pinned image: no Python requirements of ours, so its image tag is checked instead.
Nothing here reaches the Hub.
"""

import importlib.metadata as metadata
from pathlib import Path

import pytest
from kit_testing import front_matter, stand_in_adapter
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ktokit.annotate import space
from ktokit.cli import main as kit
from ktokit.console import KitError
from ktokit.demo import space as demo_space
from ktokit.generate.adapters import AdapterInfo
from ktokit.packs.languages import load_pack
from ktokit.spaces import gradio, provision, render

CPU_INDEX_LINE = f"--extra-index-url {render.CPU_TORCH_INDEX}"


def render_demo(out: Path, language: str, hardware: str = provision.DEFAULT_HARDWARE) -> Path:
    """The demo Space for a stand-in adapter folder (a Hub base, nothing to ship): no model needed."""
    adapter = stand_in_adapter(out.parent / f"adapter-{language}")
    info = AdapterInfo(adapter, "some-org/some-base", "some-org/some-base", ship_base=False)
    demo_space.render_demo_space(load_pack(language), info, demo_space.Feedback(), out, hardware=hardware)
    return out


def pinned(requirements: str) -> dict[str, str]:
    """`name==version` pins of a requirements.txt.

    Pip options (`--extra-index-url`) skipped, `+cpu` dropped.
    """
    pins = {}
    for line in requirements.splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        (spec,) = Requirement(line).specifier
        assert spec.operator == "==", f"not an exact pin: {line!r}"
        pins[Requirement(line).name] = Version(spec.version).public
    return pins


def python_conflicts(python: str, pins: dict[str, str]) -> list[str]:
    """The pins whose installed metadata refuses `python` (e.g. "3.11", taken as 3.11.0, the strict side)."""
    conflicts = []
    for name, version in pins.items():
        installed = Version(metadata.version(name)).public
        assert installed == version, (
            f"{name}: pinned {version} but {installed} is installed, so its metadata is not the pin's"
        )
        requires = metadata.metadata(name)["Requires-Python"]
        if requires and not SpecifierSet(requires).contains(Version(python)):
            conflicts.append(f"{name}=={version} requires Python {requires}")
    return conflicts


@pytest.mark.parametrize("language", ["en", "ja"])  # ja adds the tagger's pins (fugashi, unidic-lite)
def test_demo_space_python_satisfies_every_pin(tmp_path, language):
    out = render_demo(tmp_path / "demo", language)
    meta = front_matter((out / "README.md").read_text())
    python = meta.get("python_version")
    assert isinstance(python, str) and python == gradio.PYTHON_VERSION, "quote it: YAML reads 3.10 as 3.1"
    pins = pinned((out / "requirements.txt").read_text())
    assert {"torch", "transformers", "argilla"} <= set(pins) and ("fugashi" in pins) == (language == "ja")
    pins["gradio"] = str(meta["sdk_version"])  # the Space installs gradio from the front matter
    assert python_conflicts(python, pins) == []
    # the check bites: the Spaces default, 3.10, is refused by the pinned transformers (BUILD_ERROR)
    assert any(c.startswith("transformers==") for c in python_conflicts("3.10", pins))


def test_argilla_space_has_no_python_pins_of_ours_and_a_pinned_image(tmp_path):
    values = space.render_values(load_pack("en"), "en", "haiku-en", 2, "none")
    files = {p.name: p.read_text() for p in space.render_space(values, tmp_path / "space")}
    assert "requirements.txt" not in files and "python_version" not in front_matter(files["README.md"])
    assert front_matter(files["README.md"])["sdk"] == "docker"
    froms = [line.split()[1] for line in files["Dockerfile"].splitlines() if line.startswith("FROM ")]
    assert froms == [f"argilla/argilla-hf-spaces:v{space.ARGILLA_VERSION}"]
    assert (
        metadata.version("argilla") == space.ARGILLA_VERSION
    )  # the image serves the API the kit's SDK speaks


@pytest.mark.parametrize("hardware", ["cpu-basic", "cpu-upgrade"])
def test_cpu_space_takes_torch_from_the_cpu_index(tmp_path, hardware):
    text = (render_demo(tmp_path / "demo", "en", hardware) / "requirements.txt").read_text()
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    assert lines.count(CPU_INDEX_LINE) == 1
    torch_pins = [line for line in lines if line.startswith("torch")]
    assert torch_pins == [
        f"torch=={Version(metadata.version('torch')).public}+cpu"
    ]  # only that index has +cpu
    assert not any(
        line.startswith("--index-url") for line in lines
    )  # PyPI stays the index of everything else


def test_gpu_space_keeps_the_default_index(tmp_path):
    text = (render_demo(tmp_path / "demo", "en", "t4-small") / "requirements.txt").read_text()
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    assert not any(line.startswith("-") or "+cpu" in line for line in lines)  # PyPI's (CUDA) torch
    assert f"torch=={Version(metadata.version('torch')).public}" in lines


def test_hardware_flag_is_checked_and_shown_in_the_plan(tmp_path, config_dir, capsys):
    adapter = stand_in_adapter(tmp_path / "adapter")
    argv = [
        "demo-space",
        "--language",
        "en",
        "--adapter",
        str(adapter),
        "--space",
        "kit-community/haiku-en-demo",
        "-o",
        str(tmp_path / "out"),
        "--dry-run",
    ]
    assert kit([*argv, "--hardware", "t4-small"]) == 0
    assert "(public, t4-small, sdk gradio 6.31.0, python 3.11, torch from PyPI)" in capsys.readouterr().out
    assert kit(argv) == 0
    assert (
        "(public, cpu-basic, sdk gradio 6.31.0, python 3.11, torch from the CPU index)"
        in capsys.readouterr().out
    )
    assert kit([*argv, "--hardware", "gpu-please"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--hardware must be one of" in err and "cpu-basic" in err
    with pytest.raises(KitError, match="gpu-please"):
        provision.check_hardware("gpu-please")
