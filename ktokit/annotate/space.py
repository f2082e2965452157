"""The annotation Space: render `space_template/argilla/` for a language, and the thin Hub layer over `HfApi`.

Everything that touches the Hub goes through an `HfApi`-like object passed in (the tests pass a
recording stand-in with the same method names). Secrets are set with `add_space_secret`, never as
variables, and their values are never printed: plans and progress name them only.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ktokit.console import KitError, say
from ktokit.hub import check_repo_id, hub_error, is_hub_failure
from ktokit.packs.languages import LanguagePack
from ktokit.paths import CHECKOUT

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
ERROR_STAGES = {
    "BUILD_ERROR",
    "CONFIG_ERROR",
    "RUNTIME_ERROR",
    "NO_APP_FILE",
    "DELETING",
    "STOPPED",
    "PAUSED",
}
NO_STORAGE_WARNING = (
    "WARNING: this Space has NO persistent storage. Every restart (a rebuild, a change of settings or "
    "secrets, Hub maintenance, sleeping after 48 h without visits) DELETES EVERY ANNOTATION. Back up often "
    "(`python -m ktokit backup`, or the dashboard Space's scheduled backup) or recreate the Space with --storage bucket."
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
POLL_S = 10.0  # seconds between two looks at the Space's stage
# Right after an upload a Docker Space can still report NO_APP_FILE (the Hub has not seen the new
# Dockerfile yet): that stage only counts as an error once this many seconds have passed.
NO_APP_FILE_GRACE_S = 120.0
PLACEHOLDER_RE = re.compile(r"\{\{(\w+)\}\}")

Say = Callable[[str], None]


def space_url(repo_id: str) -> str:
    """The Space's own domain, where Argilla answers: https://<owner>-<name>.hf.space."""
    slug = re.sub(r"[^a-z0-9-]", "-", repo_id.lower().replace("/", "-"))
    return f"https://{slug}.hf.space"


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
        else "**This Space has no persistent storage: a restart loses every annotation. Organisers back up often "
        f"(`python -m ktokit backup --language {pack.code}`).**"
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


def render_text(text: str, values: dict[str, str], where: str = "template") -> str:
    unknown = sorted(set(PLACEHOLDER_RE.findall(text)) - set(values))
    if unknown:
        raise KitError(f"{where}: unknown placeholder(s) {', '.join(unknown)}")
    return PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], text)


def render_space(
    values: dict[str, str], out_dir: str | Path, template_dir: Path = TEMPLATE_DIR
) -> list[Path]:
    """Write the rendered template files to `out_dir`; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in TEMPLATE_FILES:
        src = template_dir / name
        if not src.is_file():
            raise KitError(f"missing Space template file {src}")
        dst = out_dir / name
        dst.write_text(render_text(src.read_text(encoding="utf-8"), values, str(src)), encoding="utf-8")
        written.append(dst)
    return written


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
    hardware: str = "cpu-basic"
    sleep_time: int | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"Space        https://huggingface.co/spaces/{self.repo_id} ({'private' if self.private else 'public'}, "
            f"{self.hardware}, sdk docker, HF sign-in"
            + (f", sleep time {self.sleep_time} s" if self.sleep_time is not None else "")
            + ")",
            f"Argilla URL  {self.api_url}",
            "files        " + ", ".join(f"{p.name} ({p.stat().st_size} B)" for p in self.files),
            "secrets      "
            + ", ".join(self.secret_names)
            + "  (values generated locally, stored 0600, never shown)",
            "storage      " + (f"bucket {self.bucket} mounted at /data" if self.bucket else "none"),
        ]
        return out + self.notes


def plan_space(
    repo_id: str,
    files: list[Path],
    private: bool = False,
    storage: str = "none",
    api_url: str | None = None,
    hardware: str = "cpu-basic",
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
    try:
        if exists if exists is not None else api.repo_exists(plan.repo_id, repo_type="space"):
            say(f"Space {plan.repo_id} exists: reusing it (files and secrets left as they are)")
            return False
        say(f"Creating the Space {plan.repo_id} ...")
        api.create_repo(
            plan.repo_id,
            repo_type="space",
            space_sdk="docker",
            private=plan.private,
            exist_ok=True,
            space_hardware=plan.hardware,
            space_sleep_time=plan.sleep_time,
        )
        for name in plan.secret_names:  # before the first build, so the owner is created with them
            api.add_space_secret(
                plan.repo_id, name, space_secrets[name], description=SECRET_DESCRIPTIONS.get(name)
            )
            say(f"  secret {name} set")
        if plan.bucket:
            from huggingface_hub import Volume

            api.create_bucket(plan.bucket, private=True, exist_ok=True)
            api.set_space_volumes(
                plan.repo_id, [Volume(type="bucket", source=plan.bucket, mount_path="/data")]
            )
            say(f"  storage bucket {plan.bucket} mounted at /data")
        folder = plan.files[0].parent
        api.upload_folder(
            repo_id=plan.repo_id,
            repo_type="space",
            folder_path=str(folder),
            allow_patterns=[p.name for p in plan.files],
            commit_message="Argilla annotation Space (ktokit create_task.py)",
        )
        say(f"  uploaded {', '.join(p.name for p in plan.files)}")
    except KitError:
        raise
    except Exception as exc:  # huggingface_hub raises HTTP errors of several classes
        if is_hub_failure(exc):
            raise hub_error(f"setting up the Space {plan.repo_id}", exc, *space_secrets.values()) from None
        raise
    return True


def wait_until_running(
    api: Any,
    repo_id: str,
    timeout_s: float = 1200.0,
    poll_s: float | None = None,
    say: Say = say,
    no_app_file_grace_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Poll the Space's stage, saying each change with the time spent, until it runs; KitError otherwise.

    NO_APP_FILE counts as still starting for `no_app_file_grace_s` (default NO_APP_FILE_GRACE_S): a
    Space just uploaded can report it before the Hub sees its files. `clock`/`sleep`: for tests.
    """
    grace = NO_APP_FILE_GRACE_S if no_app_file_grace_s is None else no_app_file_grace_s
    started = clock()
    last = None
    while True:
        stage = str(getattr(api.get_space_runtime(repo_id), "stage", "") or "")
        stage = stage.split(".")[-1].upper()  # SpaceStage.RUNNING or "RUNNING"
        elapsed = clock() - started
        if stage != last:
            waiting = (
                f" (normal right after an upload; waiting up to {grace:.0f} s)"
                if stage == "NO_APP_FILE"
                else ""
            )
            say(f"  {elapsed:5.0f} s  {stage.lower().replace('_', ' ')}{waiting}")
            last = stage
        if stage == "RUNNING":
            return stage
        if stage == "NO_APP_FILE":
            if elapsed > grace:
                raise KitError(
                    f"the Space {repo_id} still has no app file after {elapsed:.0f} s (stage NO_APP_FILE): "
                    "check that its Dockerfile and README.md were uploaded at "
                    f"https://huggingface.co/spaces/{repo_id}/tree/main, then rerun"
                )
            sleep(POLL_S if poll_s is None else poll_s)
            continue
        if stage == "SLEEPING":
            raise KitError(
                f"the Space {repo_id} is sleeping: open https://huggingface.co/spaces/{repo_id} to wake "
                "it, then rerun (its data is gone unless it has storage)"
            )
        if stage in ERROR_STAGES:
            raise KitError(
                f"the Space {repo_id} stopped at {stage}: see the logs at "
                f"https://huggingface.co/spaces/{repo_id}?logs=container"
            )
        if elapsed > timeout_s:
            raise KitError(
                f"the Space {repo_id} was not running after {timeout_s:.0f} s (stage {stage}); "
                "rerun the same command later: it reuses the Space"
            )
        sleep(POLL_S if poll_s is None else poll_s)


def wait_for_argilla(
    api_url: str, headers: dict[str, str] | None = None, timeout_s: float = 600.0, say: Say = say
) -> None:
    """A running Space still starts Elasticsearch and the server: wait until Argilla answers."""
    import httpx

    started = time.monotonic()
    while True:
        try:
            r = httpx.get(
                f"{api_url}/api/v1/status", headers=headers or {}, timeout=15, follow_redirects=False
            )
            if r.status_code == 200:
                return
            state = f"HTTP {r.status_code}"
        except httpx.HTTPError as exc:
            state = type(exc).__name__
        if time.monotonic() - started > timeout_s:
            raise KitError(
                f"Argilla at {api_url} did not answer within {timeout_s:.0f} s ({state}); rerun later"
            )
        say(f"  waiting for Argilla at {api_url} ({state})")
        time.sleep(POLL_S / 2)
