"""A tuned model, shown: evaluate (base vs tuned), demo-space (its Gradio Space), and demo (`make demo`)."""

from __future__ import annotations

from dataclasses import dataclass

from ktokit.options import add_command, language_option, option, output_option
from ktokit.spaces.options import SpaceOptions


@dataclass
class EvaluateArguments:
    language: str = language_option()
    adapter: str | None = option(
        "the LoRA adapter folder train_kto.py wrote (omit to evaluate the base only)", None
    )
    base: str | None = option(
        "base model (default: the adapter's base); tiny or tiny:<lang> for the tiny model", None
    )
    dataset: str | None = option(
        "the KTO dataset trained on: its prompts are left out (default: the one in the adapter's "
        "metrics.json)",
        None,
    )
    prompts: int = option("held-out prompts (default 8)", 8)
    seeds: int = option("seeds per prompt and setting, 1..N (default 2)", 2)
    temperature: list[float] = option("one or more (0 = greedy)", default_factory=lambda: [0.7])
    max_new_tokens: int = option("longest completion generated (default 64)", 64)
    batch_size: int = option("prompts generated together (default 16)", 16)
    output: str | None = output_option(
        "folder for the files (default: <adapter>/eval or outputs/<lang>/eval)"
    )


def evaluate(args: EvaluateArguments) -> None:
    from ktokit.train.evaluation import evaluate_adapter, summary_table

    summary, out = evaluate_adapter(**vars(args))  # the options are its parameters, by name
    print(summary_table(summary), end="")
    print(f"files: {out}/ (completions.jsonl, results-*.json, summary.md)")


@dataclass(kw_only=True)
class DemoSpaceArguments(SpaceOptions):
    language: str = language_option()
    adapter: str = option("the adapter folder train_kto.py wrote")
    base: str | None = option(
        "base model (default: the one in the adapter's metrics.json); a Hub id when the adapter was trained "
        "on a local copy",
        None,
    )
    output: str | None = output_option("where to render (default: outputs/<lang>/demo-space)")
    mode: str = option(
        "arena: blind A/B, names shown after the verdict (default); side-by-side: base and tuned, named",
        "arena",
        choices=["arena", "side-by-side"],
    )


def demo_space(args: DemoSpaceArguments) -> int:
    from ktokit.demo.space import prepare_demo_space

    space = prepare_demo_space(args.language, args.adapter, args.base, args, args.output, mode=args.mode)
    return space.run(args, show=print)


@dataclass
class DemoArguments:
    language: str = language_option("en", help="the pack to run the flow on (default: en)")
    sample: int | None = option(
        "prompts to generate for and rate (default: 72, enough for the votes to show)", None
    )
    stop_after_task: bool = option(
        "stop once the Argilla task exists, so people can annotate before export", False
    )


def demo(args: DemoArguments) -> int:
    from ktokit.demo.walkthrough import DEMO_SAMPLE, run_demo

    return run_demo(args.language, args.sample or DEMO_SAMPLE, args.stop_after_task)


def register(commands) -> None:
    add_command(
        commands,
        "evaluate",
        EvaluateArguments,
        evaluate,
        help="generate with a base model and its KTO adapter, score both with the form check",
        description="Base vs tuned on held-out prompts, scored with the pack's form check.",
    )
    add_command(
        commands,
        "demo-space",
        DemoSpaceArguments,
        demo_space,
        help="render, serve or push the Gradio demo Space of a KTO-tuned model",
        description="A Gradio demo Space of a KTO-tuned model: a blind arena of base vs tuned (or the "
        "named side-by-side view), votes to Argilla.",
    )
    add_command(
        commands,
        "demo",
        DemoArguments,
        demo,
        help="the kit's main job on the local target (what `make demo` runs)",
    )
