"""What the models are asked when drafting: a prompt translated, a prompt written on a topic, an example.

The asks are in English (every model of a set understands it) and name the target language by its
English name, with its native name once the pack has one. A freshly scaffolded pack has a TODO system
prompt, so examples are asked with the kit's own system prompt until the pack's is written.
"""

from __future__ import annotations

from ktokit.packs.languages import TODO, LanguagePack

ONE_LINE = "Answer with that one line only: no quotes, no title, no explanation, nothing else."


def language_label(pack: LanguagePack) -> str:
    """`Portuguese (Português)`, or just the English name while native_name is still TODO."""
    native = pack.native_name if pack.native_name and TODO not in pack.native_name else ""
    return f"{pack.name} ({native})" if native and native != pack.name else pack.name


def translate_messages(pack: LanguagePack, source: LanguagePack, prompt: str) -> list[dict[str, str]]:
    """Translate one prompt of `source` into the pack's language, as a native speaker would ask it."""
    system = (
        f"You translate requests for a {pack.task or 'text'} from {source.name} into natural "
        f"{language_label(pack)}: the way a native speaker would ask, not word for word. {ONE_LINE}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


def topic_messages(pack: LanguagePack, topic: str) -> list[dict[str, str]]:
    """Write one request for the pack's task on `topic`, in the pack's language."""
    task = pack.task or "short text"
    system = (
        f"You write requests that people send to a poet, asking for a {task}. Given a topic, write one "
        f"short, natural request for a {task} about it, in {language_label(pack)}. {ONE_LINE}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": topic}]


def form_sentence(pack: LanguagePack) -> str:
    """The form rule in words, e.g. "It has 3 lines of 5, 7 and 5 syllables."."""
    from ktokit.packs.counting import get_counter

    rule = pack.form
    if rule.pattern and rule.counter:
        counts = ", ".join(map(str, rule.pattern[:-1])) + f" and {rule.pattern[-1]}"
        return f"It has {len(rule.pattern)} lines of {counts} {get_counter(rule.counter).unit}."
    if rule.lines:
        return f"It has {rule.lines} lines."
    return ""


def example_messages(pack: LanguagePack, prompt: str) -> list[dict[str, str]]:
    """An answer in the pack's form: the pack's own system prompt once written, else the kit's."""
    if pack.system_prompt.strip() and TODO not in pack.system_prompt:
        return pack.messages(prompt)
    task = pack.task or "text"
    system = (
        f"You write {task} in {language_label(pack)}. {form_sentence(pack)} Write in natural "
        f"{pack.name}, with a concrete image. Answer with the {task} only: no title, no explanation, "
        "nothing else."
    )
    return [
        {"role": "system", "content": " ".join(system.split())},
        {"role": "user", "content": pack.user_prompt(prompt)},
    ]
