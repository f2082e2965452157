"""One label per record from its submitted votes, and how much the annotators agreed.

Only *submitted* responses are votes (drafts and discards never count). `majority` keeps the label
most votes gave and leaves ties out; `unanimous` keeps a record only when every vote agrees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import krippendorff

from ktokit.console import KitError
from ktokit.export.read import AnnotatedRecord

STRATEGIES = ("majority", "unanimous")
# Why a record is not in the KTO rows (the card lists these counts)
KEPT, UNRATED, TOO_FEW, TIE, NOT_UNANIMOUS = "kept", "unrated", "too_few_votes", "tie", "not_unanimous"
WRONG_LANGUAGE, FLAGGED = "wrong_language", "flagged"
LEFT_OUT = (FLAGGED, UNRATED, WRONG_LANGUAGE, TOO_FEW, TIE, NOT_UNANIMOUS)
# Flags that take the answer out of the rows whatever the votes say; `cant_judge` only withholds a vote
RECORD_FLAGS = ("wrong_language", "harmful")


@dataclass(frozen=True)
class Decision:
    record: AnnotatedRecord
    label: bool | None  # None: left out, see `reason`
    reason: str


def decide(
    record: AnnotatedRecord, strategy: str = "majority", min_votes: int = 1, drop_wrong_language: bool = False
) -> Decision:
    """One record's label. majority: more 👍 than 👎 (or the reverse), ties left out;
    unanimous: every vote the same. Fewer than `min_votes` submitted votes: left out, and so is a
    rated answer in another language than the pack's when `drop_wrong_language`, and an answer an
    annotator flagged as in the wrong language or harmful (flagged answers are never votes)."""
    up, down = record.votes_up, record.votes_down
    if any(f in RECORD_FLAGS for f in record.flags):
        return Decision(record, None, FLAGGED)
    if up + down == 0:
        return Decision(record, None, UNRATED)
    if drop_wrong_language and record.detected_language not in ("", record.language):
        return Decision(record, None, WRONG_LANGUAGE)
    if up + down < min_votes:
        return Decision(record, None, TOO_FEW)
    if strategy == "unanimous":
        if up and down:
            return Decision(record, None, NOT_UNANIMOUS)
        return Decision(record, up > 0, KEPT)
    if up == down:
        return Decision(record, None, TIE)
    return Decision(record, up > down, KEPT)


def aggregate(
    records: Iterable[AnnotatedRecord],
    strategy: str = "majority",
    min_votes: int = 1,
    drop_wrong_language: bool = False,
) -> list[Decision]:
    if strategy not in STRATEGIES:
        raise KitError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if min_votes < 1:
        raise KitError(f"--min_votes must be at least 1, got {min_votes}")
    return [decide(r, strategy, min_votes, drop_wrong_language) for r in records]


def krippendorff_alpha(units: Iterable[Iterable[str]]) -> float | None:
    """Krippendorff's alpha for nominal data (the `krippendorff` package); units with fewer than 2 values
    are not pairable.

    None when it is undefined (no pairable unit, or every value the same, so no disagreement is
    even possible to measure): the package raises or returns nan there, so those cases are told apart here.
    """
    pairable = [c for c in map(Counter, units) if c.total() >= 2]
    values = sorted({v for c in pairable for v in c})
    if len(values) < 2:
        return None
    counts = [[c[v] for v in values] for c in pairable]
    return float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))


def pairwise_agreement(units: Iterable[Iterable[str]]) -> float | None:
    """Share of annotator pairs on the same record who gave the same label."""
    same = total = 0
    for unit in units:
        counts = Counter(unit)
        m = sum(counts.values())
        total += m * (m - 1) // 2
        same += sum(n * (n - 1) // 2 for n in counts.values())
    return same / total if total else None
