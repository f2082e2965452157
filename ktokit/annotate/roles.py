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

import httpx

from ktokit.annotate.credentials import config_dir
from ktokit.console import KitError
from ktokit.paths import read_json, write_private

if TYPE_CHECKING:
    import argilla as rg

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


def _me(api_url: str, api_key: str, headers: dict[str, str]) -> dict[str, Any] | None:
    """The user an API key belongs to, or None when the server does not know the key."""
    try:
        response = httpx.get(
            f"{api_url.rstrip('/')}/api/v1/me", timeout=30, headers={**headers, "X-Argilla-Api-Key": api_key}
        )
    except httpx.HTTPError as exc:
        raise KitError(f"cannot reach the Argilla server at {api_url} ({type(exc).__name__})") from None
    return response.json() if response.status_code == 200 else None


def _api_key_of(api_url: str, username: str, password: str, headers: dict[str, str]) -> str:
    """A new user's API key, as the user itself reads it after signing in."""
    base = api_url.rstrip("/")
    token = httpx.post(
        f"{base}/api/v1/token", data={"username": username, "password": password}, timeout=30, headers=headers
    )
    token.raise_for_status()
    me = httpx.get(
        f"{base}/api/v1/me",
        timeout=30,
        headers={**headers, "Authorization": f"Bearer {token.json()['access_token']}"},
    )
    me.raise_for_status()
    return me.json()["api_key"]


def _workspace(client: rg.Argilla, name: str) -> rg.Workspace:
    from ktokit.annotate.task import ensure_workspace

    return ensure_workspace(client, name)


def ensure_user(
    owner: rg.Argilla,
    api_url: str,
    username: str,
    role: str,
    workspaces: list[str],
    headers: dict[str, str] | None = None,
) -> UserCredentials:
    """A user with exactly this role in exactly these workspaces, created once; its stored key is reused.

    A user of that name the kit holds no working key for is deleted and made again, but only when it has
    the kit's narrow role (an `annotator` of that name is somebody's account: refused, never deleted).
    """
    import argilla as rg

    headers = headers or {}
    stored = _stored(api_url).get(username)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        user = owner.users(username=username)
    if (
        user is not None
        and stored
        and stored.get("role") == role
        and (_me(api_url, stored["api_key"], headers) or {}).get("username") == username
    ):
        creds = UserCredentials(
            api_url, username, role, list(workspaces), stored.get("password", ""), stored["api_key"]
        )
    else:
        if user is not None:
            has = str(getattr(user.role, "value", user.role))
            if has != role:
                raise KitError(
                    f"the Argilla user {username!r} exists with role {has}, not {role}: it is not "
                    "the kit's; rename or delete it, then rerun"
                )
            user.delete()  # the kit's own narrow user whose key is lost: it owns no answers
        password = secrets.token_urlsafe(18)
        user = rg.User(
            username=username, first_name=username, password=password, role=role, client=owner
        ).create()
        creds = UserCredentials(
            api_url,
            username,
            role,
            list(workspaces),
            password,
            _api_key_of(api_url, username, password, headers),
        )
    for name in workspaces:
        _workspace(owner, name)
    for workspace in owner.workspaces:  # exactly these: a workspace added by hand would widen the credential
        member = username in {u.username for u in workspace.users}
        if workspace.name in workspaces and not member:
            workspace.add_user(user)
        elif workspace.name not in workspaces and member:
            workspace.remove_user(user)
    _store(creds)
    return creds


def find_dataset(client: rg.Argilla, name: str, workspace: str) -> rg.Dataset | None:
    """The dataset, or None when it or its workspace is missing (the SDK fails on a missing workspace)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = client.workspaces(name=workspace)
        return None if ws is None else client.datasets(name=name, workspace=ws)
