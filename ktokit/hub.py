"""The thin layer between the kit and the Hugging Face Hub: find the token, check a repo id, explain a
failure, spell the Hub options as TRL does, write a dataset card's header, push a dataset.

The token comes from `HF_TOKEN` or the login cache (`hf auth login`), the places huggingface_hub
itself looks; it is passed on, never printed or written anywhere.
"""

from __future__ import annotations

import atexit
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ktokit.console import KitError, first_line, mask, say

if TYPE_CHECKING:
    from datasets import Dataset

LOGIN_HINT = "set HF_TOKEN or run `hf auth login`"
STATUS_HINTS = {
    401: f"the token is missing or invalid: {LOGIN_HINT}",
    403: "your token cannot write there: use a token with write access to that repo or org",
}
REPO_ID_HELP = "write ORG/NAME with letters, digits, '-', '_' and '.', e.g. my-org/haiku-es"
ALLOWED = re.compile(r"[A-Za-z0-9_.-]")
BOOL_WORDS = ("true", "false", "yes", "no", "1", "0")
# The kit's Hub options before it spelled them as TRL does (`--push_to_hub` a switch, `--hub_model_id`,
# `--hub_private_repo`); they keep working for one release, each with a notice. The same for YAML keys.
OLD_REPO_FLAGS = ("--push-to-hub", "--push_to_hub", "--hub_repo", "--hub-repo")
OLD_PRIVATE_FLAGS = ("--private", "--hub_private", "--hub-private")
NEW_REPO = "--push_to_hub --hub_model_id"
NEW_PRIVATE = "--hub_private_repo"


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


# ---- repo ids ---------------------------------------------------------------------------------------


def repo_id_problem(repo_id: str, *, bare_name: bool = False) -> str | None:
    """Why the Hub would refuse `repo_id`, in a few words (None when it would not).

    The decision is huggingface_hub's (`validate_repo_id`, its copy of the Hub's rule) plus the owner the
    kit always names (`bare_name`: a NAME alone is the user's own namespace, as TRL's `hub_model_id`
    allows); `_why` only puts the reason in plainer words than its one catch-all message.
    """
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if not isinstance(repo_id, str) or not repo_id:
        return "it is empty"
    if repo_id.count("/") != 1 and not (bare_name and "/" not in repo_id):
        return "it needs exactly one '/' between the owner and the name"
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        return _why(repo_id, exc)
    return None


def _why(repo_id: str, exc: Exception) -> str:
    parts = repo_id.split("/")
    bad = sorted({c for c in repo_id.replace("/", "") if not ALLOWED.fullmatch(c)})
    if not all(parts):
        return "the owner or the name is empty"
    if bad:
        return f"{', '.join(map(repr, bad))} {'is' if len(bad) == 1 else 'are'} not allowed"
    if any(len(part) > 96 for part in parts):
        return "the owner and the name have at most 96 characters each"
    if any(part[0] in "-." or part[-1] in "-." for part in parts):
        return "the owner and the name cannot start or end with '-' or '.'"
    if "--" in repo_id or ".." in repo_id:
        return "'--' and '..' are not allowed"
    if repo_id.endswith(".git"):
        return "it cannot end in '.git'"
    # a rule huggingface_hub added since: its own words, without the id it repeats at the end
    return re.sub(r":\s*'[^']*'\.?$", "", first_line(exc))


def is_hub_id(name: str) -> bool:
    """`name` is ORG/NAME as the Hub accepts it (rather than a local path)."""
    return repo_id_problem(name) is None


def check_repo_id(repo_id: str, flag: str = "--space", *, bare_name: bool = False) -> str:
    """`repo_id` itself, or one KitError line naming the option, what is wrong and how to write it: the
    kit's one check of a Space, dataset or model repo id, run before any work starts."""
    problem = repo_id_problem(repo_id, bare_name=bare_name)
    if problem:
        raise KitError(f"{flag} {repo_id!r} is not a repo id the Hub accepts: {problem}; {REPO_ID_HELP}")
    return repo_id


def check_hub_options(push_to_hub: bool, hub_model_id: str | None) -> None:
    """TRL's Hub options as preference_gen.py and export_kto.py take them, checked in their arguments'
    `__post_init__`, so a bad repo id is one line before any work."""
    if hub_model_id is not None:
        check_repo_id(hub_model_id, "--hub_model_id")
    if push_to_hub and not hub_model_id:
        raise KitError("--push_to_hub needs --hub_model_id ORG/NAME: the Hub dataset repo to push to")


def is_hub_target(target: str, flag: str = "--to") -> bool:
    """Folder or Hub repo? True for ORG/NAME the Hub accepts when no file or folder of that name is here
    (a new local folder is written ./org/name). Something shaped like ORG/NAME that the Hub refuses and
    that is not here is refused in one line, rather than quietly becoming a new local folder."""
    if Path(target).exists() or target.startswith((".", "/", "~")) or target.count("/") != 1:
        return False
    problem = repo_id_problem(target)
    if problem:
        raise KitError(
            f"{flag} {target!r} is not a repo id the Hub accepts: {problem}; {REPO_ID_HELP} "
            f"(or ./{target} for a new local folder)"
        )
    return True


# ---- TRL's spelling of the Hub options ------------------------------------------------------------------


def _deprecated(old: str, new: str) -> None:
    say(f"deprecated: {old}; write {new} (the old spelling stops working in the next release)")


def _is_repo(value: str) -> bool:
    return bool(value) and not value.startswith("-") and value.lower() not in BOOL_WORDS


def hub_aliases(argv: list[str]) -> list[str]:
    """`argv` with the kit's old Hub options spelled as TRL's, each old one noted on stderr:
    `--push_to_hub ORG/NAME` (or `--push-to-hub`, `--hub_repo`) becomes `--push_to_hub true --hub_model_id
    ORG/NAME`, and `--private` (or `--hub_private`) `--hub_private_repo BOOL` (true when no value follows).
    TRL's switch `--push_to_hub [true|false]` is left alone. Old keys of a `--config` file are read the
    same way, from a translated copy of it. The one rewriter of preference_gen.py, export_kto.py and
    train_kto.py."""
    out, i = [], 0
    while i < len(argv):
        flag, _, inline = argv[i].partition("=")
        following = argv[i + 1] if i + 1 < len(argv) and not inline else ""
        if flag in OLD_REPO_FLAGS and _is_repo(inline or following):
            value = inline or following
            _deprecated(f"{flag} {value}", f"{NEW_REPO} {value}")
            out += ["--push_to_hub", "true", "--hub_model_id", value]
            i += 1 if inline else 2
            continue
        if flag in OLD_PRIVATE_FLAGS:  # a switch then; TRL's option takes a value
            _deprecated(flag, NEW_PRIVATE)
            given = bool(inline) or following.lower() in BOOL_WORDS
            out += [NEW_PRIVATE + (f"={inline}" if inline else "")] + ([] if given else ["true"])
        elif flag == "--config" and following:
            out += ["--config", _translated_config(following)]
            i += 2
            continue
        else:
            out.append(argv[i])
        i += 1
    return out


def _translated_config(path: str) -> str:
    """`path`, or a temporary copy of it with the old Hub keys (`push_to_hub: ORG/NAME`, `hub_repo`,
    `private`, `hub_private`) spelled as TRL's, noted on stderr. The copy is removed when the process ends."""
    import yaml

    try:
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return path  # TRL's parser reports the file as it is
    if not isinstance(config, dict):
        return path
    changed = False
    for key in ("push_to_hub", "hub_repo"):
        value = config.get(key)
        if isinstance(value, str) and _is_repo(value):
            _deprecated(f"`{key}: {value}` in {path}", f"`push_to_hub: true` and `hub_model_id: {value}`")
            config.pop(key)
            config.update(push_to_hub=True, hub_model_id=value)
            changed = True
    for key in ("private", "hub_private"):
        if key in config:
            _deprecated(f"`{key}:` in {path}", "`hub_private_repo:`")
            config["hub_private_repo"] = config.pop(key)
            changed = True
    if not changed:
        return path
    handle, copy = tempfile.mkstemp(prefix="ktokit-config-", suffix=".yaml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        yaml.safe_dump(config, out, allow_unicode=True, sort_keys=False)
    atexit.register(lambda: Path(copy).unlink(missing_ok=True))
    return copy


# ---- failures -----------------------------------------------------------------------------------------


def hub_failures() -> tuple[type[BaseException], ...]:
    """The exceptions that mean a Hub call failed, as huggingface_hub raises them: an HTTP error status
    (`HfHubHTTPError`: RepositoryNotFoundError, GatedRepoError... are subclasses), a file not in the repo,
    an id it refuses, no token, offline mode, and its HTTP client's own errors (refused connection,
    timeout). Anything else is a bug of ours and keeps its traceback."""
    from huggingface_hub import errors

    return (
        errors.HfHubHTTPError,
        # the base error of the HTTP client huggingface_hub uses (httpx2 today), as its errors module names it
        getattr(errors, "HTTPError", errors.HfHubHTTPError),
        errors.EntryNotFoundError,
        errors.HFValidationError,
        errors.LocalTokenNotFoundError,
        errors.OfflineModeIsEnabled,
    )


def is_hub_failure(exc: BaseException) -> bool:
    return isinstance(exc, hub_failures())


def hub_error(action: str, exc: BaseException, *secrets: str | None) -> KitError:
    """One line for any Hub client failure (they raise many types): the HTTP status and what to do about
    it when known, with the token and any other secret masked."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    text = first_line(exc)
    hint = STATUS_HINTS.get(status) or (f"{LOGIN_HINT}, with write access" if "token" in text.lower() else "")
    where = f" (HTTP {status})" if status else ""
    message = f"{action} failed{where}: {type(exc).__name__}: {text}" + (f"; {hint}" if hint else "")
    return KitError(mask(message, (hf_token_quietly(), *secrets)))


# ---- dataset cards ---------------------------------------------------------------------------------------


def card_header(**metadata: Any) -> str:
    """A dataset card's YAML header, `---` lines included, written by huggingface_hub's `DatasetCardData`
    (quoting what YAML would misread, e.g. the language `no`) with the keys in the order given."""
    from huggingface_hub import DatasetCardData

    data = DatasetCardData(**metadata)
    return f"---\n{data.to_yaml(original_order=list(metadata))}\n---"


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
    except hub_failures() as exc:
        raise hub_error(f"pushing to {repo_id}", exc, token) from None
    return f"https://huggingface.co/datasets/{repo_id}"
