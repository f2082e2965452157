"""The thin layer between the kit and the Hugging Face Hub: find the token, explain a failure, push a dataset.

The token comes from `HF_TOKEN` or the login cache (`hf auth login`), the places huggingface_hub
itself looks; it is passed on, never printed or written anywhere.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ktokit.console import KitError, first_line, mask

if TYPE_CHECKING:
    from datasets import Dataset

LOGIN_HINT = "set HF_TOKEN or run `hf auth login`"
STATUS_HINTS = {
    401: f"the token is missing or invalid: {LOGIN_HINT}",
    403: "your token cannot write there: use a token with write access to that repo or org",
}
# Modules whose exceptions are a Hub call failing (anything else is a bug of ours and keeps its traceback).
HUB_ERROR_MODULES = ("huggingface_hub", "requests", "httpx", "urllib3")
REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")


def hf_token() -> str | None:
    """The Hugging Face token from `HF_TOKEN` or the login cache; None when there is none."""
    from huggingface_hub import get_token

    return get_token() or None


def require_hf_token(why: str) -> str:
    """The token, or one KitError line saying what needed it and how to provide it."""
    token = hf_token()
    if not token:
        raise KitError(f"{why} needs a Hugging Face token: {LOGIN_HINT}")
    return token


def hf_token_quietly() -> str | None:
    """The token when one can be read, for masking; never an error."""
    try:
        return hf_token()
    except Exception:  # noqa: BLE001  (masking must not fail the message it protects)
        return None


def hf_api(why: str) -> Any:
    """An `HfApi` client with the user's token (one KitError line if there is none): the one way the kit
    gets a Hub client, so the tests can put their recording stand-in here."""
    from huggingface_hub import HfApi

    return HfApi(token=require_hf_token(why))


def check_repo_id(repo_id: str) -> str:
    if not REPO_ID_RE.match(repo_id or ""):
        raise KitError(f"--space must be ORG/NAME (letters, digits, '-', '_', '.'), got {repo_id!r}")
    return repo_id


def looks_like_hub_id(name: str) -> bool:
    """`org/name` rather than a local path (which may not exist yet)."""
    return name.count("/") == 1 and not name.startswith((".", "/", "~"))


def is_hub_failure(exc: BaseException) -> bool:
    return type(exc).__module__.startswith(HUB_ERROR_MODULES)


def hub_error(action: str, exc: BaseException, *secrets: str | None) -> KitError:
    """One line for any Hub client failure (they raise many types): the HTTP status and what to do about
    it when known, with the token and any other secret masked."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    text = first_line(exc)
    hint = STATUS_HINTS.get(status) or (f"{LOGIN_HINT}, with write access" if "token" in text.lower() else "")
    where = f" (HTTP {status})" if status else ""
    message = f"{action} failed{where}: {type(exc).__name__}: {text}" + (f"; {hint}" if hint else "")
    return KitError(mask(message, (hf_token_quietly(), *secrets)))


def push_dataset(dataset: Dataset, repo_id: str, card: str, *, private: bool, token: str) -> str:
    """Push `dataset` to `repo_id` and replace the generated README body with `card`; returns the URL.

    `push_to_hub` writes a card whose YAML header describes the data files; we keep that header
    (the Hub viewer needs it) and put our own text and metadata in it.
    """
    from huggingface_hub import DatasetCard

    try:
        dataset.push_to_hub(repo_id, private=private, token=token)
        hub_card = DatasetCard.load(repo_id, repo_type="dataset", token=token)
        ours = DatasetCard(card)
        for key, value in ours.data.to_dict().items():
            setattr(hub_card.data, key, value)
        hub_card.text = ours.text
        hub_card.push_to_hub(repo_id, repo_type="dataset", token=token)
    except Exception as exc:
        if is_hub_failure(exc):
            raise hub_error(f"pushing to {repo_id}", exc, token) from None
        raise
    return f"https://huggingface.co/datasets/{repo_id}"
