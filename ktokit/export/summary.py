"""Every figure of an export: counts, what was left out and why, agreement, 👍 rate per model."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ktokit.export.aggregate import LEFT_OUT, Decision, krippendorff_alpha, pairwise_agreement
from ktokit.export.read import DISCARDED, DRAFT, SUBMITTED, AnnotatedRecord
from ktokit.export.reliability import AnnotatorScore
from ktokit.kto_format import prompt_text


@dataclass
class ModelRate:
    model: str
    up: int
    down: int

    @property
    def rate(self) -> float:
        return self.up / (self.up + self.down) if self.up + self.down else 0.0


@dataclass
class ExportSummary:
    """Every figure the card shows; written as export_summary.json next to the data."""

    language: str
    language_name: str
    dataset: str
    strategy: str
    min_votes: int
    form: str
    records: int
    rated: int
    left_out: dict[str, int]
    rows: int
    up: int
    down: int
    splits: dict[str, int]
    prompts: int
    dpo_pairs: int | None
    responses: dict[str, int]
    annotators: int
    overlap_records: int
    alpha: float | None
    pairwise_agreement: float | None
    models: list[ModelRate]
    raw: int | None
    other_language: int = 0  # records whose completion is not in the pack's language (detected)
    drop_wrong_language: bool = False
    gold: int = 0  # gold records (known answers: ktokit.annotate.gold), never rows
    flags: dict[str, int] = field(default_factory=dict)  # answers flagged, by reason
    annotators_mode: str = "all"  # export_kto.py --annotators
    reliability: dict[str, int] = field(default_factory=dict)  # annotators per flag (ok, check, unreliable)
    left_out_annotators: dict[str, list[str]] = field(default_factory=dict)  # pseudonym -> reasons
    left_out_votes: int = 0
    alpha_all: float | None = None  # alpha with every annotator's votes (before leaving any out)
    rounds: list[int] = field(default_factory=list)  # the annotation rounds of the rows, sorted
    rows_per_round: dict[str, int] = field(default_factory=dict)  # round (as text: JSON keys) -> rows

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    def report(self) -> list[str]:
        """What export_kto.py prints: the rows, what was left out and why, the agreement."""
        lines = [
            f"records      {self.records} ({self.rated} with a submitted vote); responses "
            + ", ".join(f"{n} {k}" for k, n in self.responses.items())
            + f"; {self.annotators} annotators",
            f"KTO rows     {self.rows} ({', '.join(f'{k} {n}' for k, n in self.splits.items())}): "
            f"{self.up} 👍 / {self.down} 👎, {self.strategy}, min votes {self.min_votes}, {self.form} form",
        ]
        if self.rows_per_round:
            lines.append(f"rounds       {rounds_text(self.rows_per_round)}")
        if self.left_out:
            lines.append(
                "left out     "
                + ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in self.left_out.items())
            )
        if self.other_language:
            lines.append(
                f"language     {self.other_language} records not in the pack's language: "
                + (
                    "left out (--drop-wrong-language)"
                    if self.drop_wrong_language
                    else "kept (export with --drop-wrong-language to leave them out)"
                )
            )
        alpha = "n/a" if self.alpha is None else f"{self.alpha:.3f}"
        before = "n/a" if self.alpha_all is None else f"{self.alpha_all:.3f}"
        lines.append(
            f"agreement    Krippendorff's alpha {alpha} on {self.overlap_records} records with 2+ votes"
            + (f" ({before} with every annotator's votes)" if self.left_out_annotators else "")
        )
        if self.reliability:
            lines.append(
                "annotators   "
                + ", ".join(f"{n} {flag}" for flag, n in self.reliability.items())
                + (f"; {self.gold} gold records (never rows)" if self.gold else "; no gold records")
            )
        for name, why in self.left_out_annotators.items():
            lines.append(f"left out     {name} (unreliable): {'; '.join(why)}")
        if self.left_out_annotators:
            lines.append(
                f"             {self.left_out_votes} votes of {len(self.left_out_annotators)} "
                "annotators left "
                "out (--annotators all keeps them)"
            )
        elif self.annotators_mode == "all" and self.reliability.get("unreliable"):
            lines.append("             unreliable annotators' votes kept (--annotators all)")
        if self.flags:
            lines.append(
                "flags        " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in self.flags.items())
            )
        if self.dpo_pairs is not None:
            lines.append(f"DPO pairs    {self.dpo_pairs}")
        return lines


def rounds_text(rows_per_round: dict[str, int]) -> str:
    """`round 1: 40 rows, round 2: 38 rows`: the rounds an export holds, in order."""
    return ", ".join(
        f"round {k}: {n} row{'s' if n != 1 else ''}"
        for k, n in sorted(rows_per_round.items(), key=_round_key)
    )


def _round_key(item: tuple[str, int]) -> int:
    return int(item[0])


def model_rates(decisions: Iterable[Decision]) -> list[ModelRate]:
    """👍/👎 of the exported rows per generating model (a text two models wrote counts for both)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d in decisions:
        if d.label is None:
            continue
        for model in d.record.models or ("unknown",):
            counts[model][0 if d.label else 1] += 1
    rates = [ModelRate(m, up, down) for m, (up, down) in counts.items()]
    return sorted(rates, key=lambda r: (-r.rate, -(r.up + r.down), r.model))


def summarise(
    records: list[AnnotatedRecord],
    decisions: list[Decision],
    rows: list[dict[str, Any]],
    splits: dict[str, list],
    pairs: list | None,
    raw: list | None,
    *,
    language: str,
    language_name: str,
    dataset: str,
    strategy: str,
    min_votes: int,
    form: str,
    drop_wrong_language: bool = False,
    before: list[AnnotatedRecord] | None = None,
    scores: dict[str, AnnotatorScore] | None = None,
    left_out: set[str] | None = None,
    annotators_mode: str = "all",
) -> ExportSummary:
    """The figures of an export; `records` are the votes used, `before` every vote (what was left out)."""
    before = records if before is None else before
    scores, left_out = scores or {}, left_out or set()
    reasons = Counter(d.reason for d in decisions)
    statuses = Counter(a.status for r in before for a in r.answers)
    submitters = {a.annotator for r in before for a in r.answers if a.status == SUBMITTED and a.value}
    units = [r.votes for r in records if len(r.votes) >= 2]
    up = sum(1 for r in rows if r["label"])
    alpha = krippendorff_alpha(units)
    alpha_all = krippendorff_alpha([r.votes for r in before if len(r.votes) >= 2])
    flags = Counter(f for r in records if r.gold is None for f in r.flags)
    agree = pairwise_agreement(units)
    per_round = Counter(int(r.get("round", 1)) for r in rows)
    return ExportSummary(
        language=language,
        language_name=language_name,
        dataset=dataset,
        strategy=strategy,
        min_votes=min_votes,
        form=form,
        records=len(records),
        rated=sum(1 for d in decisions if d.record.votes),
        left_out={k: reasons[k] for k in LEFT_OUT if reasons[k]},
        rows=len(rows),
        up=up,
        down=len(rows) - up,
        splits={k: len(v) for k, v in splits.items()},
        prompts=len({prompt_text(r["prompt"]) for r in rows}),
        dpo_pairs=None if pairs is None else len(pairs),
        responses={s: statuses[s] for s in (SUBMITTED, DRAFT, DISCARDED)},
        annotators=len(submitters),
        overlap_records=len(units),
        alpha=None if alpha is None else round(alpha, 4),
        pairwise_agreement=None if agree is None else round(agree, 4),
        models=model_rates(decisions),
        raw=None if raw is None else len(raw),
        other_language=sum(
            1 for r in records if r.gold is None and r.detected_language not in ("", r.language)
        ),
        drop_wrong_language=drop_wrong_language,
        gold=sum(1 for r in records if r.gold is not None),
        flags=dict(sorted(flags.items())),
        annotators_mode=annotators_mode,
        reliability={
            k: n for k in ("ok", "check", "unreliable") if (n := sum(s.flag == k for s in scores.values()))
        },
        left_out_annotators={name: scores[name].why for name in sorted(left_out)},
        left_out_votes=sum(1 for r in before for a in r.answers if a.annotator in left_out and a.vote),
        alpha_all=None if alpha_all is None else round(alpha_all, 4),
        rounds=sorted(per_round),
        rows_per_round={str(k): per_round[k] for k in sorted(per_round)},
    )
