"""The one console and error layer: what every command prints, and how it fails.

Results go to stdout, progress and notes to stderr (`say`). A problem the user can fix is a
`KitError`; every command (`python -m ktokit ...` and the four entry scripts) runs through
`run_command`, so such a problem is always one line, `error: <what, and how to fix it>`, with exit
status 2, never a traceback. Secrets are masked in one place (`mask`) before any message is shown.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
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
        args, verbose = take_verbose_flag(sys.argv[1:] if argv is None else argv)
        quiet_libraries(verbose, load_transformers=True)  # TRL's parser is built on transformers anyway
        from trl import TrlParser

        parser = TrlParser(argument_classes)
        parser.add_argument(VERBOSE_FLAG, action="store_true", help=VERBOSE_HELP)  # taken out above
        if defaults:
            parser.set_defaults(**defaults)
        try:
            parsed = parser.parse_args_and_config(args)
        except ValueError as exc:
            raise KitError(first_line(exc)) from None
        step(*parsed[: len(argument_classes)])  # the rest: the Namespace holding --verbose

    return run_command(body, interrupted=interrupted)


# ---- quiet libraries: the kit's lines and the progress bars of long work, nothing else ---------------
# Library warnings, log lines and the bars of internal steps (dataset maps, weight loading) are for the
# libraries' developers: a user can do nothing about them. `--verbose` (or KTOKIT_VERBOSE=1, which the
# flag sets, so the demo's scripts inherit it) brings them back. The training bar is TRL's own (see
# ktokit/train/run.py); nothing here touches tqdm itself, so every other bar of long work (downloads,
# uploads to Argilla, training) still shows.

VERBOSE_ENV = "KTOKIT_VERBOSE"
VERBOSE_FLAG = "--verbose"
VERBOSE_HELP = "Show the libraries' own warnings, logs and progress bars (hidden by default)."
# Read by libraries when they are imported, and inherited by the scripts the demo runs.
QUIET_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",
    "DATASETS_VERBOSITY": "error",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "DISTILABEL_LOG_LEVEL": "ERROR",  # distilabel's own runner sets the root logger's level from it
}
LIBRARY_LOGGERS = (
    "transformers",
    "datasets",
    "trl",  # e.g. KTOTrainer's advice on desirable/undesirable weights: the kit sets and explains them
    "accelerate",
    "peft",
    "distilabel",
    "argilla",
    "huggingface_hub",
    "torch",
    "httpx",
)
LIBRARY_MODULES = (
    r"(transformers|trl|datasets|accelerate|peft|distilabel|argilla|huggingface_hub|torch|pydantic)\b"
)


def is_verbose() -> bool:
    """Whether the user asked for the libraries' own output (`--verbose` or KTOKIT_VERBOSE=1)."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def take_verbose_flag(argv: Iterable[str]) -> tuple[list[str], bool]:
    """(argv without --verbose, whether it or KTOKIT_VERBOSE asks for the libraries' own output)."""
    args = list(argv)
    given = VERBOSE_FLAG in args
    return [a for a in args if a != VERBOSE_FLAG], given or is_verbose()


def quiet_libraries(verbose: bool | None = None, *, load_transformers: bool = False) -> bool:
    """Hide the libraries' warnings, logs and internal progress bars, or with `verbose` bring them back.

    Called by every entry script (`run_script`) and the CLI's main. What a library reads at import is
    set in the environment (which the demo's scripts inherit too), and the switches of the libraries
    already imported are flipped. transformers' bars (loading weights) have a switch but no environment
    variable: `load_transformers` imports its logging module first (0.3 s; the CLI, which must start
    fast, leaves it out). Returns `verbose` (None: from KTOKIT_VERBOSE).
    """
    verbose = is_verbose() if verbose is None else verbose
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
        for key, value in QUIET_ENV.items():
            if os.environ.get(key) == value:  # set by a quiet parent (the demo), not by the user
                del os.environ[key]
    else:
        os.environ.pop(VERBOSE_ENV, None)
        for key, value in QUIET_ENV.items():
            os.environ.setdefault(key, value)
        for category in (FutureWarning, DeprecationWarning, PendingDeprecationWarning):
            warnings.filterwarnings("ignore", category=category)  # the kit's own notices go through `say`
        warnings.filterwarnings("ignore", category=UserWarning, module=LIBRARY_MODULES)
    if load_transformers:
        import transformers.utils.logging  # noqa: F401
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.ERROR)
    if "transformers" in sys.modules:  # its verbosity and bars were read from the environment at import
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity(logging.WARNING if verbose else logging.ERROR)
        (transformers_logging.enable_progress_bar if verbose else transformers_logging.disable_progress_bar)()
        from huggingface_hub.utils import enable_progress_bars

        enable_progress_bars()  # transformers' switch turns off the Hub's too: downloads are long work
    if "datasets" in sys.modules and not verbose:  # its bars too (only a quiet parent's env turns them off)
        import datasets

        datasets.disable_progress_bars()
    return verbose
