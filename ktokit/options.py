"""A command's options: the fields of a dataclass, declared with `option`.

The entry scripts parse them with TRL's parser (`run_script`, which also checks a `--config` file
before any work), the `ktokit` commands with `add_command`; the options several commands take are
declared once here (`language_option`, `json_option`, ...). A refused flag or value is a `KitError`,
shown by the console layer as one `error:` line.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from collections.abc import Callable, Collection, Sequence
from dataclasses import MISSING, field
from typing import Any, TypeVar

from ktokit.console import KitError, first_line, run_command
from ktokit.quiet import VERBOSE_FLAG, VERBOSE_HELP, quiet_libraries, take_verbose_flag

T = TypeVar("T")


class KitArgumentParser(argparse.ArgumentParser):
    """argparse whose refusal of a flag or value is one `error:` line (a KitError, see `run_command`),
    not the whole usage: the commands' parser, and the base of the entry scripts' (`run_script`)."""

    def error(self, message: str) -> typing.NoReturn:
        raise KitError(f"{message} (`{self.prog} --help` lists the options)")


def option(
    help: str,
    default: Any = MISSING,
    *,
    choices: list[str] | None = None,
    default_factory: Callable[[], Any] | Any = MISSING,
    aliases: str | tuple[str, ...] = (),
    metavar: str | None = None,
    flag: str | None = None,
    positional: bool = False,
    exclusive: str | None = None,
    required: bool = False,
) -> Any:
    """A field of an arguments dataclass, with the `--help` text (and choices) the parser shows.

    The metadata is what transformers' HfArgumentParser (TRL's parser, the entry scripts) reads: argparse
    keywords plus `aliases` (e.g. "-l"). The `python -m ktokit` commands (`add_arguments`) read four more,
    which the entry scripts do not use: `flag`, the option's name when it is not --field-name (--from);
    `positional`; `exclusive`, the name of a group of options of which at most one may be given; and
    `required` on a member of such a group: one of them must be.
    """
    aliases = (aliases,) if isinstance(aliases, str) else aliases
    cli = {"choices": choices, "aliases": aliases, "metavar": metavar, "flag": flag}
    cli |= {"positional": positional, "exclusive": exclusive, "required": required}
    metadata = {"help": help, **{key: value for key, value in cli.items() if value}}
    return field(default=default, default_factory=default_factory, metadata=metadata)


# ---- the commands' parser: dataclass fields as argparse arguments ---------------------------------------


def add_arguments(parser: argparse.ArgumentParser, arguments: type, *, hidden: Collection[str] = ()) -> None:
    """Declare the fields of the dataclass `arguments` on `parser`: `--field-name`, typed by the annotation.

    Hand-written on purpose: transformers' HfArgumentParser (what TRL's parser, and so the entry scripts,
    use) does this too, but importing transformers takes seconds and `python -m ktokit` starts without the
    heavy libraries. It covers what the commands need: str, int, float, bool (a switch, off by default),
    `X | None`, `list[X]` (one or more values), choices, positional fields, short aliases, another flag
    name and mutually exclusive groups (see `option`). A `hidden` field is left out of `--help` and takes
    no default here, so the value given to the parent command stays (`argilla --data-dir D up`).
    """
    hints = typing.get_type_hints(arguments)
    own = vars(arguments).get("__annotations__", {})  # a command's own options first, then inherited ones
    members = sorted((f for f in dataclasses.fields(arguments) if f.init), key=lambda f: f.name not in own)
    needed = {f.metadata["exclusive"] for f in members if f.metadata.get("required")}
    groups: dict[str, Any] = {}
    for f in members:
        meta, kind = f.metadata, _value_type(hints[f.name])
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        kwargs: dict[str, Any] = {"help": meta.get("help")}
        kwargs |= {key: meta[key] for key in ("choices", "metavar") if key in meta}
        if kind is bool:
            if default is not False:
                raise TypeError(f"{arguments.__name__}.{f.name}: a switch is off by default")
            kwargs["action"] = "store_true"
        elif typing.get_origin(kind) is list:
            kwargs["type"] = typing.get_args(kind)[0]
            kwargs["nargs"] = "*" if meta.get("positional") and default is not MISSING else "+"
        else:
            kwargs["type"] = kind
        if meta.get("positional"):
            parser.add_argument(f.name, **kwargs, **({} if default is MISSING else {"default": default}))
            continue
        if f.name in hidden:
            kwargs |= {"help": argparse.SUPPRESS, "default": argparse.SUPPRESS}
        elif default is MISSING:
            kwargs["required"] = True
        else:
            kwargs["default"] = default
        names = [meta.get("flag") or f"--{f.name.replace('_', '-')}", *meta.get("aliases", ())]
        target = parser
        if group := meta.get("exclusive"):
            if group not in groups:
                groups[group] = parser.add_mutually_exclusive_group(required=group in needed)
            target = groups[group]
        target.add_argument(*names, dest=f.name, **kwargs)


def _value_type(annotation: Any) -> Any:
    """`X` of `X | None`: an option left out is its default (None)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
    return annotation


def arguments_from(arguments: type[T], namespace: argparse.Namespace) -> T:
    """The dataclass `arguments` filled from what the parser read; its `__post_init__` checks run here."""
    return arguments(
        **{
            f.name: getattr(namespace, f.name)
            for f in dataclasses.fields(arguments)
            if f.init and hasattr(namespace, f.name)
        }
    )


def add_command(
    commands: Any,
    name: str,
    arguments: type[T],
    run: Callable[[T], int | None],
    *,
    help: str,
    description: str | None = None,
    hidden: Collection[str] = (),
) -> argparse.ArgumentParser:
    """One subcommand: its options are the fields of `arguments`; `run` receives them as that dataclass.

    `commands` is what `add_subparsers()` returned. The description defaults to the one-line help.
    """
    parser = commands.add_parser(name, help=help, description=description or f"{help[0].upper()}{help[1:]}.")
    add_arguments(parser, arguments, hidden=hidden)
    parser.set_defaults(run=lambda namespace: run(arguments_from(arguments, namespace)))
    return parser


# ---- options more than one command takes: one name, one metavar, one default, one help -------------------

LANGUAGE_HELP = "pack code, e.g. es (`languages` lists them)"


def language_option(default: Any = MISSING, *, help: str = LANGUAGE_HELP, **more: Any) -> Any:
    """--language/-l: the language pack a command works on."""
    return option(help, default, aliases="-l", **more)


def json_option(help: str = "machine-readable: one JSON object per line") -> Any:
    """--json: the result as JSON on stdout instead of the report."""
    return option(help, False)


def space_option(help: str, **more: Any) -> Any:
    """--space ORG/NAME: a Space on the Hub (what the command does with it is its help)."""
    return option(help, None, metavar="ORG/NAME", **more)


def server_option(help: str = "", **more: Any) -> Any:
    """--server URL: any Argilla server a campaign runs; its key only from $ARGILLA_API_KEY, never a flag."""
    key = "its URL; an owner's or admin's key from $ARGILLA_API_KEY"
    return option(
        f"{help} ({key})" if help else f"any Argilla server you run ({key})", None, metavar="URL", **more
    )


def argilla_dir_option() -> Any:
    """The local Argilla server's folder: `--argilla-dir` of commands that use it, `argilla --data-dir`."""
    return option(
        "the local Argilla server's folder: database, logs, credentials (default: $KTOKIT_HOME/argilla, "
        "KTOKIT_HOME defaulting to ~/.cache/ktokit)",
        None,
    )


def min_submitted_option() -> Any:
    """--min-submitted of the commands that report on a running task."""
    return option("submitted answers that complete a record (default: the task's own)", None)


def sleep_time_option() -> Any:
    """--sleep-time of the commands that create a Space."""
    return option(
        "seconds without visits before the Space sleeps, -1 never (paid hardware only; the free "
        "cpu-basic sleeps after 48 h)",
        None,
        metavar="SECONDS",
    )


def dry_run_option() -> Any:
    return option("render and print the plan (secret names only)", False)


def serve_option() -> Any:
    return option("run the rendered app on 127.0.0.1:PORT", None, metavar="PORT")


def output_option(help: str) -> Any:
    """--output/-o: the folder a command writes (its help says the default)."""
    return option(help, None, aliases="-o")


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

        class Parser(TrlParser):
            error = KitArgumentParser.error  # a bad flag or value: one line, not the usage

        parser = Parser(argument_classes)
        parser.add_argument(VERBOSE_FLAG, action="store_true", help=VERBOSE_HELP)  # taken out above
        if defaults:
            parser.set_defaults(**defaults)
        check_config(args)
        try:
            parsed = parser.parse_args_and_config(args)
        except (ValueError, TypeError) as exc:  # TRL's and transformers' checks of the values given
            raise KitError(first_line(exc)) from None
        step(*parsed[: len(argument_classes)])  # the rest: the Namespace holding --verbose

    return run_command(body, interrupted=interrupted)


def check_config(argv: Sequence[str]) -> None:
    """The `--config` recipe of an entry script, read before any work: one line when it is missing, not
    YAML, or not a mapping of options (TRL's parser would end in a yaml traceback)."""
    import yaml

    if "--config" not in argv:
        return
    at = list(argv).index("--config") + 1
    if at >= len(argv):
        raise KitError("--config needs a YAML file: --config recipes/NAME.yaml")
    path = argv[at]
    try:
        with open(path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or first_line(exc)
        raise KitError(f"--config {path} is not valid YAML: {problem}{where}") from None
    except UnicodeDecodeError:
        raise KitError(f"--config {path} is not a UTF-8 text file") from None
    if not isinstance(config, dict):
        raise KitError(
            f"--config {path} must hold options as `key: value` lines, not {type(config).__name__}"
        )
