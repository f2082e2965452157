"""Narrow Argilla users for the Spaces the kit pushes: never the owner key outside this machine.

Stock Argilla 2.x has three roles: `owner` (everything), `admin` (everything inside the workspaces it
belongs to, deleting records and other users' responses included) and `annotator` (answers records,
sees only its own answers, cannot add records). Each Space gets a user of its own, with the narrowest
role in exactly the workspaces it needs (the Space's own module says which, and why).

Passwords and API keys are generated here, kept in `$KTOKIT_CONFIG_DIR/argilla-users.json` (0600, per
server URL) and never printed. A rerun reuses a user whose stored key still works.
"""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ktokit.annotate import admin
from ktokit.annotate.credentials import config_dir
from ktokit.console import KitError
from ktokit.paths import read_json, write_private

if TYPE_CHECKING:
    import argilla as rg
    import httpx

USERS_FILE = "argilla-users.json"


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
