"""`--help` reads for the command line and every subcommand (argparse %-formats help texts: a stray `%`
in one of them breaks the whole top-level help)."""

from __future__ import annotations

import argparse

import pytest

from ktokit.cli import build_parser, main


def subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, e.g. ("argilla", "up"), read off the parser itself."""
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += subcommands(sub, (*prefix, name))
    return found


COMMANDS = subcommands(build_parser())


def test_the_command_list_is_read_off_the_parser():
    assert ("progress",) in COMMANDS and ("argilla", "up") in COMMANDS and () in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "ktokit")
def test_help_prints_and_exits_0(path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*path, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:") and "Traceback" not in out
