"""The dashboard Space: `space_template/dashboard/` rendered for a language, served here or pushed.

    python -m ktokit dashboard --language en --dry-run
    python -m ktokit dashboard --language en --serve 7861
    python -m ktokit dashboard --language en --space my-org/haiku-en-dashboard \
        [--backup-to my-org/haiku-backups]

Like the demo Space, the rendered folder carries the kit modules the app imports (ktokit.spaces.vendor
reads them off `app.py`). Its Argilla key is the dashboard user's (admin of the language's workspace
alone, never the owner), a Space secret. The backup it runs every `--backup-every` minutes goes to
`--backup-to`, by default a private Hub dataset `<org>/<dataset>-backups` next to the Space (a folder
when served here); on the Hub it needs a Space secret HF_TOKEN with write access to that repo: the
command sets it from $KTOKIT_BACKUP_TOKEN (make a fine-grained token for that one repo), never from
your own token.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ktokit.annotate import admin
from ktokit.annotate.credentials import ArgillaTarget, argilla_target
from ktokit.annotate.gold import key_workspace
from ktokit.annotate.roles import UserCredentials, ensure_user
from ktokit.console import KitError
from ktokit.demo.visitors import visitors_names
from ktokit.hub import is_hub_id, is_hub_target
from ktokit.packs.languages import load_pack
from ktokit.paths import CHECKOUT
from ktokit.spaces.gradio import PYTHON_VERSION, SECRET_NAME, GradioSpace
from ktokit.spaces.options import SpaceOptions
from ktokit.spaces.provision import plan_line
from ktokit.spaces.render import clear, render_space, rendered_files
from ktokit.spaces.vendor import copy_vendored, vendored

TEMPLATE_DIR = CHECKOUT / "space_template" / "dashboard"
TEMPLATE_FILES = ("README.md", "app.py", "requirements.txt")
BACKUP_TOKEN_ENV = "KTOKIT_BACKUP_TOKEN"
DEFAULT_BACKUP_EVERY = 30.0
SECRET_DESCRIPTION = (
    "API key of the dashboard user: admin of the language's workspace only (set by ktokit dashboard)"
)
BACKUP_TOKEN_DESCRIPTION = (
    f"write token for the backups repo only (from ${BACKUP_TOKEN_ENV}, set by ktokit dashboard)"
)


def dashboard_username(workspace: str) -> str:
    return f"{workspace}-dashboard".lower()


def dashboard_credentials(target: ArgillaTarget) -> UserCredentials:
    """The dashboard Space's user: admin of the annotation workspace alone.

    It must read every annotator's answers (progress, leaderboard, agreement, backup), and an annotator
    sees only its own, so the narrowest role that reads them all is an admin of the annotation workspace
    alone (not the owner: no other workspace, no users, no new datasets elsewhere), of the workspace
    of its gold key (ktokit.annotate.gold), to grade annotators on gold as `progress` does, and of the
    visitors' workspace (ktokit.demo.visitors; made now when no demo Space made it yet), for the arena's
    verdicts.
    """
    with admin.translated(f"cannot connect to the Argilla server at {target.api_url}"):
        owner = target.client()
    return ensure_user(
        owner.http_client,
        target.api_url,
        dashboard_username(target.workspace),
        "admin",
        [
            target.workspace,
            key_workspace(target.workspace),
            visitors_names(target.workspace, target.dataset)[0],
        ],
        headers=target.edge_headers(),
    )


def default_backup_to(target: ArgillaTarget, space: str | None, language: str) -> str:
    """A private Hub dataset next to the Space, or a folder when the dashboard runs here."""
    if space:
        return f"{space.split('/')[0]}/{target.dataset}-backups"
    return str(Path("outputs") / language / "backups")


def variables_for(
    target: ArgillaTarget, min_submitted: int | None, backup_to: str, every: float
) -> dict[str, str]:
    pack = load_pack(target.language)
    variables = {
        "LANGUAGE": target.language,
        # the page in the pack's own words: its name in its script, and its 👍 label
        "LANGUAGE_NAME": pack.native_name or pack.name,
        "LABEL_GOOD": pack.annotation.label_good,
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
    clear(out, ["ktokit"])
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
    render_space(values, out, TEMPLATE_DIR, TEMPLATE_FILES, verbatim=("app.py", "requirements.txt"))
    copy_vendored(out, vendored(TEMPLATE_DIR / "app.py"))
    return rendered_files(out)


@dataclass(kw_only=True)
class DashboardSpace(GradioSpace):
    """The rendered dashboard Space, the Argilla target it reads and where it backs up."""

    target: ArgillaTarget
    backup_to: str
    backup_note: str
    token: str = ""  # from $KTOKIT_BACKUP_TOKEN: the Space's HF_TOKEN, for the backups repo only

    label: ClassVar[str] = "dashboard"
    commit_message: ClassVar[str] = "Annotation dashboard (ktokit dashboard)"
    secrets_when_rendered: ClassVar[bool] = True

    def own_lines(self) -> list[str]:
        user, workspace = dashboard_username(self.target.workspace), self.target.workspace
        return [
            plan_line(
                "secrets",
                f"{SECRET_NAME} (the dashboard user {user}, admin of workspace {workspace}, its gold key's "
                f"and its visitors' only)"
                + (f", HF_TOKEN (from ${BACKUP_TOKEN_ENV})" if self.repo_id and self.token else "")
                + "; never shown",
            ),
            plan_line("backups", self.backup_note),
        ]

    def secrets(self) -> dict[str, str]:
        key = dashboard_credentials(self.target).api_key
        return {SECRET_NAME: key, **({"HF_TOKEN": self.token} if self.token else {})}

    def descriptions(self) -> dict[str, str]:
        return {SECRET_NAME: SECRET_DESCRIPTION, "HF_TOKEN": BACKUP_TOKEN_DESCRIPTION}

    def patterns(self) -> list[str]:
        return [*TEMPLATE_FILES, "ktokit/**"]

    def notes(self) -> list[str]:
        if self.token:
            return []
        return [
            "note: backups stay off until the Space has a secret HF_TOKEN with write access to "
            f"{self.backup_to} (a fine-grained token; set ${BACKUP_TOKEN_ENV} and rerun to have it set)"
        ]


def prepare_dashboard(
    language: str,
    options: SpaceOptions,
    *,
    output: str | None = None,
    backup_to: str | None = None,
    backup_every: float = DEFAULT_BACKUP_EVERY,
    min_submitted: int | None = None,
) -> DashboardSpace:
    """Render the Space folder (default outputs/<language>/dashboard-space) for checked `options`."""
    space = options.space
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
    return DashboardSpace(
        out=out,
        files=render_dashboard(target, out, backup_note=note, min_submitted=min_submitted),
        variables=variables_for(target, min_submitted, backup_to, backup_every),
        repo_id=space,
        private=options.private,
        hardware=options.hardware,
        sleep_time=options.sleep_time,
        target=target,
        backup_to=backup_to,
        backup_note=note,
        token=token,
    )
