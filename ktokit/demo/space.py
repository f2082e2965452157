"""The demo Space: `space_template/demo/` rendered for a language and a trained adapter, served or pushed.

The Space must run with only what it installs, so the rendered folder carries what the app imports:
the kit modules it reaches (ktokit.spaces.vendor reads them off `app.py`: pack loading, the form check
and its counters, record ids, generation helpers; no server, training or generation code), the
language's pack, the adapter and, for the offline tiny model, the base model too. Settings are Space
variables; the Argilla API key is a Space secret, never a variable, and no plan or message prints it.
That key is never the owner's: it belongs to a demo user who can add records to the visitors' dataset
and nothing else (ktokit.demo.visitors).

    python -m ktokit demo-space --language en --adapter outputs/en/kto-model-cpu-smoke --dry-run
    python -m ktokit demo-space --language en --adapter outputs/en/kto-model-cpu-smoke --serve 7860
        [--mode side-by-side]     (default: the blind arena)
    python -m ktokit demo-space --language en --adapter DIR --space my-org/haiku-en-demo \
        [--private] [--hardware t4-small]
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ktokit.console import KitError
from ktokit.demo.visitors import demo_username, visitors_names
from ktokit.generate.adapters import AdapterInfo, adapter_info
from ktokit.packs.languages import LanguagePack, load_pack
from ktokit.paths import CHECKOUT
from ktokit.spaces.gradio import PYTHON_VERSION, SECRET_NAME, GradioSpace
from ktokit.spaces.options import SpaceOptions
from ktokit.spaces.provision import DEFAULT_HARDWARE, plan_line
from ktokit.spaces.render import clear, is_cpu, render_space, rendered_files, requirements
from ktokit.spaces.vendor import copy_vendored, vendored

TEMPLATE_DIR = CHECKOUT / "space_template" / "demo"
TEMPLATE_FILES = ("README.md", "app.py", "requirements.txt")
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
SECRET_DESCRIPTION = (
    "API key of the demo user: adds visitors' records, nothing else (set by ktokit demo-space)"
)


@dataclass
class Feedback:
    """Where votes go: the visitors' dataset next to the language's annotation dataset, or nowhere (why).

    `api_key` is the demo user's (ktokit.demo.visitors), filled in by `provision` only when the app is
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
        from ktokit.demo.visitors import demo_credentials

        if self.on and not self.api_key:
            from ktokit.annotate import admin

            fix = "is it running? (local: `python -m ktokit argilla up`)"
            with admin.translated(
                f"cannot set up the demo user on the Argilla server at {self.api_url}", fix
            ):
                self.api_key = demo_credentials(self.target).api_key


def feedback_target(language: str, for_space: bool) -> Feedback:
    """The target create_task.py recorded; a Space cannot reach a server on this machine."""
    from ktokit.annotate.credentials import argilla_target, targets_path

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


MODES = ("arena", "side-by-side")


def space_variables(
    pack: LanguagePack, info: AdapterInfo, feedback: Feedback, mode: str = "arena"
) -> dict[str, str]:
    """The app's non-secret settings (Space variables, or the environment of `--serve`)."""
    variables = {
        "MODE": mode,
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


def _requirements(text: str, pack: LanguagePack, hardware: str = DEFAULT_HARDWARE) -> str:
    """The template's pins for the hardware, with the pins tagged for the pack's counter (`# ja`: the
    Japanese tagger) only when the pack counts with it."""
    return requirements(text, hardware, tags=[pack.form.counter] if pack.form.counter else [])


def render_demo_space(
    pack: LanguagePack,
    info: AdapterInfo,
    feedback: Feedback,
    out_dir: str | Path,
    template_dir: Path = TEMPLATE_DIR,
    hardware: str = DEFAULT_HARDWARE,
) -> list[Path]:
    """Write the Space folder: template files, vendored kit modules, pack, adapter (and tiny base)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clear(out, SHIPPED_DIRS)
    render_space(
        render_values(pack, info, feedback),
        out,
        template_dir,
        TEMPLATE_FILES,
        verbatim=("app.py", "requirements.txt"),
        edit={"requirements.txt": lambda text: _requirements(text, pack, hardware)},
    )
    copy_vendored(out, vendored(template_dir / "app.py"))
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
        shutil.copytree(
            Path(info.base_path), out / "base", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    return rendered_files(out)


# ---- serving and pushing ---------------------------------------------------------------------------


@dataclass(kw_only=True)
class DemoSpace(GradioSpace):
    """The rendered demo Space and where its votes go."""

    feedback: Feedback

    label: ClassVar[str] = "demo Space"
    commit_message: ClassVar[str] = "KTO demo Space (ktokit demo-space)"

    def details(self) -> list[str]:
        torch_from = "torch from the CPU index" if is_cpu(self.hardware) else "torch from PyPI"
        return [*super().details(), torch_from]

    def own_lines(self) -> list[str]:
        feedback = self.feedback
        if not feedback.on:
            return [plan_line("secrets", "none"), plan_line("feedback", f"off: {feedback.why_off}")]
        return [
            plan_line(
                "secrets",
                f"{SECRET_NAME}  (the demo user {feedback.user}: admin of workspace {feedback.workspace} "
                "only, never shown)",
            ),
            plan_line(
                "feedback", f"on: votes go to {feedback.workspace}/{feedback.dataset} at {feedback.api_url}"
            ),
        ]

    def secrets(self) -> dict[str, str]:
        self.feedback.provision()
        return {SECRET_NAME: self.feedback.api_key} if self.feedback.api_key else {}

    def descriptions(self) -> dict[str, str]:
        return {SECRET_NAME: SECRET_DESCRIPTION}

    def patterns(self) -> list[str]:
        return [
            *(n for n in TEMPLATE_FILES if (self.out / n).is_file()),
            *(f"{d}/**" for d in SHIPPED_DIRS if (self.out / d).is_dir()),
        ]

    def notes(self) -> list[str]:
        if not self.feedback.private:
            return []
        return [
            "note: the annotation Space is private: add a Space secret HF_TOKEN (a read token with access "
            "to it) so votes get through"
        ]


def prepare_demo_space(
    language: str,
    adapter: str,
    base: str | None,
    options: SpaceOptions,
    output: str | None = None,
    mode: str = "arena",
) -> DemoSpace:
    """Render the Space folder (default outputs/<language>/demo-space) for `options` (checked already);
    `mode` is the blind arena (the default) or the named side-by-side view."""
    if mode not in MODES:
        raise KitError(f"--mode {mode!r}: one of {', '.join(MODES)}")
    pack = load_pack(language)
    info = adapter_info(adapter, base, pack.code)
    if options.space and not info.ship_base and Path(info.base_model).exists():
        raise KitError(
            f"the base model {info.base_model!r} is a local folder a Space cannot load: pass --base "
            "ORG/NAME (the same model on the Hub)"
        )
    feedback = feedback_target(pack.code, for_space=bool(options.space))
    out = Path(output or Path("outputs") / pack.code / "demo-space")
    return DemoSpace(
        out=out,
        files=render_demo_space(pack, info, feedback, out, hardware=options.hardware),
        variables=space_variables(pack, info, feedback, mode),
        feedback=feedback,
        repo_id=options.space,
        private=options.private,
        hardware=options.hardware,
        sleep_time=options.sleep_time,
    )
