"""Argilla administration: users, workspaces, API keys, the health probe and `/api/v1/me`.

One HTTP stack, httpx over Argilla's REST API. A caller that holds an SDK client passes its
`client.http_client` (the SDK's own httpx client: base URL, key, timeout and a private Space's edge
headers); the local server, and the checks made before an SDK client can exist, use `session`, a plain
httpx client with the same headers. Not the SDK's `User`/`Workspace` resources: they cannot change a
password or sign in as a new user, they warn on a missing user, an SDK client cannot even be made for a
key the server does not know (it checks the key when created), and importing the SDK costs the
`argilla status` command more than a second.

A failed call is one line: `argilla_error` is the kit's one translation of Argilla errors (httpx's,
the SDK's, HTTP status codes) into a `KitError`; every function here raises only that.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from ktokit.console import KitError, first_line

STATUS_PATH = "/api/v1/status"
API_KEY_HEADER = "X-Argilla-Api-Key"
PROBE_TIMEOUT_S = 10.0


# ---- errors -----------------------------------------------------------------------------------------


def _detail(response: httpx.Response) -> str:
    """What the server says went wrong: its `detail` (a text, or pydantic's list of errors), else the body."""
    try:
        detail = response.json()
    except ValueError:
        detail = response.text
    if isinstance(detail, dict):
        detail = detail.get("detail", detail)
    if isinstance(detail, dict) and isinstance(detail.get("params"), dict):  # {code, params: {detail}}
        detail = detail["params"].get("detail") or detail.get("code") or detail
    if isinstance(detail, list):
        detail = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return first_line(str(detail))[:300] if detail else ""


def _server(exc: httpx.HTTPError) -> str:
    try:
        url = exc.request.url
    except RuntimeError:  # an error raised before any request was made
        return "the Argilla server"
    return f"the Argilla server at {url.scheme}://{url.netloc.decode()}"


def _sdk() -> Any:
    """The SDK's exceptions, when the SDK is loaded (an SDK error needs it; importing it costs a second)."""
    return sys.modules.get("argilla._exceptions")


def _sdk_errors() -> tuple[type[BaseException], ...]:
    sdk = _sdk()
    return (sdk.ArgillaError,) if sdk else ()


def reason(exc: BaseException) -> str:
    """Why an Argilla call failed, in a few words: the server's own message, its HTTP status, or silence."""
    if isinstance(exc, httpx.HTTPStatusError):
        return _detail(exc.response) or f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TransportError):
        return f"no answer from {_server(exc)} ({first_line(exc)})"
    sdk = _sdk()
    if sdk and isinstance(exc, sdk.ArgillaCredentialsError | sdk.UnauthorizedError):
        return "the server refused the API key"
    if sdk and isinstance(exc, sdk.ArgillaAPIError):  # its message: "<what>. Details: <response body>"
        body = str(exc.args[0] if exc.args else "").partition("Details: ")[2]
        return _detail(httpx.Response(exc.status_code, text=body)) or f"HTTP {exc.status_code}"
    if sdk and isinstance(exc, sdk.ArgillaError) and exc.args:  # its str() starts "Argilla SDK error: ..."
        return first_line(str(exc.args[0]))
    return first_line(exc)


def argilla_error(exc: BaseException, doing: str, fix: str = "") -> KitError:
    """The one-line error for a failed Argilla call: what was being done, why it failed, how to fix it."""
    return KitError(f"{doing}: {reason(exc)}" + (f"; {fix}" if fix else ""))


@contextlib.contextmanager
def translated(doing: str, fix: str = "") -> Iterator[None]:
    """Inside, a failed Argilla call (an httpx or SDK error) becomes `argilla_error(exc, doing, fix)`."""
    try:
        yield
    except (httpx.HTTPError, *_sdk_errors()) as exc:
        raise argilla_error(exc, doing, fix) from None


# ---- requests ---------------------------------------------------------------------------------------


def session(
    api_url: str, api_key: str | None = None, headers: dict[str, str] | None = None, timeout: float = 30.0
) -> httpx.Client:
    """A plain httpx client for `api_url`, as the SDK makes one (its key header), without the SDK."""
    headers = dict(headers or {})
    if api_key:
        headers[API_KEY_HEADER] = api_key
    return httpx.Client(base_url=api_url.rstrip("/"), headers=headers, timeout=timeout)


def request(http: httpx.Client, method: str, path: str, doing: str, **kwargs: Any) -> Any:
    """One REST call: its JSON answer (None when empty); any failure is one line that starts with `doing`."""
    with translated(doing):
        response = http.request(method, path, **kwargs)
        response.raise_for_status()
    try:
        return response.json() if response.content else None
    except ValueError:
        raise KitError(f"{doing}: the answer is not JSON (HTTP {response.status_code})") from None


# ---- health -----------------------------------------------------------------------------------------


def _status(api_url: str, headers: dict[str, str] | None, timeout: float) -> httpx.Response:
    return httpx.get(
        f"{api_url.rstrip('/')}{STATUS_PATH}", headers=headers or {}, timeout=timeout, follow_redirects=False
    )


def probe(
    api_url: str, headers: dict[str, str] | None = None, timeout: float = PROBE_TIMEOUT_S
) -> str | None:
    """None when Argilla answers at `api_url`; else what came instead (`HTTP 503`, the connection error)."""
    try:
        response = _status(api_url, headers, timeout)
    except httpx.HTTPError as exc:
        return first_line(exc)
    return None if response.status_code == 200 else f"HTTP {response.status_code}"


def healthy(api_url: str, headers: dict[str, str] | None = None, timeout: float = 3.0) -> bool:
    return probe(api_url, headers, timeout) is None


def require_answer(
    api_url: str,
    where: str,
    fix: str = "",
    headers: dict[str, str] | None = None,
    timeout: float = PROBE_TIMEOUT_S,
) -> None:
    """Fail fast, in one line, when nothing answers at `api_url` (the SDK retries a dead server for minutes).

    Any HTTP answer passes: a private Space's edge refuses this probe without the HF token, and the
    client made next, which sends it, tells that failure better.
    """
    try:
        _status(api_url, headers, timeout)
    except httpx.HTTPError as exc:
        raise KitError(f"cannot reach {where}: {first_line(exc)}" + (f"; {fix}" if fix else "")) from None


def argilla_version(api_url: str, where: str, fix: str = "", headers: dict[str, str] | None = None) -> str:
    """The version of the Argilla server at `api_url`; one line when nothing, or something else, answers.

    A URL that answers but is not Argilla's (a proxy's page, the UI's address with a path) answers
    `/api/v1/status` with another status or with HTML: that is a wrong URL too, not a server error.
    """
    require_answer(api_url, where, fix, headers)
    response = _status(api_url, headers, PROBE_TIMEOUT_S)
    try:
        version = response.json().get("version") if response.status_code == 200 else None
    except (ValueError, AttributeError):
        version = None
    if not version:
        raise KitError(
            f"{api_url} is not an Argilla server (HTTP {response.status_code} on {STATUS_PATH}, no version): "
            "give the address Argilla's sign-in page is at, without a path"
        )
    return str(version)


# ---- users and keys ---------------------------------------------------------------------------------


def me(http: httpx.Client) -> dict[str, Any] | None:
    """The user the client's key belongs to (`/api/v1/me`), or None when the server does not take the key."""
    with translated("cannot ask the Argilla server whose key this is"):
        response = http.get("/api/v1/me")
    return response.json() if response.status_code == 200 else None


MANAGING_ROLES = ("owner", "admin")


def require_manager(http: httpx.Client, where: str, key_from: str) -> dict[str, Any]:
    """The user behind the client's key, who must be an owner or an admin (they make datasets and read every
    annotator's answers); one line when the server refuses the key or it is an annotator's."""
    user = me(http)
    if user is None:
        raise KitError(
            f"{where} refused the key in {key_from}: set it to the API key of an owner or admin of that "
            "server (Argilla > My settings)"
        )
    if user.get("role") not in MANAGING_ROLES:
        raise KitError(
            f"the key in {key_from} is {user.get('username')!r}'s, an {user.get('role')} on {where}: "
            "the kit needs an owner's or admin's key (annotators cannot make datasets or read others' "
            "answers)"
        )
    return user


def users(http: httpx.Client) -> list[dict[str, Any]]:
    return request(http, "GET", "/api/v1/users", "cannot list the Argilla users")["items"]


def find_user(http: httpx.Client, username: str) -> dict[str, Any] | None:
    return next((u for u in users(http) if u["username"] == username), None)


def create_user(
    http: httpx.Client, username: str, password: str, role: str = "annotator", *, doing: str | None = None
) -> dict[str, Any]:
    """The one way the kit creates an Argilla user; refused (one line) when the name is taken."""
    body = {"username": username, "first_name": username, "password": password, "role": role}
    return request(
        http, "POST", "/api/v1/users", doing or f"cannot create the Argilla user {username!r}", json=body
    )


def delete_user(http: httpx.Client, user: dict[str, Any]) -> None:
    request(
        http, "DELETE", f"/api/v1/users/{user['id']}", f"cannot delete the Argilla user {user['username']!r}"
    )


def set_password(http: httpx.Client, user: dict[str, Any], password: str) -> None:
    request(
        http,
        "PATCH",
        f"/api/v1/users/{user['id']}",
        f"cannot reset the password of {user['username']!r}",
        json={"password": password},
    )


def api_key_of(api_url: str, username: str, password: str, headers: dict[str, str] | None = None) -> str:
    """A user's API key, as the user itself reads it after signing in with its password."""
    doing = f"cannot sign in to Argilla as {username!r}"
    with session(api_url, headers=headers) as http:
        form = {"username": username, "password": password}
        token = request(http, "POST", "/api/v1/token", doing, data=form)["access_token"]
        signed_in = request(http, "GET", "/api/v1/me", doing, headers={"Authorization": f"Bearer {token}"})
    return signed_in["api_key"]


# ---- workspaces -------------------------------------------------------------------------------------


def workspaces(http: httpx.Client) -> list[dict[str, Any]]:
    """The workspaces the client's user belongs to (every workspace, for the owner)."""
    return request(http, "GET", "/api/v1/me/workspaces", "cannot list the Argilla workspaces")["items"]


def ensure_workspace(http: httpx.Client, name: str, *, doing: str | None = None) -> dict[str, Any]:
    """The workspace `name`, created when missing. (`ktokit.annotate.task.ensure_workspace` is the SDK's
    counterpart, for an SDK workspace object: the demo Space ships task.py, and nothing of this module.)"""
    found = next((w for w in workspaces(http) if w["name"] == name), None)
    doing = doing or f"cannot create the Argilla workspace {name!r}"
    return found or request(http, "POST", "/api/v1/workspaces", doing, json={"name": name})


def workspace_users(http: httpx.Client, workspace_id: str) -> list[dict[str, Any]]:
    path = f"/api/v1/workspaces/{workspace_id}/users"
    return request(http, "GET", path, "cannot list the members of an Argilla workspace")["items"]


def add_to_workspace(
    http: httpx.Client, workspace_id: str, user_id: str, *, doing: str | None = None
) -> None:
    doing = doing or "cannot add a user to an Argilla workspace"
    request(http, "POST", f"/api/v1/workspaces/{workspace_id}/users", doing, json={"user_id": str(user_id)})


def set_workspaces(http: httpx.Client, user: dict[str, Any], names: Iterable[str]) -> None:
    """`user` a member of exactly these workspaces (created when missing): another would widen its key."""
    wanted = {ensure_workspace(http, name)["id"] for name in names}
    path = f"/api/v1/users/{user['id']}/workspaces"
    has = {w["id"] for w in request(http, "GET", path, "cannot list a user's Argilla workspaces")["items"]}
    for workspace_id in sorted(wanted - has):
        add_to_workspace(http, workspace_id, user["id"])
    for workspace_id in sorted(has - wanted):
        doing = f"cannot take {user['username']!r} out of an Argilla workspace"
        request(http, "DELETE", f"/api/v1/workspaces/{workspace_id}/users/{user['id']}", doing)


def usernames(http: httpx.Client, workspace_id: str) -> dict[str, str]:
    """User id -> username of everyone who may have answered in the workspace: every user for the owner,
    the workspace's members for its admin (the dashboard's user may not list every user)."""
    found = users(http) if (me(http) or {}).get("role") == "owner" else workspace_users(http, workspace_id)
    return {str(u["id"]): u["username"] for u in found}


def ensure_annotators(
    http: httpx.Client, usernames: Iterable[str], workspace_id: str
) -> tuple[dict[str, str], list[str]]:
    """username -> user id, each a member of the workspace; a missing annotator is created with a random
    password nobody is told (they sign in with Hugging Face, or get a new one). Also the names created."""
    usernames = set(usernames)
    known = {u["username"]: u["id"] for u in users(http)}
    members = {u["id"] for u in workspace_users(http, workspace_id)}
    created = []
    for name in sorted(usernames):
        if name not in known:
            known[name] = create_user(http, name, secrets.token_urlsafe(18), "annotator")["id"]
            created.append(name)
        if known[name] not in members:
            add_to_workspace(http, workspace_id, known[name])
    return {name: known[name] for name in usernames}, created
