"""The packs: languages, validate, check, count, new-language; tiny-model, generation's offline stand-in."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from ktokit.console import KitError, table
from ktokit.options import add_command, json_option, language_option, option
from ktokit.packs.counting import COUNTERS


@dataclass
class LanguagesArguments:
    json: bool = json_option("one JSON object per pack")


def languages(args: LanguagesArguments) -> int:
    from ktokit.packs.languages import load_pack, pack_codes, pack_problems

    rows = []
    for code in pack_codes():
        try:
            pack = load_pack(code)
            problems = pack_problems(pack)
            status = "ok" if not problems else f"{len(problems)} to fix"
            form = pack.form.describe()
            rows.append(
                (code, pack.name, pack.native_name, len(pack.prompts), len(pack.examples), form, status)
            )
        except KitError as exc:
            rows.append((code, "?", "", "", "", "", f"broken: {exc}"))
    if args.json:
        keys = ("code", "name", "native_name", "prompts", "examples", "form", "status")
        for row in rows:
            print(json.dumps(dict(zip(keys, map(str, row))), ensure_ascii=False))
        return 0
    table(("code", "name", "native name", "prompts", "examples", "form rule", "status"), rows)
    return 0


@dataclass
class ValidateArguments:
    codes: list[str] = option(
        "pack codes (default: all)", default_factory=list, positional=True, metavar="CODE"
    )


def validate(args: ValidateArguments) -> int:
    from ktokit.packs.form import validation_problems
    from ktokit.packs.languages import load_pack, pack_codes

    failed = 0
    for code in args.codes or pack_codes():
        problems = validation_problems(load_pack(code))
        print(f"{code}: {'ok' if not problems else f'{len(problems)} to fix'}")
        for problem in problems:
            print(f"  - {problem}")
        failed += bool(problems)
    return 1 if failed else 0


@dataclass
class CheckArguments:
    language: str = language_option()
    no_clean: bool = option("count the text as given (no preamble removal)", False)
    json: bool = json_option("print the full check as JSON")


def check(args: CheckArguments) -> int:
    from ktokit.packs.form import check_form
    from ktokit.packs.languages import load_pack

    pack = load_pack(args.language)
    if not pack.form.counter:
        raise KitError(f"pack {pack.code!r} has no form.counter: nothing to count with")
    result = check_form(sys.stdin.read(), pack.form, clean=not args.no_clean)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0 if result.passed else 1
    print("\n".join(result.report_lines(pack.form.describe())))
    return 0 if result.verdict != "fail" else 1


@dataclass
class CountArguments:
    language: str | None = language_option(
        None, help="use this pack's counter", exclusive="counter", required=True
    )
    counter: str | None = option(
        f"use this counter directly ({', '.join(COUNTERS)})", None, exclusive="counter", required=True
    )


def count(args: CountArguments) -> int:
    from ktokit.packs.counting import get_counter
    from ktokit.packs.languages import load_pack

    name = args.counter
    if not name:
        pack = load_pack(args.language)
        if not pack.form.counter:
            raise KitError(f"pack {pack.code!r} has no form.counter: nothing to count with")
        name = pack.form.counter
    counter = get_counter(name)
    for line in sys.stdin:
        text = line.rstrip("\n")
        if text.strip():
            c = counter.count(text)
            row = {"text": text, "count": c.count, "alternatives": list(c.alternatives)}
            print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


@dataclass
class NewLanguageArguments:
    code: str = option("ISO 639 code, e.g. pt or pt-BR", positional=True)
    name: str = option("English name, e.g. Portuguese")
    native_name: str | None = option("the name in the language itself", None)
    counter: str | None = option(
        "an existing counter to use (default: the one named like CODE, if any)", None
    )


def new_language(args: NewLanguageArguments) -> int:
    from ktokit.packs.languages import languages_dir, load_pack, pack_problems
    from ktokit.packs.scaffold import scaffold_pack

    path = scaffold_pack(languages_dir(), args.code, args.name, args.native_name or "", args.counter)
    print(f"created {path}/ (pack.yaml, prompts.txt, examples.txt)")
    print("still to fill in before it validates:")
    for problem in pack_problems(load_pack(path)):
        print(f"  - {problem}")
    print(f"check again with: python -m ktokit validate {args.code}")
    return 0


@dataclass
class TinyModelArguments:
    language: str = language_option()
    seed: int = option("another seed gives another model", 0)


def tiny_model(args: TinyModelArguments) -> int:
    from ktokit.generate.tiny import tiny_model

    print(tiny_model(args.language, seed=args.seed))
    return 0


def register(commands) -> None:
    add_command(commands, "languages", LanguagesArguments, languages, help="list the language packs")
    add_command(
        commands,
        "validate",
        ValidateArguments,
        validate,
        help="validate packs: fields, prompts, examples against the form rule",
    )
    add_command(commands, "check", CheckArguments, check, help="form check of one response read on stdin")
    add_command(
        commands,
        "count",
        CountArguments,
        count,
        help="count syllables/morae: one text per stdin line -> one JSON per line",
    )
    add_command(
        commands,
        "new-language",
        NewLanguageArguments,
        new_language,
        help="scaffold languages/CODE/ for a new language",
    )
    add_command(
        commands,
        "tiny-model",
        TinyModelArguments,
        tiny_model,
        help="build (or reuse) a tiny offline model from a pack; prints its path",
    )
