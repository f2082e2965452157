"""A new pack drafted by models and reviewed by speakers: draft-prompts, draft-examples, review-pack,
accept-pack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ktokit.console import say
from ktokit.draft.review import ReviewArguments
from ktokit.options import add_command, language_option, option

DRAFT_FOR = "the pack to draft for, e.g. pt"


def models_option() -> Any:
    return option(
        "model set: a YAML file or a shipped name, as for preference_gen.py (default: `default` with a "
        "Hugging Face token, else `offline`)",
        None,
        aliases="-m",
    )


def runner_option() -> Any:
    return option(
        "`local` (threads in this process) or `distilabel` (distilabel's multi-process runner)",
        "local",
        choices=["local", "distilabel"],
    )


@dataclass
class DraftPromptsArguments:
    language: str = language_option(help=DRAFT_FOR)
    source: str | None = option(
        "translate this pack's prompts, e.g. en",
        None,
        flag="--from",
        metavar="CODE",
        exclusive="origin",
        required=True,
    )
    topics: str | None = option(
        "a text file, one topic per line: one prompt per topic",
        None,
        metavar="FILE",
        exclusive="origin",
        required=True,
    )
    models: str | None = models_option()
    n: int | None = option("use only the first N prompts or topics (default: all)", None)
    runner: str = runner_option()


@dataclass
class DraftExamplesArguments:
    language: str = language_option(help=DRAFT_FOR)
    models: str | None = models_option()
    n: int | None = option("answer only the first N prompts (default: all)", None)
    runner: str = runner_option()


def draft_prompts(args: DraftPromptsArguments) -> None:
    from ktokit.draft.run import draft_prompts

    run = draft_prompts(args.language, args.models, args.source, args.topics, args.n, args.runner)
    print("\n".join(run.report_lines()))


def draft_examples(args: DraftExamplesArguments) -> None:
    from ktokit.draft.run import draft_examples

    print("\n".join(draft_examples(args.language, args.models, args.n, args.runner).report_lines()))


def review_pack(args: ReviewArguments) -> None:
    from ktokit.draft.review import plan_review, review_pack

    plan = plan_review(args)
    print("\n".join(plan.report_lines()))  # before the server is reached: the upload can take a while
    print("\n".join(review_pack(args, plan).report_lines()))
    say(f"then: python -m ktokit accept-pack --language {plan.pack.code}")


@dataclass
class AcceptArguments:
    language: str = language_option()
    dataset_name: str | None = option("default: the one review-pack recorded", None)


def accept_pack(args: AcceptArguments) -> None:
    from ktokit.draft.accept import accept_pack

    print("\n".join(accept_pack(args.language, args.dataset_name).report_lines()))


def register(commands) -> None:
    add_command(
        commands,
        "draft-prompts",
        DraftPromptsArguments,
        draft_prompts,
        help="draft a pack's prompts: translated from another pack, or from topics",
        description="Draft prompts for a pack with a model set; cleaned, de-duplicated and "
        "language-checked drafts go to outputs/CODE/drafts/prompts.jsonl.",
    )
    add_command(
        commands,
        "draft-examples",
        DraftExamplesArguments,
        draft_examples,
        help="draft a pack's examples: answers that pass its form check",
        description="Draft examples for a pack with a model set: answers to its prompts (and drafted "
        "prompts) that pass the form and language checks, de-duplicated, go to "
        "outputs/CODE/drafts/examples.jsonl.",
    )
    add_command(
        commands,
        "review-pack",
        ReviewArguments,
        review_pack,
        help="drafted prompts and examples → an Argilla review dataset (accept / edit / reject)",
        description="Drafts of a new pack (outputs/CODE/drafts/) as an Argilla dataset where speakers "
        "accept, edit or reject each; a rerun adds only new drafts.",
    )
    add_command(
        commands,
        "accept-pack",
        AcceptArguments,
        accept_pack,
        help="accepted and edited drafts → prompts.txt / examples.txt, then validate",
        description="Reads the submitted review answers and appends the accepted and edited drafts to the "
        "pack (never twice, never deleting a line), then validates it.",
    )
