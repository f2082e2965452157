"""The KTO row format, in one place: export writes it, training and evaluation read it.

A row is TRL's unpaired preference format, `{prompt, completion, label}` (label true = 👍), in one
of two forms: *standard* (the prompt and completion are text) or *conversational* (lists of chat
messages; the prompt is the chat the pack puts to a model, its system prompt included). KTO also
asks for a label balance, which the class weights below restore.
"""

from __future__ import annotations

from typing import Any, Protocol

Messages = list[dict[str, str]]


class LanguagePack(Protocol):
    """What the row format needs of a language pack (`ktokit.packs.languages.LanguagePack`): its chat."""

    def messages(self, prompt: str) -> Messages: ...


COLUMNS = ("prompt", "completion", "label")
# KTO paper, section 4: desirable_weight * n_desirable / (undesirable_weight * n_undesirable) in [1, 4/3].
BALANCE_LOW, BALANCE_HIGH = 1.0, 4 / 3
BALANCE_TARGET = 7 / 6  # the middle of the range: rounding cannot push it out


def chat_prompt(prompt: str, pack: LanguagePack | None = None) -> Messages:
    """The chat a model is given for `prompt`.

    The pack's (system prompt and user template), else the bare prompt.
    """
    return pack.messages(prompt) if pack is not None else [{"role": "user", "content": prompt}]


def chat_completion(text: str) -> Messages:
    return [{"role": "assistant", "content": text}]


def shape_prompt(prompt: str, pack: LanguagePack | None, conversational: bool) -> str | Messages:
    return chat_prompt(prompt, pack) if conversational else prompt


def shape_completion(text: str, conversational: bool) -> str | Messages:
    return chat_completion(text) if conversational else text


def is_conversational_row(row: dict[str, Any]) -> bool:
    return isinstance(row.get("prompt"), list)


def prompt_text(prompt: str | Messages) -> str:
    """The user's words in a standard or conversational prompt (the last user turn)."""
    if isinstance(prompt, list):
        return next((m.get("content", "") for m in reversed(prompt) if m.get("role") == "user"), "")
    return prompt


def to_conversational(dataset: Any, pack: LanguagePack) -> Any:
    """Standard rows of a `datasets.Dataset` → the chat the pack puts to a model, so training sees what
    generation saw."""
    return dataset.map(
        lambda row: {
            "prompt": chat_prompt(row["prompt"], pack),
            "completion": chat_completion(row["completion"]),
        },
        desc="pack chat format",
    )


def balance_weights(
    positives: int, negatives: int, desirable: float | None = None, undesirable: float | None = None
) -> tuple[float, float, str]:
    """KTO's class weights: given ones are kept; missing ones put the weighted ratio in [1, 4/3].

    Returns (desirable_weight, undesirable_weight, a sentence saying what was chosen and why).
    """
    if desirable is not None or undesirable is not None:
        d, u = desirable if desirable is not None else 1.0, undesirable if undesirable is not None else 1.0
        ratio = d * positives / (u * negatives)
        note = "" if BALANCE_LOW <= ratio <= BALANCE_HIGH else " (outside KTO's recommended 1..1.33)"
        return d, u, f"weights as given: desirable {d:g}, undesirable {u:g}; weighted ratio {ratio:.3f}{note}"
    raw = positives / negatives
    d = u = 1.0
    if raw < BALANCE_LOW:
        d = round(BALANCE_TARGET / raw, 4)
    elif raw > BALANCE_HIGH:
        u = round(raw / BALANCE_TARGET, 4)
    ratio = d * positives / (u * negatives)
    why = "already within 1..1.33" if d == u == 1.0 else "brought into KTO's recommended 1..1.33"
    return (
        d,
        u,
        (
            f"labels {positives} 👍 / {negatives} 👎 (ratio {raw:.3f}), {why}: "
            f"desirable_weight {d:g}, undesirable_weight {u:g} (weighted ratio {ratio:.3f})"
        ),
    )
