"""`make demo`: the kit's main job on the local target, step by step, for the shipped packs."""

from __future__ import annotations

from ktokit.errors import KitError


def _step(title: str) -> None:
    print(f"\n== {title}")


def check_packs(codes: list[str]) -> list[str]:
    """Validate packs and form-check their examples; returns the codes that are ready."""
    from ktokit.form import check_form
    from ktokit.languages import load_pack, pack_problems

    ready = []
    print(f"{'pack':<6}{'prompts':>8}{'examples':>9}{'pass':>6}{'score':>7}  form rule")
    for code in codes:
        pack = load_pack(code)
        problems = pack_problems(pack)
        checks = [check_form(e, pack.form, clean=False) for e in pack.examples]
        passed = sum(c.passed for c in checks)
        score = sum(c.score for c in checks) / max(len(checks), 1)
        print(f"{code:<6}{len(pack.prompts):>8}{len(pack.examples):>9}{passed:>6}{score:>7.2f}  {pack.form.describe()}")
        for problem in problems:
            print(f"      ! {problem}")
        if not problems:
            ready.append(code)
    return ready


def run_demo(args) -> int:
    from ktokit.languages import pack_codes

    codes = args.language or pack_codes()
    if not codes:
        raise KitError("no language packs found under languages/")
    _step("1. Language packs: validation and the form check of each pack's examples")
    ready = check_packs(codes)
    if len(ready) != len(codes):
        raise KitError(f"{len(codes) - len(ready)} pack(s) need fixing (listed above); "
                       "`python -m ktokit validate CODE` shows the details")
    first = ready[0]
    from ktokit.form import check_form
    from ktokit.languages import load_pack

    pack = load_pack(first)
    raw = f"Sure! Here is a haiku:\n\n**{pack.name}**\n\n{pack.examples[0]}\n\nI hope you like it."
    _step(f"2. Form check of a raw model answer ({first})")
    print(raw)
    result = check_form(raw, pack.form)
    print("-> cleaned:")
    for line in result.lines:
        print(f"   {line.text}  [{line.count} / {line.expected}]")
    print(f"-> verdict {result.verdict}, score {result.score:.2f}")
    print("\nDone. Next: the local Argilla server (`python -m ktokit argilla up`).")
    return 0
