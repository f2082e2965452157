"""The one console and error layer: what every command prints, and how it fails.

Results go to stdout (tables through `table`), progress and notes to stderr (`say`). A problem the
user can fix is a `KitError`; every command (`ktokit ...` and the four entry scripts) runs through
`run_command`, so such a problem is always one line, `error: <what, and how to fix it>`, with exit
status 2, never a traceback. Secrets are masked in one place (`mask`) before any message is shown.
Options are declared in `ktokit.options`; the libraries are kept quiet by `ktokit.quiet`.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence

EXIT_USER_ERROR = 2  # a KitError: bad input, missing prerequisite, refused request
EXIT_INTERRUPTED = 130  # Ctrl+C, as a shell reports it
# What the machine or a path the user gave refuses: a folder where a file was expected, no permission, a
# full disk, a read-only filesystem. The kit's writes are atomic (ktokit.paths), so nothing half-written
# stays behind: the line says what to fix, then a rerun does the work.
USER_ERRNOS = {
    errno.ENOENT, errno.EISDIR, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT,
    errno.EROFS, errno.ENAMETOOLONG, errno.EFBIG,
}  # fmt: skip
TAG = "[ktokit]"


class KitError(Exception):
    """A problem the user can fix; the message says what is wrong and how to fix it."""


def say(message: str, *, tag: bool = False) -> None:
    """Progress and notes on stderr, from the main process only (accelerate sets RANK).

    `tag` starts the line with [ktokit], for commands where other libraries log to stderr too (training).
    """
    if int(os.environ.get("RANK", "0") or 0) == 0:
        print(f"{TAG} {message}" if tag else message, file=sys.stderr, flush=True)


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Rows under a header on stdout, in columns that line up in a terminal (CJK characters take two cells).

    A rich Table without borders. On a terminal the header is bold and long cells wrap to its width;
    piped or redirected, the text is plain and every row stays one line (for grep, and the tests).
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    tty = sys.stdout.isatty()
    grid = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold" if tty else "")
    for name in header:
        grid.add_column(name, no_wrap=not tty)
    for row in rows:
        grid.add_row(*(Text(str(cell)) for cell in row))  # Text: a cell's [brackets] are not markup
    buffer = io.StringIO()
    width = shutil.get_terminal_size().columns if tty else 100_000
    Console(file=buffer, width=width, force_terminal=tty, highlight=False).print(grid)
    print("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()))


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
    """Run one command and return its exit status.

    2 with one `error:` line for a user error, 130 on Ctrl+C.
    """
    try:
        return body() or 0
    except KitError as exc:
        print(error_line(str(exc)), file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:  # a --config file or an input path that is not there, a full disk, ...
        if exc.errno not in USER_ERRNOS or not exc.strerror:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        full = " (nothing half-written was left: free some space and rerun)" if exc.errno in _FULL else ""
        print(error_line(f"{exc.strerror}{where}{full}"), file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        return 0


_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
