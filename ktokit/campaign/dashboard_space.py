"""The dashboard Space: render `space_template/dashboard/` for a language, serve it, or push it.

    python -m ktokit dashboard --language en --dry-run
    python -m ktokit dashboard --language en --serve 7861
    python -m ktokit dashboard --language en --space my-org/haiku-en-dashboard [--backup-to my-org/haiku-backups]

Like the demo Space (ktokit.demo.space, whose rendering helpers, Hub push and serving it reuses), the
rendered folder carries the kit modules the app imports (`VENDORED`). Its Argilla key is the dashboard
user's (ktokit.annotate.roles: admin of the language's workspace alone, never the owner), a Space secret.
The backup it runs every `--backup-every` minutes goes to `--backup-to`, by default a private Hub
dataset `<org>/<dataset>-backups` next to the Space (a folder when served here); on the Hub it needs a
Space secret HF_TOKEN with write access to that repo: the command sets it from $KTOKIT_BACKUP_TOKEN
(make a fine-grained token for that one repo), never from your own token.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ktokit.annotate.credentials import ArgillaTarget, argilla_target
from ktokit.annotate.roles import dashboard_credentials, dashboard_username
from ktokit.annotate.space import render_text
from ktokit.console import KitError, say
from ktokit.demo.space import (
    GRADIO_VERSION,
    PYTHON_VERSION,
    SECRET_NAME,
    copy_vendored,
    describe_files,
    provision_demo_space,
    serve,
)
from ktokit.hub import (
    DEFAULT_HARDWARE,
    check_hardware,
    check_repo_id,
    check_sleep_time,
    is_hub_id,
    is_hub_target,
)
from ktokit.packs.languages import load_pack
from ktokit.paths import CHECKOUT

TEMPLATE_DIR = CHECKOUT / "space_template" / "dashboard"
TEMPLATE_FILES = ("README.md", "app.py", "requirements.txt")
# What app.py imports, directly or through each other, relative to ktokit/ (tests check the app runs on it).
VENDORED = (
    "__init__.py",
    "console.py",
    "paths.py",
    "hub.py",
    "kto_format.py",
    "packs",
    "annotate/__init__.py",
    "annotate/task.py",
    "annotate/credentials.py",
    "annotate/roles.py",
    "export/__init__.py",
    "export/read.py",
    "export/aggregate.py",
    "export/summary.py",
    "campaign/__init__.py",
    "campaign/progress.py",
    "campaign/backup.py",
    "campaign/dashboard.py",
    "campaign/visitors.py",
)
BACKUP_TOKEN_ENV = "KTOKIT_BACKUP_TOKEN"
DEFAULT_BACKUP_EVERY = 30.0
SECRET_DESCRIPTION = (
    "API key of the dashboard user: admin of the language's workspace only (set by ktokit dashboard)"
)


def default_backup_to(target: ArgillaTarget, space: str | None, language: str) -> str:
    """A private Hub dataset next to the Space, or a folder when the dashboard runs here."""
    if space:
        return f"{space.split('/')[0]}/{target.dataset}-backups"
    return str(Path("outputs") / language / "backups")


def variables_for(
    target: ArgillaTarget, min_submitted: int | None, backup_to: str, every: float
) -> dict[str, str]:
    variables = {
        "LANGUAGE": target.language,
        "ARGILLA_API_URL": target.api_url,
        "ARGILLA_WORKSPACE": target.workspace,
        "ARGILLA_DATASET": target.dataset,
        "BACKUP_REPO": backup_to,
        "BACKUP_EVERY_MIN": f"{every:g}",
    }
    if target.space:
        variables["ANNOTATION_SPACE"] = target.space
    if target.private:
        variables["ARGILLA_PRIVATE"] = "1"
    if min_submitted:
        variables["MIN_SUBMITTED"] = str(min_submitted)
    return variables


def render_dashboard(
    target: ArgillaTarget, out_dir: str | Path, *, backup_note: str, min_submitted: int | None
) -> list[Path]:
    """Write the Space folder: the template files (README rendered) and the vendored kit modules."""
    pack = load_pack(target.language)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if (out / "ktokit").is_dir():  # only what a previous render wrote
        shutil.rmtree(out / "ktokit")
    values = {
        "title": f"{pack.name} annotation dashboard"[:60],
        "language": pack.code,
        "language_name": pack.name,
        "short_description": f"Progress and backups of the {pack.name} KTO annotation"[:60],
        "workspace": target.workspace,
        "dataset": target.dataset,
        "python_version": PYTHON_VERSION,
        "min_submitted": str(min_submitted or "the dataset's"),
        "backup_note": backup_note,
    }
    for name in TEMPLATE_FILES:
        src = TEMPLATE_DIR / name
        if not src.is_file():
            raise KitError(f"missing dashboard Space template file {src}")
        text = src.read_text(encoding="utf-8")
        (out / name).write_text(
            render_text(text, values, str(src)) if name == "README.md" else text, encoding="utf-8"
        )
    copy_vendored(out, VENDORED)
    return sorted(p for p in out.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def dashboard(
    language: str,
    *,
    space: str | None = None,
    private: bool = False,
    hardware: str | None = None,
    sleep_time: int | None = None,
    dry_run: bool = False,
    serve_port: int | None = None,
    output: str | None = None,
    backup_to: str | None = None,
    backup_every: float = DEFAULT_BACKUP_EVERY,
    min_submitted: int | None = None,
) -> int:
    """`python -m ktokit dashboard`: render the Space, then print its plan, serve it, or push it."""
    hardware = check_hardware(hardware or DEFAULT_HARDWARE)
    check_sleep_time(sleep_time, hardware)
    if space:
        check_repo_id(space)
    if serve_port is not None and not 0 < serve_port < 65536:
        raise KitError(f"--serve takes a port number (1-65535), got {serve_port}")
    if backup_every <= 0:
        raise KitError(f"--backup-every is minutes between backups (> 0), got {backup_every:g}")
    target = argilla_target(language)
    if space and target.kind == "local":
        raise KitError(
            f"the annotation server of {language!r} is a local one, which a Space cannot reach: serve "
            "the dashboard here (--serve PORT), or create the task on a Space"
        )
    backup_to = backup_to or default_backup_to(target, space, language)
    if space and not is_hub_id(backup_to):
        raise KitError(f"--backup-to {backup_to!r}: a Space can only back up to a Hub dataset repo ORG/NAME")
    token = os.environ.get(BACKUP_TOKEN_ENV, "")
    on_hub = is_hub_target(backup_to, "--backup-to")
    if space and not token:
        note = (
            f"every {backup_every:g} min to the private Hub dataset {backup_to} once the Space has a secret "
            f"HF_TOKEN with write access to it (set ${BACKUP_TOKEN_ENV} and rerun, or add it by hand)"
        )
    else:
        where = f"the private Hub dataset {backup_to}" if on_hub else f"the folder {backup_to}"
        note = f"every {backup_every:g} min, when something changed, to {where}"
    out = Path(output or Path("outputs") / language / "dashboard-space")
    files = render_dashboard(target, out, backup_note=note, min_submitted=min_submitted)
    variables = variables_for(target, min_submitted, backup_to, backup_every)
    user = dashboard_username(target.workspace)
    lines = []
    if space:
        lines.append(
            f"Space        https://huggingface.co/spaces/{space} ({'private' if private else 'public'}, "
            f"{hardware}, sdk gradio {GRADIO_VERSION}, python {PYTHON_VERSION}"
            + (f", sleep time {sleep_time} s" if sleep_time is not None else "")
            + ")"
        )
    lines += [
        f"rendered     {out}/",
        f"files        {describe_files(out, files)}",
        "variables    " + ", ".join(f"{k}={v}" for k, v in variables.items()),
        f"secrets      ARGILLA_API_KEY (the dashboard user {user}, admin of workspace {target.workspace} only)"
        + (f", HF_TOKEN (from ${BACKUP_TOKEN_ENV})" if space and token else "")
        + "; never shown",
        f"backups      {note}",
    ]
    for line in lines:
        print(line)
    if dry_run:
        return 0
    key = dashboard_credentials(target).api_key
    if serve_port is not None:
        extra = {"HF_TOKEN": token} if token else {}
        return serve(out, variables, {SECRET_NAME: key, **extra}, serve_port)
    if not space:
        print("rendered only: serve it with --serve PORT, or push it with --space ORG/NAME")
        return 0
    from ktokit.hub import hf_api

    api = hf_api(f"creating the Space {space}")
    if not token:
        say(
            f"note: backups stay off until the Space has a secret HF_TOKEN with write access to {backup_to} "
            f"(a fine-grained token; set ${BACKUP_TOKEN_ENV} and rerun to have it set)"
        )
    secrets = {SECRET_NAME: key, **({"HF_TOKEN": token} if token else {})}
    url = provision_demo_space(
        api,
        space,
        out,
        variables,
        secrets,
        private=private,
        hardware=hardware,
        sleep_time=sleep_time,
        patterns=[*TEMPLATE_FILES, "ktokit/**"],
        commit_message="Annotation dashboard (ktokit dashboard)",
        secret_description=SECRET_DESCRIPTION,
    )
    print(f"dashboard    {url} (it builds for a few minutes; logs: {url}?logs=build)")
    return 0
