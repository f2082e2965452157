"""`new-language`: a pack skeleton that fails validation, naming each field left to fill, until filled."""

from __future__ import annotations

from pathlib import Path

import yaml

from ktokit.console import KitError
from ktokit.packs.counting import COUNTERS
from ktokit.packs.languages import (
    CODE_RE,
    EXAMPLES_FILE,
    MIN_EXAMPLES,
    MIN_PROMPTS,
    PACK_FILE,
    PROMPTS_FILE,
    TODO,
)
from ktokit.paths import write_text

PACK_TEMPLATE = """\
# Language pack for {name}. Format and examples: languages/README.md and languages/en/pack.yaml.
# Replace every TODO; `python -m ktokit validate {code}` lists what is still missing.
code: {code_yaml}
name: {name_yaml}
native_name: {native_yaml}      # the language's name in the language itself
task: haiku                      # free text: what the models are asked to write

# Told to every model before the prompt, in the language.
system_prompt: |
  TODO: tell the model what to write and in which form, and to answer with the text only.
# How one line of prompts.txt is put to the model; {{prompt}} is replaced by it.
user_template: "{{prompt}}"

# What annotators read in the Argilla Space, in the language.
annotation:
  dataset_title: "TODO: a title for the annotation dataset"
  question: "TODO: the yes/no question annotators answer"
  labels:
    good: "👍 TODO"
    bad: "👎 TODO"
  comment: "TODO: label of the optional comment box"
  prompt_title: "TODO: title shown above the prompt"
  completion_title: "TODO: title shown above the model's answer"
  guidelines: |
    TODO: guidelines in Markdown: what a good answer is, when to give 👍 and 👎.

# The shape a good answer has. counter: one of {counters}; leave out pattern and counter
# for free form, or keep only `lines`.
form:
  lines: 3
  pattern: [5, 7, 5]
  counter: {counter}
"""


def scaffold_pack(
    root: Path, code: str, name: str, native_name: str = "", counter: str | None = None
) -> Path:
    """Write `root/<code>/` with TODO placeholders; refuse to touch an existing pack."""
    if not CODE_RE.match(code):
        raise KitError(f"{code!r} is not a language code: use ISO 639 such as 'pt' or 'pt-BR'")
    target = root / code
    if target.exists():
        raise KitError(f"{target} already exists; edit it, or remove it to start again")
    if counter is not None and counter not in COUNTERS:
        raise KitError(f"unknown counter {counter!r}: use one of {', '.join(sorted(COUNTERS))}")
    target.mkdir(parents=True)
    dump = lambda v: yaml.safe_dump(v, allow_unicode=True, default_style='"').strip()  # noqa: E731
    write_text(
        target / PACK_FILE,
        PACK_TEMPLATE.format(
            code=code,
            code_yaml=dump(code),  # quoted: YAML reads `no` (Norwegian) as false
            name=name,
            name_yaml=dump(name),
            native_yaml=dump(native_name or TODO),
            counter=counter or (code if code in COUNTERS else TODO),
            counters=", ".join(sorted(COUNTERS)),
        ),
    )
    write_text(
        target / PROMPTS_FILE,
        f"# {MIN_PROMPTS}+ prompts written in {name}, one per line, varied themes. "
        "Lines starting with # are ignored.\n",
    )
    write_text(
        target / EXAMPLES_FILE,
        f"# {MIN_EXAMPLES}+ example answers written in {name} that follow the form rule, "
        "separated by blank lines. Lines starting with # are ignored.\n",
    )
    return target
