"""Narrow Argilla users for the Spaces the kit pushes: never the owner key outside this machine.

Stock Argilla 2.x has three roles: `owner` (everything), `admin` (everything inside the workspaces it
belongs to, deleting records and other users' responses included) and `annotator` (answers records,
sees only its own answers, cannot add records). So a credential that can *add* records but cannot touch
annotators' answers must be an admin of a workspace that holds no annotator answers:

- the demo Space's user, `<workspace>-demo`, is an admin of `<workspace>-visitors` only, where the
  visitors' votes go, as records of the dataset `<dataset>-visitors` (the annotation task's settings,
  plus the visitor metadata). It is no member of the annotation workspace: it cannot read, add, change
  or delete anything there (tests/test_roles.py shows each refusal on a real server). The organiser
  rates those records later, or copies them into the annotation dataset.
- the dashboard Space's user, `<workspace>-dashboard`, must read every annotator's answers (progress,
  leaderboard, agreement, backup); an annotator sees only its own answers, so the narrowest role that
  reads them all is an admin of the annotation workspace alone (not the owner: no other workspace, no
  users, no new datasets elsewhere).

Passwords and API keys are generated here, kept in `$KTOKIT_CONFIG_DIR/argilla-users.json` (0600, per
server URL) and never printed. A rerun reuses a user whose stored key still works.
"""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ktokit.annotate import admin
from ktokit.annotate.credentials import ArgillaTarget, config_dir
from ktokit.console import KitError
from ktokit.paths import read_json, write_private

if TYPE_CHECKING:
    import argilla as rg
    import httpx

USERS_FILE = "argilla-users.json"
VISITORS_SUFFIX = "-visitors"
# What a visitor's vote adds to the task's metadata: hidden from annotators except the source, so the
# vote and the side (base or tuned) do not sway their own answer.
VISITOR_METADATA = (
    {"kind": "terms", "name": "source", "title": "source", "visible": True},
    {"kind": "terms", "name": "visitor_vote", "title": "visitor vote", "visible": False},
    {"kind": "terms", "name": "side", "title": "side", "visible": False},
    {"kind": "terms", "name": "compare", "title": "compare", "visible": False},
)


@dataclass
class UserCredentials:
    """One narrow user of one server; `repr` hides the secrets."""

    api_url: str
    username: str
    role: str
    workspaces: list[str]
    password: str = field(repr=False, default="")
    api_key: str = field(repr=False, default="")


def users_path():
    return config_dir() / USERS_FILE


def visitors_names(workspace: str, dataset: str) -> tuple[str, str]:
    """(workspace, dataset) where the demo Space's visitor votes go."""
    return f"{workspace}{VISITORS_SUFFIX}", f"{dataset}{VISITORS_SUFFIX}"


def demo_username(workspace: str) -> str:
    return f"{workspace}-demo".lower()


def dashboard_username(workspace: str) -> str:
    return f"{workspace}-dashboard".lower()


def _stored(api_url: str) -> dict[str, Any]:
    return read_json(users_path(), "delete it and rerun").get(api_url.rstrip("/"), {})


def _store(creds: UserCredentials) -> None:
    path = users_path()
    everything = read_json(path, "delete it and rerun")
    everything.setdefault(creds.api_url.rstrip("/"), {})[creds.username] = {
        "role": creds.role,
        "workspaces": creds.workspaces,
        "password": creds.password,
        "api_key": creds.api_key,
    }
    write_private(path, everything)


def _key_works(api_url: str, username: str, api_key: str, headers: dict[str, str]) -> bool:
    """Whether the server still takes `api_key` as `username`'s."""
    with admin.session(api_url, api_key, headers) as http:
        return (admin.me(http) or {}).get("username") == username


def ensure_user(
    owner: httpx.Client,
    api_url: str,
    username: str,
    role: str,
    workspaces: list[str],
    headers: dict[str, str] | None = None,
) -> UserCredentials:
    """A user with exactly this role in exactly these workspaces, created once; its stored key is reused.

    `owner` is the owner's HTTP client (an SDK client's `http_client`). A user of that name the kit holds
    no working key for is deleted and made again, but only when it has the kit's narrow role (an
    `annotator` of that name is somebody's account: refused, never deleted).
    """
    headers = headers or {}
    stored = _stored(api_url).get(username)
    user = admin.find_user(owner, username)
    if (
        user is not None
        and stored
        and stored.get("role") == role
        and _key_works(api_url, username, stored["api_key"], headers)
    ):
        creds = UserCredentials(
            api_url, username, role, list(workspaces), stored.get("password", ""), stored["api_key"]
        )
    else:
        if user is not None:
            if user["role"] != role:
                raise KitError(
                    f"the Argilla user {username!r} exists with role {user['role']}, not {role}: it is not "
                    "the kit's; rename or delete it, then rerun"
                )
            admin.delete_user(owner, user)  # the kit's own narrow user whose key is lost: it owns no answers
        password = secrets.token_urlsafe(18)
        user = admin.create_user(owner, username, password, role)
        api_key = admin.api_key_of(api_url, username, password, headers)
        creds = UserCredentials(api_url, username, role, list(workspaces), password, api_key)
    admin.set_workspaces(owner, user, workspaces)  # exactly these: another would widen the credential
    _store(creds)
    return creds


def find_dataset(client: rg.Argilla, name: str, workspace: str) -> rg.Dataset | None:
    """The dataset, or None when it or its workspace is missing (the SDK fails on a missing workspace)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = client.workspaces(name=workspace)
        return None if ws is None else client.datasets(name=name, workspace=ws)


def visitors_template(language: str, workspace: str, dataset: str, min_submitted: int):
    """The annotation task's template, renamed for the visitors' dataset and with the visitor metadata."""
    from ktokit.annotate.task import task_template
    from ktokit.packs.languages import load_pack

    ws, ds = visitors_names(workspace, dataset)
    template = task_template(load_pack(language), min_submitted=min_submitted, dataset=ds, workspace=ws)
    template.metadata = [*template.metadata, *(dict(m) for m in VISITOR_METADATA)]
    return template


def demo_credentials(target: ArgillaTarget) -> UserCredentials:
    """The demo Space's user: admin of the visitors' workspace only, whose dataset is made here (once)."""
    from ktokit.annotate.task import DEFAULT_MIN_SUBMITTED, ensure_dataset

    with admin.translated(f"cannot make the visitors' dataset on the Argilla server at {target.api_url}"):
        owner = target.client()
        annotation = find_dataset(owner, target.dataset, target.workspace)
        min_submitted = (
            annotation.settings.distribution.min_submitted
            if annotation is not None
            else DEFAULT_MIN_SUBMITTED
        )
        template = visitors_template(target.language, target.workspace, target.dataset, min_submitted)
        ensure_dataset(owner, template)
    return ensure_user(
        owner.http_client,
        target.api_url,
        demo_username(target.workspace),
        "admin",
        [template.workspace],
        headers=target.edge_headers(),
    )


def dashboard_credentials(target: ArgillaTarget) -> UserCredentials:
    """The dashboard Space's user: admin of the annotation workspace alone (reads every answer there)."""
    with admin.translated(f"cannot connect to the Argilla server at {target.api_url}"):
        owner = target.client()
    return ensure_user(
        owner.http_client,
        target.api_url,
        dashboard_username(target.workspace),
        "admin",
        [target.workspace],
        headers=target.edge_headers(),
    )
