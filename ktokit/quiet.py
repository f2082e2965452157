"""Quiet libraries: the kit's lines and the progress bars of long work, nothing else.

Library warnings, log lines and the bars of internal steps (dataset maps, weight loading) are for the
libraries' developers: a user can do nothing about them. `--verbose` (or KTOKIT_VERBOSE=1, which the
flag sets, so the demo's scripts inherit it) brings them back. The training bar is TRL's own (see
ktokit/train/run.py); nothing here touches tqdm itself, so every other bar of long work (downloads,
uploads to Argilla, training) still shows.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterable

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
