"""The annotation Space: `space_template/argilla/` rendered for a language, its owner secrets, its plan.

What every Space shares (rendering, the Hub calls, waiting for it to run) is in ktokit.spaces; this is
what the annotation Space alone has: an Argilla image, the owner's secrets (set with
`add_space_secret`, never as variables, values never printed), storage for the annotations.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ktokit.console import KitError, say
from ktokit.hub import check_repo_id
from ktokit.packs.languages import LanguagePack
from ktokit.paths import CHECKOUT
from ktokit.spaces import provision, render
from ktokit.spaces.provision import DEFAULT_HARDWARE, Say, plan_line, space_lines, space_url

TEMPLATE_DIR = CHECKOUT / "space_template" / "argilla"
TEMPLATE_FILES = ("README.md", "Dockerfile", ".oauth.yaml")
ARGILLA_VERSION = "2.8.0"  # the image tag the Dockerfile pins; the kit's SDK is argilla==2.8.0
APP_PORT = 6900
SECRET_NAMES = ("API_KEY", "PASSWORD", "ARGILLA_AUTH_SECRET_KEY")
# The Space secrets' names (what the Argilla image reads) ↔ the keys of the stored owner credentials.
CREDENTIAL_KEYS = {"API_KEY": "api_key", "PASSWORD": "password", "ARGILLA_AUTH_SECRET_KEY": "auth_secret"}
SECRET_DESCRIPTIONS = {
    "API_KEY": "Argilla owner API key (set by ktokit create_task.py)",
    "PASSWORD": "Argilla owner password (set by ktokit create_task.py)",
    "ARGILLA_AUTH_SECRET_KEY": "signs Argilla sessions so sign-ins survive restarts",
}
STORAGE_CHOICES = ("none", "bucket")
NO_STORAGE_WARNING = (
    "WARNING: this Space has NO persistent storage. Every restart (a rebuild, a change of settings or "
    "secrets, Hub maintenance, sleeping after 48 h without visits) DELETES EVERY ANNOTATION. Back up often "
    "(`python -m ktokit backup`, or the dashboard Space's scheduled backup) or recreate the Space with "
    "--storage bucket."
)
# Bucket mounts have been seen owned by nobody:nogroup, mode 0755, while the Argilla image runs as the
# non-root `argilla` user: the server may be unable to write /data/argilla and never start.
BUCKET_WARNING = (
    "WARNING: --storage bucket is untested on a real Space: bucket mounts have been seen owned by "
    "nobody:nogroup (mode 0755) while Argilla runs as the non-root user `argilla`, so the server may be "
    "unable to write /data/argilla and never start. Do not rely on it alone: back up on a schedule with "
    "`python -m ktokit backup --language LANG --to ORG/REPO --only-if-changed` (e.g. from cron, or the "
    "dashboard Space's own schedule); `python -m ktokit restore` loads it back."
)
# Not yet seen to work here: until it is, a private annotation Space is a risk to announce to annotators.
PRIVATE_SIGN_IN_WARNING = (
    "WARNING: Hugging Face sign-in on private Argilla Spaces has had problems (argilla-io/argilla issue "
    '"Can\'t sign-in with Hugging Face on Spaces"): before announcing the campaign, check that an annotator '
    "who is not you can sign in; if not, make the Space public (the dataset stays private to its workspace)."
)


def check_storage(storage: str) -> str:
    if storage in ("small", "medium", "large"):
        raise KitError(
            f"--storage {storage}: the Hub replaced persistent-storage tiers with storage buckets; "
            "use --storage bucket (a private bucket mounted at /data)"
        )
    if storage not in STORAGE_CHOICES:
        raise KitError(f"--storage must be one of {', '.join(STORAGE_CHOICES)}, got {storage!r}")
    return storage


# ---- rendering -------------------------------------------------------------------------------------


def render_values(
    pack: LanguagePack, workspace: str, dataset: str, min_submitted: int, storage: str
) -> dict[str, str]:
    title = f"{pack.native_name or pack.name} {pack.task or 'KTO'} annotation"
    note = (
        "Data is kept in a storage bucket mounted at `/data` (not yet seen working on a real Space: "
        f"organisers back up with `python -m ktokit backup --language {pack.code}`)."
        if storage == "bucket"
        else "**This Space has no persistent storage: a restart loses every annotation. Organisers back up "
        f"often (`python -m ktokit backup --language {pack.code}`).**"
    )
    return {
        "title": title[:60],
        "short_description": f"Rate {pack.task or 'responses'} in {pack.name} with 👍/👎 (KTO)"[:60],
        "dataset_title": pack.annotation.dataset_title,
        "language": pack.code,
        "language_name": pack.name,
        "workspace": workspace,
        "dataset": dataset,
        "min_submitted": str(min_submitted),
        "storage_note": note,
        "argilla_version": ARGILLA_VERSION,
    }


def render_space(values: dict[str, str], out_dir: str | Path) -> list[Path]:
    """Write the annotation Space's files, placeholders filled in every one; returns their paths."""
    return render.render_space(values, out_dir, TEMPLATE_DIR, TEMPLATE_FILES)


# ---- the Hub --------------------------------------------------------------------------------------


def new_secrets() -> dict[str, str]:
    """Owner API key and password, and the session signing key (Argilla wants 8+ characters)."""
    return {
        "API_KEY": "ktokit-" + secrets.token_urlsafe(32),
        "PASSWORD": secrets.token_urlsafe(18),
        "ARGILLA_AUTH_SECRET_KEY": secrets.token_hex(32),
    }


def credentials_from_secrets(space_secrets: dict[str, str]) -> dict[str, str]:
    return {CREDENTIAL_KEYS[name]: value for name, value in space_secrets.items()}


def secrets_from_credentials(creds: dict[str, Any]) -> dict[str, str]:
    return {name: creds[key] for name, key in CREDENTIAL_KEYS.items()}


@dataclass
class SpacePlan:
    """What provisioning will do, printable as is: it holds secret names, never values."""

    repo_id: str
    private: bool
    storage: str
    files: list[Path]
    secret_names: tuple[str, ...] = SECRET_NAMES
    api_url: str = ""
    bucket: str | None = None
    hardware: str = DEFAULT_HARDWARE
    sleep_time: int | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        folder = self.files[0].parent if self.files else Path()
        secrets_note = "  (values generated locally, stored 0600, never shown)"
        return [
            *space_lines(self.repo_id, self.private, self.hardware, self.sleep_time, "docker", "HF sign-in"),
            plan_line("Argilla URL", self.api_url),
            plan_line("files", render.describe_files(folder, self.files)),
            plan_line("secrets", ", ".join(self.secret_names) + secrets_note),
            plan_line("storage", f"bucket {self.bucket} mounted at /data" if self.bucket else "none"),
            *self.notes,
        ]


def plan_space(
    repo_id: str,
    files: list[Path],
    private: bool = False,
    storage: str = "none",
    api_url: str | None = None,
    hardware: str = DEFAULT_HARDWARE,
    sleep_time: int | None = None,
) -> SpacePlan:
    check_repo_id(repo_id)
    check_storage(storage)
    plan = SpacePlan(
        repo_id=repo_id,
        private=private,
        storage=storage,
        files=files,
        api_url=(api_url or space_url(repo_id)).rstrip("/"),
        hardware=hardware,
        sleep_time=sleep_time,
    )
    if storage == "bucket":
        plan.bucket = f"{repo_id}-data"
        plan.notes.append(BUCKET_WARNING)
    else:
        plan.notes.append(NO_STORAGE_WARNING)
    if private:
        plan.notes.append(
            "private Space: the SDK and annotators need a Hugging Face token / sign-in to reach it"
        )
        plan.notes.append(PRIVATE_SIGN_IN_WARNING)
    return plan


def provision_space(
    api: Any, plan: SpacePlan, space_secrets: dict[str, str], say: Say = say, exists: bool | None = None
) -> bool:
    """Create the Space, set its secrets, attach storage and upload the files; True if it was created.

    An existing Space is reused as it is: uploading or changing secrets would restart it, and without
    persistent storage a restart loses every annotation. `exists`: already asked, don't ask again.
    """
    missing = [k for k in plan.secret_names if not space_secrets.get(k)]
    if missing:
        raise KitError(f"internal: no value for secret(s) {', '.join(missing)}")
    return provision.provision(
        api,
        plan.repo_id,
        plan.files[0].parent,
        [p.name for p in plan.files],
        sdk="docker",
        commit_message="Argilla annotation Space (ktokit create_task.py)",
        private=plan.private,
        hardware=plan.hardware,
        sleep_time=plan.sleep_time,
        secrets={name: space_secrets[name] for name in plan.secret_names},
        descriptions=SECRET_DESCRIPTIONS,
        bucket=plan.bucket,
        keep_existing=True,
        exists=exists,
        say=say,
    )


def wait_for_argilla(
    api_url: str, headers: dict[str, str] | None = None, timeout_s: float = 600.0, say: Say = say
) -> None:
    """A running Space still starts Elasticsearch and the server: wait until Argilla answers."""
    from ktokit.annotate import admin

    started = time.monotonic()
    while True:
        state = admin.probe(api_url, headers, timeout=15)
        if state is None:
            return
        if time.monotonic() - started > timeout_s:
            raise KitError(
                f"Argilla at {api_url} did not answer within {timeout_s:.0f} s ({state}); rerun later"
            )
        say(f"  waiting for Argilla at {api_url} ({state})")
        time.sleep(provision.POLL_S / 2)
