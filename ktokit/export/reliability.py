"""How far each annotator's votes can be trusted, from what Argilla holds: one flag and the reasons in words.

Four signals, each only where there is enough to judge:
- gold: accuracy on the gold records they answered (ktokit.annotate.gold holds the key);
- agreement: chance-corrected agreement (Krippendorff's alpha, nominal, the export's own measure) between
  their votes and the majority of the OTHER annotators on the same records (ties left out); computed
  twice, the second time without the annotators the first found unreliable, so careless voters do not
  drag the majority an honest one is compared with;
- their 👍 rate against the others': someone who presses 👍 (or 👎) on everything stands out;
- speed: answers submitted less than a reading time after their previous one (response timestamps).

Flags: `unreliable` when a signal is clearly bad (the reasons say which), `check` when there are too few
answers to tell, `ok` otherwise. Pure functions over `AnnotatedRecord`s, so the export (to leave
unreliable votes out), `progress` and the dashboard give the same verdicts.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from scipy.stats import binom

from ktokit.annotate.task import GOOD
from ktokit.export.aggregate import krippendorff_alpha
from ktokit.export.read import SUBMITTED, AnnotatedRecord

OK, CHECK, UNRELIABLE = "ok", "check", "unreliable"
ANNOTATOR_CHOICES = ("reliable", "all")  # export_kto.py --annotators

# Thresholds. Each signal needs enough answers to judge: below, it says nothing either way.
MIN_ANSWERS = 20  # votes before a flag other than `check` (with fewer, a careful annotator's bad luck
#                   looks like carelessness: 3 misses in 10 happen to someone right 85 % of the time)
MIN_GOLD = 5  # gold answered before gold accuracy counts
GOLD_ACCURACY_MIN = 0.7  # unreliable when their gold score would happen under 1 % of the time to someone
GOLD_ALPHA = 0.01  #       right 70 % of the time (binomial tail): a careful annotator is right 85-100 %
#                          of the time, random clicks on half-good, half-bad gold 50 %
MIN_SHARED = 20  # records shared with others (a strict majority among them) before agreement counts
AGREEMENT_MAX_BELOW = 0.45  # unreliable when we are 95 % sure their alpha is below this (its upper bound
#   under it): so the bar follows the number of records. Simulated (benchmarks/trust.py's voters): careful
#   annotators who slip on 15 % of votes score 0.3-0.9 (0.3 on 35 records has an upper bound of 0.54),
#   random clicks and one-button voting about 0 (an upper bound of 0.26 on 38 records); Landis & Koch
#   call below 0.4 fair agreement at best
UP_RATE_GAP = 0.35  # 👍 rate this far from the others' (e.g. 100 % against 50 %): one button for everything
FAST_SECONDS = 3.0  # nobody reads a prompt and an answer and decides in under 3 s
FAST_SHARE = 0.5  # unreliable when more than half of the timed answers came that fast ...
MIN_TIMED = 10  # ... out of at least this many gaps between answers
Z95 = 1.645  # one-sided 95 %
BULK_SECONDS = 1.0  # a median gap under this is not a person clicking through the UI (a script, the SDK,
#                     a restore logging answers in bulk): such times say nothing about reading


@dataclass
class AnnotatorScore:
    """One annotator's figures, flag and reasons (the `progress --json` keys are `public()`)."""

    annotator: str
    answers: int = 0  # votes: submitted, labelled, not flagged
    flagged: int = 0  # answers flagged (wrong language, harmful, can't judge)
    up_rate: float | None = None
    others_up_rate: float | None = None
    gold_answered: int = 0
    gold_correct: int = 0
    agreement: float | None = None  # alpha with the others' majority
    agreement_upper: float | None = None  # its one-sided 95 % upper bound
    shared: int = 0  # records in that agreement
    fast: int = 0  # answers that came under FAST_SECONDS after the previous one
    timed: int = 0  # gaps between answers that were timed (0: none, or logged in bulk)
    flag: str = CHECK
    why: list[str] = field(default_factory=list)

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_answered if self.gold_answered else None

    def public(self) -> dict[str, object]:
        """The keys `progress --json` adds to an annotator."""
        accuracy = self.gold_accuracy
        return {
            "gold_answered": self.gold_answered,
            "gold_accuracy": None if accuracy is None else round(accuracy, 4),
            "agreement": None if self.agreement is None else round(self.agreement, 4),
            "flag": self.flag,
            "why": list(self.why),
        }

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "gold_accuracy": self.gold_accuracy}


def _seconds(stamp: str) -> float | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def timing(stamps: Iterable[str]) -> tuple[int, int]:
    """(answers under FAST_SECONDS after the previous one, gaps timed) from submission times; (0, 0) for
    answers logged in bulk, whose times say nothing about reading."""
    times = sorted(t for t in (_seconds(s) for s in stamps if s) if t is not None)
    gaps = [b - a for a, b in zip(times, times[1:])]
    if not gaps or statistics.median(gaps) < BULK_SECONDS:
        return 0, 0
    return sum(g < FAST_SECONDS for g in gaps), len(gaps)


def alpha_upper(units: list[list[str]], z: float = Z95) -> float | None:
    """The upper end of a one-sided confidence interval of Krippendorff's alpha (two coders, nominal):
    alpha = 1 - D_o / D_e with D_o = 1 - p_o (the share of units where the two agree); the Wilson upper
    bound of p_o, the expected disagreement D_e held fixed. None when alpha is undefined."""
    n = len(units)
    values = Counter(v for unit in units for v in unit)
    expected = 1 - sum(c * (c - 1) for c in values.values()) / (2 * n * (2 * n - 1)) if n else 0.0
    if not n or expected <= 0:
        return None
    p = sum(a == b for a, b in units) / n
    upper = (p + z * z / (2 * n) + z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)
    return 1 - (1 - min(1.0, upper)) / expected


def _agreement(
    records: list[AnnotatedRecord], annotator: str, left_out: set[str]
) -> tuple[float | None, float | None, int]:
    """Alpha between the annotator's votes and the strict majority of the others (not `left_out`), its
    upper confidence bound, and the number of records compared."""
    units = []
    for r in records:
        mine = [a.vote for a in r.answers if a.annotator == annotator and a.vote]
        if not mine:
            continue
        others = Counter(
            a.vote for a in r.answers if a.vote and a.annotator != annotator and a.annotator not in left_out
        )
        top = others.most_common(2)
        if not top or (len(top) == 2 and top[0][1] == top[1][1]):
            continue  # nobody else, or a tie: no majority to compare with
        units.append([mine[0], top[0][0]])
    return (krippendorff_alpha(units) if units else None), alpha_upper(units), len(units)


def _judge(s: AnnotatorScore) -> AnnotatorScore:
    """The flag and its reasons from the figures."""
    bad, good = [], []
    pct = lambda x: f"{100 * x:.0f} %"  # noqa: E731
    if s.gold_answered >= MIN_GOLD:
        text = f"gold: {s.gold_correct} of {s.gold_answered} right ({pct(s.gold_correct / s.gold_answered)})"
        below = binom.cdf(s.gold_correct, s.gold_answered, GOLD_ACCURACY_MIN) < GOLD_ALPHA
        (bad if below else good).append(text)
    if s.agreement is not None and s.agreement_upper is not None and s.shared >= MIN_SHARED:
        text = f"agreement with the others' majority {s.agreement:.2f} (alpha, {s.shared} records)"
        (bad if s.agreement_upper < AGREEMENT_MAX_BELOW else good).append(text)
    rates = s.up_rate is not None and s.others_up_rate is not None
    if rates and s.answers >= MIN_ANSWERS and abs(s.up_rate - s.others_up_rate) > UP_RATE_GAP:
        bad.append(f"👍 on {pct(s.up_rate)} of answers, the others {pct(s.others_up_rate)}")
    if s.timed >= MIN_TIMED and s.fast > FAST_SHARE * s.timed:
        bad.append(f"{s.fast} of {s.timed} answers came under {FAST_SECONDS:g} s after the previous one")
    if bad:
        return replace(s, flag=UNRELIABLE, why=bad)
    if s.answers < MIN_ANSWERS:
        return replace(
            s, flag=CHECK, why=[f"{s.answers} answers: too few to tell ({MIN_ANSWERS} needed)", *good]
        )
    if not good:
        return replace(
            s,
            flag=CHECK,
            why=[f"fewer than {MIN_GOLD} gold answers and {MIN_SHARED} records shared with others"],
        )
    return replace(s, flag=OK, why=good)


def score_annotators(records: Iterable[AnnotatedRecord]) -> dict[str, AnnotatorScore]:
    """Every annotator with an answer: figures, flag and reasons (see the module docstring)."""
    records = list(records)
    votes: dict[str, list[str]] = defaultdict(list)
    stamps: dict[str, list[str]] = defaultdict(list)
    scores: dict[str, AnnotatorScore] = {}
    for r in records:
        for a in r.answers:
            s = scores.setdefault(a.annotator, AnnotatorScore(a.annotator))
            s.flagged += bool(a.flag)
            if a.status == SUBMITTED:
                stamps[a.annotator].append(a.updated_at)
            if not a.vote:
                continue
            votes[a.annotator].append(a.vote)
            if r.gold:
                s.gold_answered += 1
                s.gold_correct += a.vote == r.gold
    total_up = sum(v.count(GOOD) for v in votes.values())
    total = sum(len(v) for v in votes.values())
    for name, s in scores.items():
        mine = votes[name]
        s.answers = len(mine)
        s.up_rate = mine.count(GOOD) / len(mine) if mine else None
        rest = total - len(mine)
        s.others_up_rate = (total_up - mine.count(GOOD)) / rest if rest else None
        s.fast, s.timed = timing(stamps[name])
    left_out: set[str] = set()
    for _ in range(2):  # the second round compares with the majority of those the first found reliable
        for name, s in scores.items():
            s.agreement, s.agreement_upper, s.shared = _agreement(records, name, left_out - {name})
        judged = {name: _judge(s) for name, s in scores.items()}
        left_out = {name for name, s in judged.items() if s.flag == UNRELIABLE}
    return dict(sorted(judged.items()))


def unreliable(scores: dict[str, AnnotatorScore]) -> set[str]:
    return {name for name, s in scores.items() if s.flag == UNRELIABLE}


def without(records: Iterable[AnnotatedRecord], annotators: set[str]) -> list[AnnotatedRecord]:
    """The records with the answers of `annotators` taken out (the export's `--annotators reliable`)."""
    return [replace(r, answers=[a for a in r.answers if a.annotator not in annotators]) for r in records]
