"""export_kto.py's work: read the language's dataset, aggregate, shape, split, report, write, push."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ktokit.console import KitError, say
from ktokit.export.aggregate import LEFT_OUT, aggregate
from ktokit.export.read import DRAFT, SUBMITTED, AnnotatedRecord
from ktokit.export.reliability import ANNOTATOR_CHOICES, score_annotators, unreliable, without
from ktokit.export.rows import dpo_pairs, kto_rows, raw_rows, split_prompts, split_rows
from ktokit.export.summary import ExportSummary, summarise
from ktokit.hub import check_hub_options
from ktokit.kto_format import prompt_text
from ktokit.options import option

if TYPE_CHECKING:
    from ktokit.packs.languages import LanguagePack


@dataclass
class ExportArguments:
    """export_kto.py's options (flags, or keys of a `--config` YAML file)."""

    language: str = option("Language pack code, e.g. `es`: the dataset create_task.py made for it.")
    strategy: str = option(
        "How votes become one label: `majority` (ties left out) or `unanimous` (any disagreement left out).",
        "majority",
        choices=["majority", "unanimous"],
    )
    min_votes: int = option("Submitted votes a record needs to be exported.", 1)
    annotators: str = option(
        "Whose votes count: `reliable` leaves out the votes of annotators flagged unreliable (gold "
        "answers, agreement with the others, 👍 rate, speed: docs/export.md); `all` keeps every vote.",
        "reliable",
        choices=list(ANNOTATOR_CHOICES),
    )
    conversational: bool = option(
        "Conversational rows (lists of messages, the pack's system prompt included) "
        "instead of standard text rows.",
        False,
    )
    dpo: bool = option("Also write DPO pairs (prompt, chosen, rejected) to <output_dir>/dpo.", False)
    test_size: float = option(
        "Fraction of prompts in a test split, chosen by a hash of the prompt "
        "(deterministic; no prompt on both sides). 0: train only.",
        0.0,
    )
    drop_wrong_language: bool = option(
        "Leave out answers not in the pack's language (the language check of "
        "docs/packs.md; metadata `detected_language`); the card counts them.",
        False,
    )
    raw: bool = option(
        "Also save every response (drafts and discards too, annotators pseudonymised) to "
        "<output_dir>/raw: a backup of the community's work.",
        False,
    )
    output_dir: str | None = option("Where to write (default: outputs/<language>/kto).", None)
    push_to_hub: bool = option("Also push the export to the Hub dataset repo --hub_model_id.", False)
    hub_model_id: str | None = option("The Hub dataset repo ORG/NAME that --push_to_hub pushes to.", None)
    hub_private_repo: bool = option("Create the Hub dataset repo as private.", False)
    rounds: str | None = option(
        "Annotation rounds to export, e.g. `1,2` or `2` (the records' `round` metadata, which "
        "`create_task.py --round N` writes; records without it are round 1). Default: every round.",
        None,
    )
    dataset_name: str | None = option("Argilla dataset (default: the one create_task.py recorded).", None)
    workspace: str | None = option("Argilla workspace (default: the one create_task.py recorded).", None)

    def __post_init__(self) -> None:
        """A repo id the Hub refuses, or rounds that are not round numbers: one line before the server
        is read."""
        check_hub_options(self.push_to_hub, self.hub_model_id)
        parse_rounds(self.rounds)

    @property
    def round_numbers(self) -> list[int] | None:
        """The rounds `--rounds` chose, sorted; None for every round."""
        return parse_rounds(self.rounds)


def parse_rounds(value: str | int | list | None) -> list[int] | None:
    """`--rounds 1,2` (or a YAML list, or one number) → [1, 2]; None (every round) when not given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parts = value if isinstance(value, list) else str(value).replace(" ", "").split(",")
    numbers = set()
    for part in parts:
        try:
            number = int(str(part))
        except ValueError:
            raise KitError(
                f"--rounds {value!r}: {str(part)!r} is not a round number; give round numbers "
                "separated by commas, e.g. --rounds 1,2"
            ) from None
        if number < 1:
            raise KitError(f"--rounds {value!r}: round numbers start at 1, got {number}")
        numbers.add(number)
    return sorted(numbers)


def export_kto(args: ExportArguments) -> Export:
    """The whole step: the dataset create_task.py recorded → one label per record → rows, written and
    pushed. Returns the export with where it went (export_kto.py prints its `report()`)."""
    import datasets

    from ktokit.export.read import connect, fetch_records
    from ktokit.export.write import push_export, write_export
    from ktokit.packs.languages import load_pack

    datasets.disable_progress_bars()  # the step prints its own summary
    pack = load_pack(args.language)
    client, dataset, where = connect(pack.code, args.dataset_name, args.workspace)
    rounds = args.round_numbers
    chosen = f"round{'s' if len(rounds) > 1 else ''} {', '.join(map(str, rounds))} of " if rounds else ""
    say(f"reading {chosen}{where}")
    records = fetch_records(client, dataset, pack.code)
    export = build_export(
        records,
        pack,
        dataset=f"{dataset.workspace.name}/{dataset.name}",
        strategy=args.strategy,
        min_votes=args.min_votes,
        conversational=args.conversational,
        dpo=args.dpo,
        test_size=args.test_size,
        raw=args.raw,
        where=where,
        drop_wrong_language=args.drop_wrong_language,
        annotators=args.annotators,
        rounds=rounds,
    )
    # Written locally always (it is the backup), then pushed if asked
    export.folder = write_export(
        args.output_dir or Path("outputs") / pack.code / "kto",
        export.kto,
        export.summary,
        dpo=export.dpo,
        raw=export.raw,
    )
    if args.push_to_hub:
        say(f"pushing {export.folder} to {args.hub_model_id} ...")
        export.url = push_export(export.folder, args.hub_model_id, private=args.hub_private_repo)
    return export


def in_rounds(records: list[AnnotatedRecord], rounds: list[int] | None, where: str) -> list[AnnotatedRecord]:
    """The records of `rounds` (gold records too, whatever their round: they are never rows, and they
    score annotators); a round with no record is one line naming the rounds there are."""
    if rounds is None:
        return records
    present = sorted({r.round for r in records if r.gold is None})
    missing = [n for n in rounds if n not in present]
    if missing:
        have = ", ".join(map(str, present))
        raise KitError(
            f"--rounds: no records of round {', '.join(map(str, missing))} in {where}; its rounds are {have} "
            "(`create_task.py --round N` adds a round)"
        )
    return [r for r in records if r.gold is not None or r.round in rounds]


@dataclass
class Export:
    """Everything one export produced, in memory (tests read it; `write_export` saves it)."""

    kto: dict[str, list[dict[str, Any]]]
    dpo: dict[str, list[dict[str, Any]]] | None
    raw: list[dict[str, Any]] | None
    summary: ExportSummary
    folder: Path | None = None  # where `write_export` saved it
    url: str | None = None  # the Hub dataset, once pushed

    def report(self) -> list[str]:
        """What export_kto.py prints: the summary, then where the export was written and pushed."""
        lines = self.summary.report()
        if self.folder:
            files = ", ".join(f"{k}.jsonl" for k in self.kto)
            lines.append(f"wrote        {self.folder}/ (load_from_disk, {files}, README.md)")
        return lines + ([f"pushed       {self.url}"] if self.url else [])


def build_export(
    records: list[AnnotatedRecord],
    pack: LanguagePack,
    *,
    dataset: str,
    strategy: str = "majority",
    min_votes: int = 1,
    conversational: bool = False,
    dpo: bool = False,
    test_size: float = 0.0,
    raw: bool = False,
    where: str | None = None,
    drop_wrong_language: bool = False,
    annotators: str = "reliable",
    rounds: list[int] | None = None,
) -> Export:
    """Score the annotators, leave out the unreliable ones' votes (`annotators="reliable"`), aggregate the
    records that are not gold, shape and split; a KitError when there is nothing to export, saying why.

    `rounds` keeps the records of those annotation rounds (None: every round). Annotators are scored on
    every round's answers, gold included: reliability belongs to the person, not to a round.
    """
    if annotators not in ANNOTATOR_CHOICES:
        raise KitError(f"--annotators must be one of {', '.join(ANNOTATOR_CHOICES)}, got {annotators!r}")
    where = where or dataset
    if not records:
        raise KitError(f"{where} has no records: run `python create_task.py --language {pack.code}` first")
    scores = score_annotators(records)
    records = in_rounds(records, rounds, where)
    left_out = unreliable(scores) if annotators == "reliable" else set()
    used = without(records, left_out)
    decisions = aggregate([r for r in used if r.gold is None], strategy, min_votes, drop_wrong_language)
    submitted = sum(1 for r in records for a in r.answers if a.status == SUBMITTED and a.value)
    if not submitted:
        drafts = sum(1 for r in records for a in r.answers if a.status == DRAFT)
        raise KitError(
            f"no submitted responses yet in {where}: {len(records)} records pending"
            + (f" ({drafts} draft{'s' if drafts != 1 else ''} saved, not submitted)" if drafts else "")
            + "; annotate, then export again"
        )
    rows = kto_rows(decisions, pack, conversational)
    if not rows:
        reasons = Counter(d.reason for d in decisions if d.label is None)
        why = ", ".join(f"{reasons[k]} {k.replace('_', ' ')}" for k in LEFT_OUT if reasons[k])
        raise KitError(
            f"no record passes the aggregation (--strategy {strategy}, --min_votes {min_votes}): {why}; "
            "lower --min_votes, use --strategy majority, or annotate more"
        )
    test_prompts = split_prompts((prompt_text(r["prompt"]) for r in rows), test_size)
    kto = split_rows(rows, test_prompts)
    pairs = dpo_pairs(decisions, pack, conversational) if dpo else None
    dpo_splits = split_rows(pairs, test_prompts) if pairs is not None else None
    raw_list = raw_rows(records) if raw else None
    summary = summarise(
        used,
        decisions,
        rows,
        kto,
        pairs,
        raw_list,
        language=pack.code,
        language_name=f"{pack.name} ({pack.native_name})" if pack.native_name != pack.name else pack.name,
        dataset=dataset,
        strategy=strategy,
        min_votes=min_votes,
        form="conversational" if conversational else "standard",
        drop_wrong_language=drop_wrong_language,
        before=records,
        scores=scores,
        left_out=left_out,
        annotators_mode=annotators,
    )
    return Export(kto=kto, dpo=dpo_splits, raw=raw_list, summary=summary)
