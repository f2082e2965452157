"""A tuned model, shown: evaluate (base vs tuned), demo-space (its Gradio Space), and demo (`make demo`)."""

from __future__ import annotations

from dataclasses import dataclass

from ktokit.console import (
    add_command,
    dry_run_option,
    language_option,
    option,
    output_option,
    serve_option,
    sleep_time_option,
    space_option,
)


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

    summary, out = evaluate_adapter(
        args.language,
        args.adapter,
        base=args.base,
        dataset=args.dataset,
        prompts=args.prompts,
        seeds=args.seeds,
        temperatures=args.temperature,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        output=args.output,
    )
    print(summary_table(summary), end="")
    print(f"files: {out}/ (completions.jsonl, results-*.json, summary.md)")


@dataclass
class DemoSpaceArguments:
    language: str = language_option()
    adapter: str = option("the adapter folder train_kto.py wrote")
    base: str | None = option(
        "base model (default: the one in the adapter's metrics.json); a Hub id when the adapter was trained "
        "on a local copy",
        None,
    )
    space: str | None = space_option("create or update this Space on the Hub")
    private: bool = option("a private Space", False)
    hardware: str | None = option(
        "Space hardware, e.g. cpu-upgrade or t4-small (default cpu-basic); on cpu-* the requirements take "
        "torch from PyTorch's CPU index",
        None,
    )
    sleep_time: int | None = sleep_time_option()
    dry_run: bool = dry_run_option()
    serve: int | None = serve_option()
    output: str | None = output_option("where to render (default: outputs/<lang>/demo-space)")


def demo_space(args: DemoSpaceArguments) -> int:
    from ktokit.demo.space import demo_space

    return demo_space(
        args.language,
        args.adapter,
        base=args.base,
        space=args.space,
        private=args.private,
        hardware=args.hardware,
        sleep_time=args.sleep_time,
        dry_run=args.dry_run,
        serve_port=args.serve,
        output=args.output,
        show=print,
    )


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
        description="A Gradio demo Space of a KTO-tuned model: base vs tuned, votes to Argilla.",
    )
    add_command(
        commands,
        "demo",
        DemoArguments,
        demo,
        help="the kit's main job on the local target (what `make demo` runs)",
    )
