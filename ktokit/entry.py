"""What the entry scripts share: TRL's parser (flags or `--config file.yaml`) and one line on a user error."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

from ktokit.console import KitError


def run_script(main: Callable[[Any], Any], arguments_class: type, *, interrupted: str = "interrupted") -> NoReturn:
    """Parse `arguments_class` from the command line and run `main`; exit 2 with one line on a KitError."""
    from trl import TrlParser

    try:
        (arguments,) = TrlParser((arguments_class,)).parse_args_and_config()
        main(arguments)
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except FileNotFoundError as exc:  # a --config file that is not there
        print(f"error: {exc.strerror}: {exc.filename}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        sys.exit(130)
    sys.exit(0)
