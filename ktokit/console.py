"""The one console and error layer: what every command prints, and how it fails.

Results go to stdout, progress and notes to stderr (`say`). A problem the user can fix is a
`KitError`; every command (`python -m ktokit ...` and the four entry scripts) runs through
`run_command`, so such a problem is always one line, `error: <what, and how to fix it>`, with exit
status 2, never a traceback. Secrets are masked in one place (`mask`) before any message is shown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import MISSING, field
from typing import Any

EXIT_USER_ERROR = 2  # a KitError: bad input, missing prerequisite, refused request
EXIT_INTERRUPTED = 130  # Ctrl+C, as a shell reports it
TAG = "[ktokit]"


class KitError(Exception):
    """A problem the user can fix; the message says what is wrong and how to fix it."""


def say(message: str, *, tag: bool = False) -> None:
    """Progress and notes on stderr, from the main process only (accelerate sets RANK).

    `tag` starts the line with [ktokit], for commands where other libraries log to stderr too (training).
    """
    if int(os.environ.get("RANK", "0") or 0) == 0:
        print(f"{TAG} {message}" if tag else message, file=sys.stderr, flush=True)


def mask(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every non-empty secret replaced by ***: the one place secrets are taken out of messages."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def first_line(error: BaseException | str) -> str:
    """The first non-empty line of an error (libraries raise multi-line messages); its type if it has none."""
    text = str(error).strip()
    if text:
        return text.splitlines()[0]
    return type(error).__name__ if isinstance(error, BaseException) else ""


def error_line(message: str, secrets: Iterable[str | None] = ()) -> str:
    """How every command shows a user error."""
    return f"error: {mask(message, secrets)}"


def run_command(body: Callable[[], int | None], *, interrupted: str = "interrupted") -> int:
    """Run one command and return its exit status: 2 with one `error:` line for a user error, 130 on Ctrl+C."""
    try:
        return body() or 0
    except KitError as exc:
        print(error_line(str(exc)), file=sys.stderr)
        return EXIT_USER_ERROR
    except FileNotFoundError as exc:  # a --config file or an input path that is not there
        print(error_line(f"{exc.strerror}: {exc.filename}"), file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        return 0


def option(
    help: str,
    default: Any = MISSING,
    *,
    choices: list[str] | None = None,
    default_factory: Callable[[], Any] | Any = MISSING,
) -> Any:
    """A field of an entry script's arguments dataclass, with the `--help` text (and choices) TRL's parser shows."""
    metadata = {"help": help, **({"choices": choices} if choices else {})}
    return field(default=default, default_factory=default_factory, metadata=metadata)


def run_script(
    step: Callable[..., Any],
    *argument_classes: type,
    argv: list[str] | None = None,
    defaults: dict[str, Any] | None = None,
    interrupted: str = "interrupted",
) -> int:
    """An entry script: TRL's parser (flags, or `--config file.yaml` with the same keys), then `step`.

    `step` receives one parsed instance per class. TRL's and transformers' own checks of the options
    (ValueError) are user errors too. Returns the exit status (see `run_command`).
    """

    def body() -> None:
        from trl import TrlParser

        parser = TrlParser(argument_classes)
        if defaults:
            parser.set_defaults(**defaults)
        try:
            parsed = parser.parse_args_and_config(argv)
        except ValueError as exc:
            raise KitError(first_line(exc)) from None
        step(*parsed)

    return run_command(body, interrupted=interrupted)
