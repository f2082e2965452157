"""The command line, `ktokit` (the console script) or `python -m ktokit`: one module per group of commands.

Each module declares a command's options as the fields of one dataclass and registers it with
`ktokit.options.add_command`; this file only puts the groups together. Every command runs through
`ktokit.console.run_command` (a user error is one `error:` line and exit status 2), and everything heavy
is imported inside the command that needs it, so the CLI starts fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ktokit.cli import argilla, campaign, demo, draft, packs
from ktokit.console import run_command
from ktokit.options import KitArgumentParser
from ktokit.quiet import VERBOSE_FLAG, VERBOSE_HELP, quiet_libraries, take_verbose_flag

GROUPS = (packs, draft, argilla, demo, campaign)  # the order `--help` lists their commands in
DESCRIPTION = """\
The kit's small commands, in the order of the flow:

  the packs           languages, validate, check, count, new-language; tiny-model (offline stand-ins)
  a new pack          draft-prompts, draft-examples (models draft), review-pack, accept-pack (people review)
  annotation          argilla up|down|status|logs|add-annotator|reset-password (the local server)
  the tuned model     evaluate (base vs tuned), demo-space (its Gradio Space), demo (what `make demo` runs)
  a running campaign  progress, arena (blind verdicts), backup, restore, dashboard (its Space)

`ktokit COMMAND` and `python -m ktokit COMMAND` are the same; `COMMAND --help` lists its options."""


def build_parser() -> argparse.ArgumentParser:
    """Every group's commands; the program is named as it was started (`ktokit` or `python -m ktokit`)."""
    parser = KitArgumentParser(
        prog="ktokit" if Path(sys.argv[0]).name == "ktokit" else "python -m ktokit",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(VERBOSE_FLAG, action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit status (the console script and `python -m ktokit` exit with it)."""
    argv, verbose = take_verbose_flag(sys.argv[1:] if argv is None else argv)
    quiet_libraries(verbose)  # before any library is imported; also inherited by the scripts `demo` runs
    parser = build_parser()

    def body() -> int | None:
        args = parser.parse_args(argv)  # a bad flag or value: one `error:` line (KitArgumentParser)
        return args.run(args)

    return run_command(body)
