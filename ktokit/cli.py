"""`python -m ktokit`: the kit's small commands (packs, form checks, tiny models, local Argilla)."""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata

from ktokit.errors import KitError


def _pack_and_counter(args):
    from ktokit.counting import get_counter
    from ktokit.languages import load_pack

    if getattr(args, "counter", None):
        return None, get_counter(args.counter)
    if not args.language:
        raise KitError("say which language: --language CODE (see `python -m ktokit languages`)")
    pack = load_pack(args.language)
    if not pack.form.counter:
        raise KitError(f"pack {pack.code!r} has no form.counter: nothing to count with")
    return pack, get_counter(pack.form.counter)


def cmd_languages(args) -> int:
    from ktokit.languages import load_pack, pack_codes, pack_problems

    rows = []
    for code in pack_codes():
        try:
            pack = load_pack(code)
            problems = pack_problems(pack)
            rows.append((code, pack.name, pack.native_name, str(len(pack.prompts)), str(len(pack.examples)),
                         pack.form.describe(), "ok" if not problems else f"{len(problems)} to fix"))
        except KitError as exc:
            rows.append((code, "?", "", "", "", "", f"broken: {exc}"))
    if args.json:
        keys = ("code", "name", "native_name", "prompts", "examples", "form", "status")
        for row in rows:
            print(json.dumps(dict(zip(keys, row)), ensure_ascii=False))
        return 0
    _table(("code", "name", "native name", "prompts", "examples", "form rule", "status"), rows)
    return 0


def _width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: tuple[str, ...], rows: list[tuple]) -> None:
    widths = [max(_width(str(c)) for c in col) for col in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(str(c) + " " * (w - _width(str(c))) for c, w in zip(row, widths)).rstrip())


def cmd_validate(args) -> int:
    from ktokit.form import check_examples
    from ktokit.languages import load_pack, pack_codes, pack_problems

    codes = args.codes or pack_codes()
    failed = 0
    for code in codes:
        pack = load_pack(code)
        problems = pack_problems(pack)
        problems += [f"examples.txt: example {i} breaks the form rule ({result.reason})"
                     for i, result in enumerate(check_examples(pack), 1) if result.verdict == "fail"]
        status = "ok" if not problems else f"{len(problems)} to fix"
        print(f"{code}: {status}")
        for problem in problems:
            print(f"  - {problem}")
        failed += bool(problems)
    return 1 if failed else 0


def cmd_check(args) -> int:
    from ktokit.form import check_form

    pack, _ = _pack_and_counter(args)
    raw = sys.stdin.read()
    result = check_form(raw, pack.form, clean=not args.no_clean)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0 if result.passed else 1
    raw_lines = [line for line in raw.splitlines() if line.strip()]
    if result.cleaned != raw.strip():
        print(f"cleaned: {len(raw_lines)} raw lines -> {len(result.lines)} lines")
    unit = result.unit or "units"
    for i, line in enumerate(result.lines, 1):
        alt = f" (or {', '.join(map(str, line.alternatives))})" if line.alternatives else ""
        want = f" / {line.expected}" if line.expected is not None else ""
        mark = {True: "ok", False: "x", None: ""}[line.ok]
        count = "-" if line.count is None else str(line.count)
        print(f"{i}. {line.text}  [{count}{alt}{want} {unit}] {mark}".rstrip())
    reason = f" ({result.reason})" if result.reason else ""
    print(f"verdict: {result.verdict}{reason}  score: {result.score:.2f}  rule: {pack.form.describe()}")
    return 0 if result.verdict != "fail" else 1


def cmd_count(args) -> int:
    _, counter = _pack_and_counter(args)
    for line in sys.stdin:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        c = counter.count(text)
        print(json.dumps({"text": text, "count": c.count, "alternatives": list(c.alternatives)},
                         ensure_ascii=False), flush=True)
    return 0


def cmd_new_language(args) -> int:
    from ktokit.languages import languages_dir, load_pack, pack_problems
    from ktokit.scaffold import scaffold_pack

    path = scaffold_pack(languages_dir(), args.code, args.name, args.native_name or "", args.counter)
    print(f"created {path}/ (pack.yaml, prompts.txt, examples.txt)")
    print("still to fill in before it validates:")
    for problem in pack_problems(load_pack(path)):
        print(f"  - {problem}")
    print(f"check again with: python -m ktokit validate {args.code}")
    return 0


def cmd_tiny_model(args) -> int:
    from ktokit.tiny import tiny_model

    path = tiny_model(args.language, seed=args.seed)
    print(path)
    return 0


def cmd_demo(args) -> int:
    from ktokit.demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ktokit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("languages", help="list the language packs")
    p.add_argument("--json", action="store_true", help="one JSON object per pack")
    p.set_defaults(func=cmd_languages)

    p = sub.add_parser("validate", help="validate packs: fields, prompts, examples against the form rule")
    p.add_argument("codes", nargs="*", metavar="CODE", help="pack codes (default: all)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("check", help="form check of one response read on stdin")
    p.add_argument("--language", "-l", required=True, help="pack code, e.g. es")
    p.add_argument("--no-clean", action="store_true", help="count the text as given (no preamble removal)")
    p.add_argument("--json", action="store_true", help="print the full check as JSON")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("count", help="count syllables/morae: one text per stdin line -> one JSON per line")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--language", "-l", help="use this pack's counter")
    g.add_argument("--counter", help="use this counter directly (en, es, fr, de, nl, ja)")
    p.set_defaults(func=cmd_count)

    p = sub.add_parser("new-language", help="scaffold languages/CODE/ for a new language")
    p.add_argument("code", help="ISO 639 code, e.g. pt or pt-BR")
    p.add_argument("--name", required=True, help="English name, e.g. Portuguese")
    p.add_argument("--native-name", help="the name in the language itself")
    p.add_argument("--counter", help="an existing counter to use (default: the one named like CODE, if any)")
    p.set_defaults(func=cmd_new_language)

    p = sub.add_parser("tiny-model", help="build (or reuse) a tiny offline model from a pack; prints its path")
    p.add_argument("--language", "-l", required=True)
    p.add_argument("--seed", type=int, default=0, help="another seed gives another model")
    p.set_defaults(func=cmd_tiny_model)

    sub.add_parser("argilla", help="the local Argilla server: up, down, status, logs, add-annotator",
                   add_help=False)
    sub.add_parser("evaluate", help="generate with a base model and its KTO adapter, score both with the form check",
                   add_help=False)
    sub.add_parser("demo-space", help="render, serve or push the Gradio demo Space of a KTO-tuned model",
                   add_help=False)

    p = sub.add_parser("demo", help="the kit's main job on the local target (what `make demo` runs)")
    p.add_argument("--language", "-l", default="en", help="the pack to run the flow on (default: en)")
    p.add_argument("--sample", type=int, default=16, help="prompts to generate for (default: 16)")
    p.add_argument("--stop-after-task", action="store_true",
                   help="stop once the Argilla task exists, so people can annotate before export")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "argilla":  # its own parser, owned by ktokit.argilla_local
            from ktokit.argilla_local.cli import main as argilla_main

            return argilla_main(argv[1:])
        if argv and argv[0] == "evaluate":  # its own parser, owned by ktokit.evaluation
            from ktokit.evaluation import main as evaluate_main

            return evaluate_main(argv[1:])
        if argv and argv[0] == "demo-space":  # its own parser, owned by ktokit.demo_space
            from ktokit.demo_space import main as demo_space_main

            return demo_space_main(argv[1:])
        args = build_parser().parse_args(argv)
        return args.func(args)
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
