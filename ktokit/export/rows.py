"""Kept decisions → rows: KTO rows, DPO pairs, the raw backup, and the train/test split by prompt.

Rows come in a fixed pseudo-random order (a hash of their text), so the same annotations always give
the same bytes and a batch mixes prompts. The row format itself is `ktokit.kto_format`'s.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ktokit.console import KitError
from ktokit.export.aggregate import Decision
from ktokit.export.read import AnnotatedRecord
from ktokit.kto_format import prompt_text, shape_completion, shape_prompt

if TYPE_CHECKING:
    from ktokit.packs.languages import LanguagePack


def row_order(*texts: str) -> str:
    """A fixed pseudo-random order: same bytes for the same annotations, and batches mix prompts."""
    return hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest()


def kept(decisions: Iterable[Decision]) -> list[Decision]:
    rows = [d for d in decisions if d.label is not None]
    rows.sort(key=lambda d: (row_order(d.record.prompt, d.record.completion), d.record.id))
    return rows


def kto_rows(
    decisions: Iterable[Decision], pack: LanguagePack | None = None, conversational: bool = False
) -> list[dict[str, Any]]:
    """TRL's unpaired preference format, plus where each row came from and how sure the annotators were."""
    rows = []
    for d in kept(decisions):
        r = d.record
        up, down = r.votes_up, r.votes_down
        rows.append(
            {
                "prompt": shape_prompt(r.prompt, pack, conversational),
                "completion": shape_completion(r.completion, conversational),
                "label": bool(d.label),
                "model": ", ".join(r.models),
                "language": r.language,
                "votes_up": up,
                "votes_down": down,
                "agreement": round(max(up, down) / (up + down), 4),
                "record_id": r.id,
                "round": r.round,
            }
        )
    return rows


def dpo_pairs(
    decisions: Iterable[Decision], pack: LanguagePack | None = None, conversational: bool = False
) -> list[dict[str, Any]]:
    """Every (👍, 👎) pair of completions of the same prompt; prompts without both give none."""
    by_prompt: dict[str, dict[bool, list[AnnotatedRecord]]] = defaultdict(lambda: {True: [], False: []})
    for d in kept(decisions):
        by_prompt[d.record.prompt][bool(d.label)].append(d.record)
    pairs = []
    for prompt, sides in by_prompt.items():
        for good in sides[True]:
            for bad in sides[False]:
                pairs.append(
                    {
                        "prompt": shape_prompt(prompt, pack, conversational),
                        "chosen": shape_completion(good.completion, conversational),
                        "rejected": shape_completion(bad.completion, conversational),
                        "chosen_model": ", ".join(good.models),
                        "rejected_model": ", ".join(bad.models),
                        "language": good.language,
                        "_order": row_order(prompt, good.completion, bad.completion),
                    }
                )
    pairs.sort(key=lambda p: p["_order"])
    for p in pairs:
        del p["_order"]
    return pairs


def raw_rows(records: Iterable[AnnotatedRecord]) -> list[dict[str, Any]]:
    """Every response of every record (any status: the backup keeps drafts too), annotators pseudonymised.
    Gold records are left out: a published raw set would tell annotators which records are gold."""
    rows = []
    real = (r for r in records if r.gold is None)
    for r in sorted(real, key=lambda r: (row_order(r.prompt, r.completion), r.id)):
        for a in r.answers:
            rows.append(
                {
                    "record_id": r.id,
                    "prompt": r.prompt,
                    "completion": r.completion,
                    "model": ", ".join(r.models),
                    "language": r.language,
                    "annotator": a.annotator,
                    "status": a.status,
                    "label": a.value,
                    "comment": a.comment,
                    "flag": a.flag,
                }
            )
    return rows


def _unit(prompt: str) -> float:
    return int(hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:15], 16) / 16**15


def split_prompts(prompts: Iterable[str], test_size: float) -> set[str]:
    """The prompts of the test split: those whose text hashes below `test_size`.

    A prompt's side depends on its text alone, so a later export with more annotations never moves
    a prompt from test to train. With two or more prompts each side gets at least one.
    """
    if not 0.0 <= test_size < 1.0:
        raise KitError(f"--test_size is a fraction of the prompts in [0, 1), got {test_size}")
    unique = sorted(set(prompts), key=lambda p: (_unit(p), p))
    if test_size == 0 or not unique:
        return set()
    if len(unique) < 2:
        raise KitError(
            f"--test_size {test_size} needs at least 2 prompts with exported rows, got {len(unique)}"
        )
    test = {p for p in unique if _unit(p) < test_size}
    if not test:
        test = {unique[0]}
    if len(test) == len(unique):
        test.discard(unique[-1])
    return test


def split_rows(rows: list[dict[str, Any]], test_prompts: set[str]) -> dict[str, list[dict[str, Any]]]:
    if not test_prompts:
        return {"train": rows}
    return {
        "train": [r for r in rows if prompt_text(r["prompt"]) not in test_prompts],
        "test": [r for r in rows if prompt_text(r["prompt"]) in test_prompts],
    }
