"""The thin layer between the kit and the Hugging Face Hub: find the token, push a dataset with its card.

The token comes from `HF_TOKEN` or the login cache (`hf auth login`), the places huggingface_hub
itself looks; it is passed on, never printed or written anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ktokit.errors import KitError

if TYPE_CHECKING:
    from datasets import Dataset

LOGIN_HINT = "set HF_TOKEN or run `hf auth login`"


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


def hub_error(action: str, exc: Exception, token: str | None = None) -> KitError:
    """One line for any Hub client failure (they raise many types), with the token masked."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if token:
        text = text.replace(token, "***")
    lowered = text.lower()
    hint = f" ({LOGIN_HINT}, with write access)" if "401" in text or "403" in text or "token" in lowered else ""
    return KitError(f"{action} failed: {type(exc).__name__}: {text}{hint}")


def push_folder(folder: str | Path, repo_id: str, *, repo_type: str = "model", private: bool = False,
                token: str | None = None, commit_message: str = "ktokit upload") -> str:
    """Upload a folder to a Hub repo (created if needed); returns its URL. The token is never shown."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type=repo_type,
                          commit_message=commit_message,
                          ignore_patterns=["checkpoint-*", "checkpoint-*/**", "runs/**"])
    except Exception as exc:  # noqa: BLE001  (the Hub client raises many types; the user needs one line)
        raise hub_error(f"push to the Hub repo {repo_id!r}", exc, token) from None
    prefix = "" if repo_type == "model" else f"{repo_type}s/"
    return f"https://huggingface.co/{prefix}{repo_id}"


def push_dataset(dataset: Dataset, repo_id: str, card: str, *, private: bool, token: str) -> str:
    """Push `dataset` to `repo_id` and replace the generated README body with `card`; returns the URL.

    `push_to_hub` writes a card whose YAML header describes the data files; we keep that header
    (the Hub viewer needs it) and put our own text and metadata in it.
    """
    from huggingface_hub import DatasetCard
    from huggingface_hub.errors import HfHubHTTPError

    try:
        dataset.push_to_hub(repo_id, private=private, token=token)
        hub_card = DatasetCard.load(repo_id, repo_type="dataset", token=token)
        ours = DatasetCard(card)
        for key, value in ours.data.to_dict().items():
            setattr(hub_card.data, key, value)
        hub_card.text = ours.text
        hub_card.push_to_hub(repo_id, repo_type="dataset", token=token)
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise KitError(f"pushing to {repo_id} failed (HTTP {status}): check the repo name and that your "
                       "token has write access") from None
    return f"https://huggingface.co/datasets/{repo_id}"
