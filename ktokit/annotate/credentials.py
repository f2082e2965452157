"""Where the Argilla server of each language is, so later steps need no flags.

`create_task.py` records, per language, which server holds its dataset: the local server (whose
credentials stay in the local server's own `credentials.json`, see `ktokit.annotate.argilla_local`) or a
Space (whose owner credentials, generated here, live in `$KTOKIT_HOME/spaces/<owner>--<name>.json`;
`$KTOKIT_CONFIG_DIR` moves both files).
Every file is written 0600 and no function here prints a secret.

    from ktokit.annotate.credentials import argilla_target
    target = argilla_target("es")      # api_url, api_key, workspace, dataset
    client = target.client()
"""

from __future__ import annotations

import os
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


def _read(path: Path) -> dict[str, Any]:
    return read_json(path, "delete it and rerun create_task.py")


def load_space_credentials(repo_id: str) -> dict[str, Any]:
    return _read(space_credentials_path(repo_id))


def save_space_credentials(repo_id: str, creds: dict[str, Any]) -> Path:
    path = space_credentials_path(repo_id)
    write_private(path, creds)
    return path


def save_target(language: str, target: dict[str, Any]) -> Path:
    """Remember where `language`'s dataset lives: kind local (data_dir) or space (repo_id), plus names."""
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
