"""Gold answers: records whose right answer the organisers know, mixed into the task to check annotators.

Known-good gold is the pack's own examples (they pass its form rule); known-bad gold is an example
broken so it fails the rule (its last line dropped), another pack's example (the wrong language) and
the prompt echoed back (not a poem at all). A pack may add its own in `languages/<code>/gold.jsonl`
(`{"prompt": ..., "completion": ..., "label": "good"|"bad"}` per line); a pack without a form rule
gets gold from that file alone. Each gold answer is paired with the task prompt it is most about.

A gold record is built by `build_records` like any other (the same id scheme, fields, metadata and
form-check suggestion; its `model` one of the task's models), and shuffled in with the rest, so nothing
an annotator can see tells it apart. The key (record id -> expected label) is NOT on the record:
Argilla 2.8 returns a record's whole metadata, hidden properties (`visible_for_annotators=False`)
included, to any member of its workspace at `GET /api/v1/records/{id}` (annotators know the ids from
their queue), and refuses metadata without a property. So the key is a small dataset of its own,
`<dataset>-gold` in the workspace `<workspace>-organisers`, which annotators do not belong to: every
organiser machine with the owner key reads it from the server, the dashboard's user is made a member
(ktokit.campaign.dashboard_space), and backups carry it (ktokit.campaign.backup).
"""

from __future__ import annotations

import json
import math
import random
import warnings
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ktokit.annotate.task import BAD, GOOD, build_records
from ktokit.console import KitError
from ktokit.packs.form import FAIL, PASS, check_form
from ktokit.packs.language_id import answer_language
from ktokit.packs.languages import LanguagePack, load_pack, pack_codes

if TYPE_CHECKING:
    import argilla as rg

GOLD_FILE = "gold.jsonl"
GOLD_SHARE = 0.05  # the default: about one record in twenty is gold ...
GOLD_MIN = 10  # ... and at least ten, so an annotator meets a few even in a small task
# What each kind of gold is, in words (the plan and the docs)
KINDS = {
    "example": "a pack example (passes the form rule)",
    "broken": "a pack example with its last line dropped (fails the rule)",
    "other_language": "another pack's example (the wrong language)",
    "not_a_poem": "the prompt echoed back (not an answer at all)",
    "file": f"from the pack's {GOLD_FILE}",
}
KEY_FIELDS = ("record_id", "expected", "kind")
KEY_PAGE = 1000  # the records endpoint's largest page


@dataclass(frozen=True)
class Gold:
    """One known answer: the record annotators see (as `build_records` makes it) and the right label."""

    record: dict[str, Any]
    expected: str  # good | bad
    kind: str  # a key of KINDS

    @property
    def id(self) -> str:
        return self.record["id"]


def key_workspace(workspace: str) -> str:
    """The workspace of the key: the language's own name plus `-organisers`; annotators are not members."""
    return f"{workspace}-organisers"


def key_dataset(dataset: str) -> str:
    return f"{dataset}-gold"


# ---- candidates -------------------------------------------------------------------------------------


def _grams(text: str, spaced: bool) -> set[str]:
    """What a text is about, crudely: the first 5 letters of its words of 3+ letters (a stem), or in a
    language written without spaces, character 2-grams (Japanese words are a character or two)."""
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    if spaced:
        return {w[:5] for w in words if len(w) >= 3}
    s = "".join(words)
    return {s[i : i + 2] for i in range(max(0, len(s) - 1))}


def nearest_prompt(text: str, prompts: list[str]) -> str:
    """The prompt `text` shares most stems with (Jaccard, `_grams`), so a known-good answer is about its
    prompt and a careful annotator has no reason to reject it; ties go to the earlier prompt."""
    spaced = sum(" " in p.strip() for p in prompts) * 2 > len(prompts)
    mine = _grams(text, spaced)
    best, score = prompts[0], -1.0
    for prompt in prompts:
        theirs = _grams(prompt, spaced)
        s = len(mine & theirs) / (len(mine | theirs) or 1)
        if s > score:
            best, score = prompt, s
    return best


def read_gold_file(pack: LanguagePack) -> list[tuple[str, str, str]]:
    """The pack's own gold (prompt, completion, label); one line naming the line for each way it is wrong,
    a known-good answer its form rule fails among them."""
    path = (pack.path or Path()) / GOLD_FILE
    if pack.path is None or not path.is_file():
        return []
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(line)
            prompt, completion, label = (str(item[k]).strip() for k in ("prompt", "completion", "label"))
        except (ValueError, KeyError, TypeError):
            raise KitError(
                f"{path}:{n}: expected a JSON object with prompt, completion and label (good or bad)"
            ) from None
        if label not in (GOOD, BAD) or not prompt or not completion:
            raise KitError(f"{path}:{n}: label must be {GOOD!r} or {BAD!r}, prompt and completion non-empty")
        if label == GOOD and check_form(completion, pack.form, clean=False).verdict == FAIL:
            raise KitError(
                f"{path}:{n}: labelled {GOOD!r} but the pack's form rule fails it "
                f"(`python -m ktokit check --language {pack.code}` shows why): fix the text or the label"
            )
        items.append((prompt, completion, label))
    return items


def _other_examples(code: str) -> list[str]:
    """Examples of the other packs, interleaved so each language comes in turn."""
    lists = []
    for other in pack_codes():
        if other != code:
            try:
                lists.append(load_pack(other).examples)
            except KitError:
                continue
    return [ex for group in zip(*lists) for ex in group] if lists else []


def candidates(pack: LanguagePack, prompts: list[str]) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """Every gold answer the pack allows: (prompt, completion, label, kind), and the counts in words.

    Examples split in two halves, so no example is shown both whole and broken.
    """
    prompts = sorted(set(prompts) | set(pack.prompts)) or ["…"]
    out = [(p, c, label, "file") for p, c, label in read_gold_file(pack)]
    if pack.form.lines or pack.form.pattern:  # a form rule: the automatic gold
        examples = [e for e in pack.examples if check_form(e, pack.form, clean=False).verdict == PASS]
        good, spare = examples[: (len(examples) + 1) // 2], examples[(len(examples) + 1) // 2 :]
        out += [(nearest_prompt(e, prompts), e, GOOD, "example") for e in good]
        bad: list[tuple[str, str, str, str]] = []
        for e in spare:
            broken = "\n".join(e.splitlines()[:-1])
            if broken.strip() and check_form(broken, pack.form, clean=False).verdict == FAIL:
                bad.append((nearest_prompt(e, prompts), broken, BAD, "broken"))
        foreign = [
            (nearest_prompt(e, prompts), e, BAD, "other_language")
            for e in _other_examples(pack.code)
            if answer_language(e, pack.code) != pack.code
        ]
        echoes = [
            (p, p, BAD, "not_a_poem")
            for p in sorted(prompts)
            if check_form(p, pack.form, clean=False).verdict == FAIL
        ]
        # the three kinds in turn, no more known-bad than known-good: gold is half of each
        turns = [x for group in zip_longest(bad, foreign, echoes) for x in group if x is not None]
        out += turns[: len(good)]
    counts = {k: sum(1 for x in out if x[3] == k) for k in KINDS}
    return out, [f"{n} {KINDS[k]}" for k, n in counts.items() if n]


def default_count(records: int) -> int:
    return max(GOLD_MIN, math.ceil(GOLD_SHARE * records))


def gold_records(
    pack: LanguagePack,
    records: list[dict[str, Any]],
    wanted: int | None,
    seed: int = 0,
) -> list[Gold]:
    """`wanted` gold records for a task of `records` (None: the default, capped by what the pack allows;
    an explicit number beyond it is an error saying how many there are). Half known-good where it can.

    A candidate whose text is already a record of the task is not gold (the real record stays).
    """
    if wanted is not None and wanted < 0:
        raise KitError(f"--gold must be 0 or more, got {wanted}")
    if wanted == 0 or not records:
        return []
    prompts = [r["fields"]["prompt"] for r in records]
    models = sorted({m for r in records for m in r["metadata"]["model"]})
    found, _ = candidates(pack, prompts)
    taken = {r["id"] for r in records}
    rng = random.Random(seed)
    built: list[Gold] = []
    for prompt, completion, label, kind in found:
        row = {"input": prompt, "generation_model": [rng.choice(models)], "generations": [completion]}
        made = build_records([row], pack)
        if made and made[0]["id"] not in taken:
            taken.add(made[0]["id"])
            built.append(Gold(made[0], label, kind))
    kinds = {k: sum(g.kind == k for g in built) for k in KINDS}
    described = [f"{n} {KINDS[k]}" for k, n in kinds.items() if n]
    if wanted is None:
        wanted = min(default_count(len(records)), len(built))
    elif wanted > len(built):
        where = f"languages/{pack.code}/{GOLD_FILE}"
        raise KitError(
            f"--gold {wanted}: the pack allows {len(built)} gold answers "
            f"({', '.join(described) or 'none: it has no form rule and no ' + where}); pass --gold "
            f"{len(built)} or fewer, or add known answers to {where}"
        )
    good = [g for g in built if g.expected == GOOD]
    bad = [g for g in built if g.expected == BAD]
    n_good = min(len(good), max(wanted - len(bad), (wanted + 1) // 2))
    return good[:n_good] + bad[: wanted - n_good]


def describe(gold: list[Gold]) -> str:
    """`12 (6 good, 6 bad: 6 example, 2 broken, ...)` for the plan."""
    kinds: dict[str, int] = {}
    for g in gold:
        kinds[g.kind] = kinds.get(g.kind, 0) + 1
    good = sum(g.expected == GOOD for g in gold)
    detail = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in kinds.items())
    return f"{len(gold)} ({good} good, {len(gold) - good} bad: {detail})" if gold else "none"


# ---- the key on the server --------------------------------------------------------------------------


def _key_settings(client: rg.Argilla) -> rg.Settings:
    import argilla as rg

    return rg.Settings(
        fields=[rg.TextField(name=name, client=client) for name in KEY_FIELDS],
        # Argilla publishes no dataset without a required question; nobody answers this one
        questions=[rg.TextQuestion(name="note", title="note", required=True, client=client)],
        guidelines="The gold answers' key (ktokit): record id -> expected label. Not for annotators.",
    )


def _find(client: rg.Argilla, workspace: str, name: str) -> rg.Dataset | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK warns before returning None
        ws = client.workspaces(name=workspace)
        return None if ws is None else client.datasets(name=name, workspace=ws)


def load_key(client: rg.Argilla, workspace: str, dataset: str) -> dict[str, str]:
    """Record id -> expected label of the dataset's gold; empty when it has none (a dataset made before
    gold existed, `--gold 0`), or when this user may not read the key (then no answer is graded)."""
    from ktokit.annotate.admin import request

    key = _find(client, key_workspace(workspace), key_dataset(dataset))  # None outside the workspace
    if key is None:
        return {}
    found: dict[str, str] = {}
    while True:
        items = request(
            client.http_client,
            "GET",
            f"/api/v1/datasets/{key.id}/records",
            "reading the gold key failed",
            params={"offset": len(found), "limit": KEY_PAGE},
        )["items"]
        found.update({str(i["fields"]["record_id"]): str(i["fields"]["expected"]) for i in items})
        if len(items) < KEY_PAGE:
            return found


def save_key(client: rg.Argilla, workspace: str, dataset: str, gold: list[Gold]) -> int:
    """Add `gold` to the key (created with its workspace on first use); a rerun adds nothing twice.
    Returns how many entries were added."""
    import argilla as rg

    from ktokit.annotate.task import ensure_workspace

    if not gold:
        return 0
    known = load_key(client, workspace, dataset)
    new = [g for g in gold if g.id not in known]
    if not new:
        return 0
    key = _find(client, key_workspace(workspace), key_dataset(dataset))
    if key is None:
        ws = ensure_workspace(client, key_workspace(workspace))
        key = rg.Dataset(
            name=key_dataset(dataset), workspace=ws, settings=_key_settings(client), client=client
        ).create()
    key.records.log(
        [rg.Record(id=g.id, fields={"record_id": g.id, "expected": g.expected, "kind": g.kind}) for g in new]
    )
    return len(new)


def save_key_entries(client: rg.Argilla, workspace: str, dataset: str, key: dict[str, str]) -> int:
    """The key as `load_key` returns it written back (a restore onto a fresh server)."""
    gold = [Gold({"id": rid}, expected, "restored") for rid, expected in sorted(key.items())]
    return save_key(client, workspace, dataset, gold)
