"""Where the Argilla server of each language is, so later steps need no flags.

`create_task.py` records, per language, which server holds its dataset: the local server (whose
credentials stay in the local server's own `credentials.json`, see `ktokit.annotate.argilla_local`), a
Space (whose owner credentials, generated here, live in `$KTOKIT_HOME/spaces/<owner>--<name>.json`), or
any Argilla server the campaign runs itself (`--server URL`: the key of an owner or admin, read from
`ARGILLA_API_KEY` and never from a flag, kept in `$KTOKIT_HOME/servers/<host>.json`);
`$KTOKIT_CONFIG_DIR` moves these files.
Every file is written 0600 and no function here prints a secret.

    from ktokit.annotate.credentials import argilla_target
    target = argilla_target("es")      # api_url, api_key, workspace, dataset
    client = target.client()
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ktokit.console import KitError
from ktokit.paths import kit_home, read_json, write_private

if TYPE_CHECKING:
    import argilla as rg

TARGETS_FILE = "argilla-targets.json"


def config_dir() -> Path:
    """`$KTOKIT_CONFIG_DIR`, else `$KTOKIT_HOME` (tests point it elsewhere without moving the server venv)."""
    return Path(os.environ.get("KTOKIT_CONFIG_DIR") or kit_home())


def targets_path() -> Path:
    return config_dir() / TARGETS_FILE


def space_credentials_path(repo_id: str) -> Path:
    return config_dir() / "spaces" / f"{repo_id.replace('/', '--')}.json"


def server_credentials_path(api_url: str) -> Path:
    """One file per server, named after its address (scheme, host, port and path made a file name)."""
    name = re.sub(r"[^A-Za-z0-9.-]+", "-", api_url.split("://", 1)[-1]).strip("-")
    return config_dir() / "servers" / f"{name}.json"


def _read(path: Path) -> dict[str, Any]:
    return read_json(path, "delete it and rerun create_task.py")


def load_space_credentials(repo_id: str) -> dict[str, Any]:
    return _read(space_credentials_path(repo_id))


def save_space_credentials(repo_id: str, creds: dict[str, Any]) -> Path:
    path = space_credentials_path(repo_id)
    write_private(path, creds)
    return path


KEY_ENV = "ARGILLA_API_KEY"


def server_url(url: str) -> str:
    """`--server URL` as the kit records it: http(s), no trailing slash; one line for anything else."""
    url = (url or "").strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise KitError(
            f"--server {url!r}: give the Argilla server's address, e.g. https://argilla.example.org"
        )
    return url


def open_server(url: str) -> ArgillaTarget:
    """Any Argilla server the campaign runs (`--server URL`), checked: it answers as Argilla, it takes the
    key, and the key is an owner's or admin's. The key comes from $ARGILLA_API_KEY (else the one stored by
    an earlier run) and is stored 0600 for later steps; no flag carries it, so it never lands in a
    shell's history."""
    from ktokit.annotate import admin

    api_url = server_url(url)
    where = f"the Argilla server at {api_url}"
    admin.argilla_version(api_url, where, "check the URL and that the server is running")
    path = server_credentials_path(api_url)
    key = os.environ.get(KEY_ENV) or _read(path).get("api_key")
    if not key:
        raise KitError(
            f"no key for {where}: set {KEY_ENV} to the API key of an owner or admin of it "
            "(Argilla > My settings) and rerun"
        )
    with admin.session(api_url, key) as http:
        admin.require_manager(http, where, KEY_ENV if os.environ.get(KEY_ENV) else str(path))
    write_private(path, {"api_url": api_url, "api_key": key})
    return ArgillaTarget(language="", kind="server", api_url=api_url, api_key=key, workspace="", dataset="")


def save_target(language: str, target: dict[str, Any]) -> Path:
    """Remember where `language`'s dataset lives: kind local (data_dir), space (repo_id) or server
    (api_url), plus names."""
    path = targets_path()
    targets = _read(path)
    targets[language] = target
    write_private(path, targets)
    return path


def recorded_languages() -> list[str]:
    """The languages create_task.py (or a restore) recorded a server for."""
    return sorted(_read(targets_path()))


@dataclass
class ArgillaTarget:
    """A server and the dataset of one language on it. `repr` hides the key."""

    language: str
    kind: str
    api_url: str
    api_key: str = field(repr=False)
    workspace: str
    dataset: str
    space: str | None = None
    private: bool = False

    @property
    def where(self) -> str:
        """The server, for messages."""
        if self.kind == "space":
            return f"the Space {self.space}"
        if self.kind == "server":
            return f"the Argilla server at {self.api_url}"
        return f"the local Argilla server ({self.api_url})"

    @property
    def unreachable_hint(self) -> str:
        """What to do when nothing answers there."""
        if self.kind == "space":
            return "check that the Space is running (a free Space sleeps after 48 h without visits)"
        if self.kind == "server":
            return "check that it is running and reachable from this machine"
        return "start it with `python -m ktokit argilla up`"

    def edge_headers(self) -> dict[str, str]:
        """What a private Space's edge checks before Argilla sees the request: the HF token."""
        if not self.private:
            return {}
        from ktokit.hub import require_hf_token

        return {"Authorization": f"Bearer {require_hf_token(f'the private Space {self.space}')}"}

    def client(self, timeout: int = 120) -> rg.Argilla:
        """An SDK client; a private Space also needs the HF token, which its edge checks first."""
        import argilla as rg

        return rg.Argilla(
            api_url=self.api_url, api_key=self.api_key, timeout=timeout, headers=self.edge_headers()
        )


def argilla_target(language: str, key: str | None = None, fix: str | None = None) -> ArgillaTarget:
    """Where `create_task.py --language LANGUAGE` put the dataset; one clear error if it never ran.

    Another dataset of the language is recorded under its own `key`, `<language>:<what>` (the review of
    its drafted pack: `pt:review`); `fix` then says which command records it.
    """
    target = _read(targets_path()).get(key or language)
    if not target:
        fix = fix or f"`python create_task.py --language {language} --local` (or --space ORG/NAME)"
        what = key.rsplit(":", 1)[-1] if key else "annotation"
        raise KitError(f"no {what} dataset recorded for {language!r}: run {fix} first")
    if target["kind"] == "local":
        from ktokit.annotate.argilla_local import local_credentials

        creds = local_credentials(target.get("data_dir"))
    elif target["kind"] == "server":
        creds = {"api_url": target["api_url"], **_read(server_credentials_path(target["api_url"]))}
        creds["api_key"] = creds.get("api_key") or os.environ.get(KEY_ENV)  # a machine that never stored it
        if not creds["api_key"]:
            raise KitError(
                f"no key for the Argilla server at {target['api_url']} on this machine: set {KEY_ENV} to "
                "the API key of an owner or admin of it"
            )
    else:
        creds = load_space_credentials(target["space"])
        if not creds:
            raise KitError(
                f"no credentials for the Space {target['space']} in {space_credentials_path(target['space'])}"
            )
    return ArgillaTarget(
        language=language,
        kind=target["kind"],
        api_url=creds["api_url"],
        api_key=creds["api_key"],
        workspace=target["workspace"],
        dataset=target["dataset"],
        space=target.get("space"),
        private=bool(target.get("private")),
    )
