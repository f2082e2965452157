"""The demo Space: render `space_template/demo/` for a language and a trained adapter, serve it, push it.

The Space must run with only what it installs, so the rendered folder carries what the app imports:
the kit modules it needs (`VENDORED`: pack loading, the form check and its counters, record ids,
generation helpers; not the whole kit, whose server, training and generation code would only add
size and imports), the language's pack, the adapter and, for the offline tiny model, the base model
too. Settings are Space variables; the Argilla API key is a Space secret, never a variable, and no
plan or message prints it. That key is never the owner's: it belongs to a demo user who can add records
to the visitors' dataset and nothing else (ktokit.annotate.roles).

    python -m ktokit demo-space --language en --adapter outputs/en/kto-model-cpu-smoke --dry-run
    python -m ktokit demo-space --language en --adapter outputs/en/kto-model-cpu-smoke --serve 7860
    python -m ktokit demo-space --language en --adapter DIR --space my-org/haiku-en-demo [--private] [--hardware t4-small]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ktokit.console import KitError, first_line, say
from ktokit.hub import DEFAULT_HARDWARE, check_hardware, check_sleep_time  # noqa: F401  (check_hardware: API)
from ktokit.packs.languages import LanguagePack, load_pack
from ktokit.paths import CHECKOUT
from ktokit.train.models import AdapterInfo, adapter_info

TEMPLATE_DIR = CHECKOUT / "space_template" / "demo"
TEMPLATE_FILES = ("README.md", "app.py", "requirements.txt")
GRADIO_VERSION = "6.31.0"
# Gradio Spaces default to Python 3.10, and the pinned transformers needs >= 3.11 (a 3.10 Space stops at
# BUILD_ERROR); tests/test_space_boot.py checks it against every pin's Requires-Python.
PYTHON_VERSION = "3.11"
# On CPU hardware torch comes from PyTorch's CPU index: PyPI's Linux wheel is the CUDA build, which pulls
# gigabytes of NVIDIA libraries into a Space that cannot use them. `+cpu` exists only on that index.
CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
# The kit modules app.py imports, directly or through each other, relative to ktokit/ (tests check that
# nothing else is needed): the packs and their form check, the annotation records, local inference.
VENDORED = (
    "__init__.py",
    "console.py",
    "paths.py",
    "inference.py",
    "packs",
    "annotate/__init__.py",
    "annotate/task.py",
)
ADAPTER_FILES = (
    "adapter_config.json",
    "adapter_model.safetensors",
    "adapter_model.bin",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
)
SHIPPED_DIRS = ("ktokit", "languages", "adapter", "base")
SECRET_NAME = "ARGILLA_API_KEY"
SECRET_DESCRIPTION = (
    "API key of the demo user: adds visitors' records, nothing else (set by ktokit demo-space)"
)


@dataclass
class Feedback:
    """Where votes go: the visitors' dataset next to the language's annotation dataset, or nowhere (why).

    `api_key` is the demo user's (ktokit.annotate.roles), filled in by `provision` only when the app is
    served or pushed: a plan or a render needs the names alone.
    """

    api_url: str = ""
    api_key: str = field(default="", repr=False)
    dataset: str = ""
    workspace: str = ""
    private: bool = False
    user: str = ""
    why_off: str = "no annotation dataset recorded for this language (run create_task.py first)"
    target: Any = field(default=None, repr=False)

    @property
    def on(self) -> bool:
        return bool(self.api_url and self.dataset)

    def provision(self) -> None:
        """Create (once) the visitors' dataset and the demo user, and take that user's key."""
        from ktokit.annotate.roles import demo_credentials

        if self.on and not self.api_key:
            try:
                self.api_key = demo_credentials(self.target).api_key
            except KitError:
                raise
            except Exception as exc:  # the SDK and httpx raise many types; the key never shows
                raise KitError(
                    f"cannot set up the demo user on the Argilla server at {self.api_url} "
                    f"({type(exc).__name__}: {first_line(exc)}): is it running? (local: "
                    "`python -m ktokit argilla up`)"
                ) from None


def feedback_target(language: str, for_space: bool) -> Feedback:
    """The target create_task.py recorded; a Space cannot reach a server on this machine."""
    from ktokit.annotate.credentials import argilla_target, targets_path
    from ktokit.annotate.roles import demo_username, visitors_names

    try:
        recorded = json.loads(targets_path().read_text(encoding="utf-8")).get(language) or {}
    except (OSError, ValueError):
        recorded = {}
    if for_space and recorded.get("kind") == "local":
        return Feedback(
            why_off=f"the annotation server of {language!r} is a local one, which a Space cannot "
            "reach; create the task on a Space (create_task.py --space) for votes"
        )
    try:
        target = argilla_target(language)
    except KitError:
        return Feedback()
    workspace, dataset = visitors_names(target.workspace, target.dataset)
    return Feedback(
        api_url=target.api_url,
        dataset=dataset,
        workspace=workspace,
        private=target.private,
        user=demo_username(target.workspace),
        why_off="",
        target=target,
    )


def space_variables(pack: LanguagePack, info: AdapterInfo, feedback: Feedback) -> dict[str, str]:
    """The app's non-secret settings (Space variables, or the environment of `--serve`)."""
    variables = {
        "BASE_MODEL": "base" if info.ship_base else info.base_model,
        "ADAPTER": "adapter",
        "LANGUAGE": pack.code,
        "BASE_NAME": info.base_model,
        "TUNED_NAME": f"{info.base_model} + KTO ({info.adapter.resolve().name})",
    }
    if feedback.on:
        variables.update(
            ARGILLA_API_URL=feedback.api_url,
            ARGILLA_DATASET=feedback.dataset,
            ARGILLA_WORKSPACE=feedback.workspace,
        )
        if feedback.private:
            variables["ARGILLA_PRIVATE"] = "1"
    return variables


# ---- rendering -------------------------------------------------------------------------------------


def render_values(pack: LanguagePack, info: AdapterInfo, feedback: Feedback) -> dict[str, str]:
    title = f"{pack.native_name or pack.name} {pack.task or 'KTO'} demo"
    note = (
        f"👍/👎 send the text to the visitors' dataset `{feedback.workspace}/{feedback.dataset}` as a new "
        "record (the vote is kept as metadata, never as an annotator's answer); the Space's Argilla user "
        "can add records there and nowhere else."
        if feedback.on
        else f"feedback is off ({feedback.why_off})."
    )
    return {
        "title": title[:60],
        "short_description": f"Base vs KTO-tuned {pack.task or 'model'} in {pack.name}"[:60],
        "language": pack.code,
        "language_name": pack.name,
        "base_model": info.base_model,
        "adapter_name": info.adapter.resolve().name,
        "form_rule": pack.form.describe(),
        "feedback_note": note,
        "python_version": PYTHON_VERSION,
    }


def is_cpu(hardware: str) -> bool:
    return hardware.startswith("cpu")


def _requirements(text: str, pack: LanguagePack, hardware: str = DEFAULT_HARDWARE) -> str:
    """The template's pins, without the Japanese tagger unless the pack counts morae with it; on CPU
    hardware torch is the `+cpu` build from PyTorch's CPU index (see CPU_TORCH_INDEX)."""
    keep = [
        line for line in text.splitlines() if not line.rstrip().endswith("# ja") or pack.form.counter == "ja"
    ]
    if is_cpu(hardware):
        keep = [re.sub(r"^(torch==[^\s#+]+)(?=\s|#|$)", r"\1+cpu", line) for line in keep]
        first_pin = next(
            (i for i, line in enumerate(keep) if line.strip() and not line.startswith("#")), len(keep)
        )
        keep.insert(first_pin, f"--extra-index-url {CPU_TORCH_INDEX}")
    return "\n".join(keep) + "\n"


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)


def copy_vendored(out: Path, names: tuple[str, ...]) -> None:
    """The kit modules a Space's app imports (paths relative to ktokit/), into out/ktokit/."""
    for name in names:
        src, dst = CHECKOUT / "ktokit" / name, out / "ktokit" / name
        if src.is_dir():
            _copy_tree(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def render_demo_space(
    pack: LanguagePack,
    info: AdapterInfo,
    feedback: Feedback,
    out_dir: str | Path,
    template_dir: Path = TEMPLATE_DIR,
    hardware: str = DEFAULT_HARDWARE,
) -> list[Path]:
    """Write the Space folder: template files, vendored kit modules, pack, adapter (and tiny base)."""
    from ktokit.annotate.space import render_text

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED_DIRS:  # only what a previous render wrote: never anything else in out_dir
        if (out / name).is_dir():
            shutil.rmtree(out / name)
    values = render_values(pack, info, feedback)
    for name in TEMPLATE_FILES:
        src = template_dir / name
        if not src.is_file():
            raise KitError(f"missing demo Space template file {src}")
        text = src.read_text(encoding="utf-8")
        if name == "README.md":
            text = render_text(text, values, str(src))
        elif name == "requirements.txt":
            text = _requirements(text, pack, hardware)
        (out / name).write_text(text, encoding="utf-8")
    copy_vendored(out, VENDORED)
    if pack.path is None:
        raise KitError(f"pack {pack.code!r} has no folder to ship")
    (out / "languages" / pack.code).mkdir(parents=True)
    for name in ("pack.yaml", "prompts.txt", "examples.txt"):
        if (pack.path / name).is_file():
            shutil.copy2(pack.path / name, out / "languages" / pack.code / name)
    (out / "adapter").mkdir()
    for name in ADAPTER_FILES:
        if (info.adapter / name).is_file():
            shutil.copy2(info.adapter / name, out / "adapter" / name)
    if info.ship_base:
        _copy_tree(Path(info.base_path), out / "base")
    return sorted(p for p in out.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _size(paths: list[Path]) -> str:
    n = sum(p.stat().st_size for p in paths)
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def describe_files(out: Path, files: list[Path]) -> str:
    """`README.md (1.2 kB), ..., ktokit/ (14 files, 120 kB)`: one entry per top-level file or folder."""
    groups: dict[str, list[Path]] = {}
    for p in files:
        top = p.relative_to(out).parts
        groups.setdefault(top[0] + ("/" if len(top) > 1 else ""), []).append(p)
    return ", ".join(
        f"{k} ({_size(v)})" if not k.endswith("/") else f"{k} ({len(v)} files, {_size(v)})"
        for k, v in groups.items()
    )


def plan_lines(
    repo_id: str | None,
    private: bool,
    out: Path,
    files: list[Path],
    variables: dict[str, str],
    feedback: Feedback,
    hardware: str = DEFAULT_HARDWARE,
    sleep_time: int | None = None,
) -> list[str]:
    """What will happen, printable as is: secret names only, never their values."""
    lines = []
    if repo_id:
        torch_from = "torch from the CPU index" if is_cpu(hardware) else "torch from PyPI"
        lines.append(
            f"Space        https://huggingface.co/spaces/{repo_id} ({'private' if private else 'public'}, "
            f"{hardware}, sdk gradio {GRADIO_VERSION}, python {PYTHON_VERSION}, {torch_from}"
            + (
                f", sleeps after {sleep_time} s"
                if sleep_time not in (None, -1)
                else ", never sleeps"
                if sleep_time == -1
                else ""
            )
            + ")"
        )
    lines += [
        f"rendered     {out}/",
        f"files        {describe_files(out, files)}",
        "variables    " + ", ".join(f"{k}={v}" for k, v in variables.items()),
        f"secrets      {SECRET_NAME}  (the demo user {feedback.user}: admin of workspace {feedback.workspace} "
        "only, never shown)"
        if feedback.on
        else "secrets      none",
        f"feedback     on: votes go to {feedback.workspace}/{feedback.dataset} at {feedback.api_url}"
        if feedback.on
        else f"feedback     off: {feedback.why_off}",
    ]
    return lines


# ---- the Hub and serving ---------------------------------------------------------------------------


def upload_patterns(out: Path) -> list[str]:
    return [
        *(n for n in TEMPLATE_FILES if (out / n).is_file()),
        *(f"{d}/**" for d in SHIPPED_DIRS if (out / d).is_dir()),
    ]


def provision_demo_space(
    api: Any,
    repo_id: str,
    out: Path,
    variables: dict[str, str],
    secrets: dict[str, str],
    private: bool = False,
    say=say,
    hardware: str = DEFAULT_HARDWARE,
    sleep_time: int | None = None,
    patterns: list[str] | None = None,
    commit_message: str = "KTO demo Space (ktokit demo-space)",
    secret_description: str = SECRET_DESCRIPTION,
) -> str:
    """Create (or update) a Gradio Space: hardware, sleep time, secrets, variables, files; returns its URL.

    Unlike the annotation Space it holds no data, so a rerun updates it in place, hardware included (the
    rendered requirements.txt was made for that hardware). The dashboard Space is pushed the same way.
    """
    from ktokit.hub import hub_error, is_hub_failure

    try:
        if api.repo_exists(repo_id, repo_type="space"):
            say(f"Space {repo_id} exists: updating its settings and files")
            api.request_space_hardware(repo_id, hardware)
            if sleep_time is not None:
                api.set_space_sleep_time(repo_id, sleep_time)
        else:
            say(f"Creating the Space {repo_id} ...")
            api.create_repo(
                repo_id,
                repo_type="space",
                space_sdk="gradio",
                private=private,
                exist_ok=True,
                space_hardware=hardware,
                space_sleep_time=sleep_time,
            )
        say(f"  hardware {hardware}" + (f", sleep time {sleep_time} s" if sleep_time is not None else ""))
        for name, value in secrets.items():
            api.add_space_secret(repo_id, name, value, description=secret_description)
            say(f"  secret {name} set")
        for name, value in variables.items():
            api.add_space_variable(repo_id, name, value)
        say(f"  variables {', '.join(variables)} set")
        patterns = patterns or upload_patterns(out)
        api.upload_folder(
            repo_id=repo_id,
            repo_type="space",
            folder_path=str(out),
            allow_patterns=patterns,
            commit_message=commit_message,
        )
        say("  uploaded " + ", ".join(patterns))
    except Exception as exc:  # the Hub client raises many types; the user needs one line
        if is_hub_failure(exc):
            raise hub_error(f"setting up the Space {repo_id}", exc, *secrets.values()) from None
        raise
    return f"https://huggingface.co/spaces/{repo_id}"


def serve_env(variables: dict[str, str], secrets: dict[str, str], port: int) -> dict[str, str]:
    return {
        **os.environ,
        **variables,
        **secrets,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
    }


def serve(out: Path, variables: dict[str, str], secrets: dict[str, str], port: int) -> int:
    """Run the rendered app as the Space would (`python app.py` in its folder, secrets in its environment),
    until Ctrl+C. The dashboard Space is served the same way."""
    print(f"serving {out}/app.py at http://127.0.0.1:{port} (Ctrl+C to stop)", flush=True)
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=out, env=serve_env(variables, secrets, port))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=30)
        return 0


def demo_space(
    language: str,
    adapter: str,
    *,
    base: str | None = None,
    space: str | None = None,
    private: bool = False,
    hardware: str | None = None,
    sleep_time: int | None = None,
    dry_run: bool = False,
    serve_port: int | None = None,
    output: str | None = None,
) -> int:
    """`python -m ktokit demo-space`: render the Space, then print its plan, serve it, or push it."""
    from ktokit.hub import check_repo_id

    hardware = hardware or DEFAULT_HARDWARE
    if space:
        check_repo_id(space)
    check_hardware(hardware)
    check_sleep_time(sleep_time, hardware)
    if serve_port is not None and not 0 < serve_port < 65536:
        raise KitError(f"--serve takes a port number (1-65535), got {serve_port}")
    pack = load_pack(language)
    info = adapter_info(adapter, base, pack.code)
    if space and not info.ship_base and Path(info.base_model).exists():
        raise KitError(
            f"the base model {info.base_model!r} is a local folder a Space cannot load: pass --base "
            "ORG/NAME (the same model on the Hub)"
        )
    feedback = feedback_target(pack.code, for_space=bool(space))
    out = Path(output or Path("outputs") / pack.code / "demo-space")
    files = render_demo_space(pack, info, feedback, out, hardware=hardware)
    variables = space_variables(pack, info, feedback)
    for line in plan_lines(space, private, out, files, variables, feedback, hardware, sleep_time):
        print(line)
    if dry_run:
        return 0
    if serve_port is not None:
        feedback.provision()
        return serve(out, variables, {SECRET_NAME: feedback.api_key} if feedback.api_key else {}, serve_port)
    if not space:
        print("rendered only: serve it with --serve PORT, or push it with --space ORG/NAME")
        return 0
    from ktokit.hub import hf_api

    api = hf_api(f"creating the Space {space}")
    if feedback.private:
        say(
            "note: the annotation Space is private: add a Space secret HF_TOKEN (a read token with access to it) "
            "so votes get through"
        )
    feedback.provision()
    secrets = {SECRET_NAME: feedback.api_key} if feedback.on else {}
    url = provision_demo_space(
        api, space, out, variables, secrets, private=private, hardware=hardware, sleep_time=sleep_time
    )
    print(f"demo Space   {url} (it builds for a few minutes; logs: {url}?logs=build)")
    return 0
