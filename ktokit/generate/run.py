"""preference_gen.py's work from start to finish: plan, resume, run the pipeline, save, summarise, push."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ktokit.console import KitError, say
from ktokit.generate import output
from ktokit.generate.hub_sync import DEFAULT_MINUTES, HubSync, pull_checkpoint, push_checkpoint
from ktokit.generate.models import (
    DEFAULT_SET,
    OFFLINE_SET,
    ModelSet,
    ModelSpec,
    api_key_for,
    load_model_set,
)
from ktokit.generate.tiny import is_tiny, tiny_language
from ktokit.hub import LOGIN_HINT, check_hub_options, hf_token, push_dataset, require_hf_token
from ktokit.options import option
from ktokit.packs.languages import FormRule, LanguagePack, load_pack

RUNNERS = ("local", "distilabel", "ray")


@dataclass
class GenerationArguments:
    """preference_gen.py's options (flags, or keys of a `--config` YAML file)."""

    language: str = option("Language pack code, e.g. `es` (a folder of languages/).")
    models: str | None = option(
        "Model set: a YAML file or a shipped name (`default`, `offline`). Default: "
        "`default` when a Hugging Face token is found, else `offline`.",
        None,
    )
    output: str | None = option("Output directory (default: outputs/<language>/generations).", None)
    sample: int | None = option("Use only the first N prompts of the pack.", None)
    push_to_hub: bool = option("Also push the dataset, with its card, to the Hub repo --hub_model_id.", False)
    hub_model_id: str | None = option("The Hub dataset repo ORG/NAME that --push_to_hub pushes to.", None)
    hub_private_repo: bool = option("Create the Hub dataset repo as private.", False)
    push_every_batches: int = option(
        "With --push_to_hub: push the finished rows to the Hub every N batches as the run goes "
        "(0: by time only), so a run on another machine resumes from them.",
        0,
    )
    push_every_minutes: float = option(
        "With --push_to_hub: push the finished rows at least every M minutes (0: by batches only).",
        DEFAULT_MINUTES,
    )
    dry_run: bool = option("Print models, prompts, requests and output, then stop.", False)
    runner: str | None = option(
        "`local` (threads in this process), `distilabel` (distilabel's multi-process runner) or `ray` "
        "(distilabel's Ray pipeline; `pip install -e .[ray]`). Default: the model set's `runner:`, "
        "else local.",
        None,
    )
    ray_address: str | None = option(
        "With --runner ray: the Ray cluster to join (HOST:PORT, `auto`); default: a local Ray for the run.",
        None,
    )

    def __post_init__(self) -> None:
        """A repo id the Hub refuses is one line before anything is generated."""
        check_hub_options(self.push_to_hub, self.hub_model_id)
        if self.push_every_batches < 0 or self.push_every_minutes < 0:
            raise KitError("--push_every_batches and --push_every_minutes must be 0 or more")
        if self.ray_address and self.runner not in (None, "ray"):
            raise KitError(f"--ray_address joins a Ray cluster: use it with --runner ray, not {self.runner}")


def generate_responses(args: GenerationArguments) -> GenerationPlan | GenerationResult:
    """The whole step: plan, generate what is left, save, push. A dry run returns the plan; otherwise the
    plan is said before the work and the result returned (preference_gen.py prints their `report()`)."""
    pack = load_pack(args.language)
    model_set, note, token = choose_model_set(args.models, pack.code)
    if note:
        say(note)
    output_dir = Path(args.output or f"outputs/{pack.code}/generations")
    runner = args.runner or ("ray" if args.ray_address else model_set.runner) or "local"
    sync = None
    if args.push_to_hub:
        sync = HubSync(
            args.hub_model_id, args.hub_private_repo, args.push_every_batches, args.push_every_minutes
        )
        if not args.dry_run:  # another machine's rows first: an empty output dir resumes from the Hub
            token = require_hf_token("--push_to_hub")  # fail before generating, not after
            pulled = pull_checkpoint(output_dir, args.hub_model_id, output.run_identity(pack, model_set))
            if pulled:
                say(f"resuming from {args.hub_model_id}: {pulled} rows pushed by an earlier run")
    plan = prepare(
        pack,
        model_set,
        select_prompts(pack, args.sample),
        output_dir,
        token=token,
        runner=runner,
        ray_address=args.ray_address,
        hub=sync,
    )
    if args.dry_run:
        return plan
    say(plan.describe())
    result = run_plan(plan)
    if args.push_to_hub:
        say(f"pushing {output_dir} to {args.hub_model_id} ...")
        push_checkpoint(output_dir, args.hub_model_id, private=args.hub_private_repo)
        card = output.dataset_card(pack, model_set, result.rows, args.hub_model_id)
        result.url = push_dataset(
            result.dataset, args.hub_model_id, card, private=args.hub_private_repo, token=token
        )
    return result


def choose_model_set(models: str | None, language: str | None = None) -> tuple[ModelSet, str | None, str]:
    """The model set to use, a note to show the user (or None), and the HF token ("" if none).

    With no `--models`: the Hub set when a token is found, else the offline set, and say so. `language`
    is the pack the set answers: an adapter on a `tiny` base is checked against that pack's tiny model.
    """
    token = hf_token() or ""
    if models:
        model_set = load_model_set(models, language)
        if model_set.needs_hf_token and not token:
            raise KitError(
                f"model set {model_set.path} runs on HF Inference Providers and needs a Hugging Face "
                f"token: {LOGIN_HINT} (or use --models offline)"
            )
        return model_set, None, token
    if token:
        return load_model_set(DEFAULT_SET), None, token
    note = (
        "no Hugging Face token found: running offline on the tiny local models of model_sets/offline.yaml "
        f"({LOGIN_HINT} for the Hub models, or pass --models FILE for your own endpoint)"
    )
    return load_model_set(OFFLINE_SET), note, token


def select_prompts(pack: LanguagePack, sample: int | None) -> list[str]:
    """The pack's prompts, each once, in pack order; `sample` keeps the first N (so runs nest)."""
    prompts = list(dict.fromkeys(pack.prompts))
    if not prompts:
        raise KitError(f"pack {pack.code!r} has no prompts: write them in languages/{pack.code}/prompts.txt")
    if sample is not None:
        if sample < 1:
            raise KitError(f"--sample must be at least 1, got {sample}")
        prompts = prompts[:sample]
    return prompts


@dataclass
class GenerationPlan:
    pack: LanguagePack
    model_set: ModelSet
    prompts: list[str]
    output_dir: Path
    token: str = ""
    runner: str = "local"
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    ray_address: str | None = None
    hub: HubSync | None = None  # with --push_to_hub: the checkpoint pushed as the run goes

    @property
    def todo(self) -> list[str]:
        return [p for p in self.prompts if p not in self.done]

    def describe(self) -> str:
        n_models = len(self.model_set.models)
        lines = [
            f"language:  {self.pack.code} ({self.pack.name})",
            f"model set: {self.model_set.path}",
            *(f"  - {m.describe()}" for m in self.model_set.models),
            f"prompts:   {len(self.prompts)} ({len(self.prompts) - len(self.todo)} already done, "
            f"{len(self.todo)} to generate)",
            f"requests:  {len(self.todo) * n_models} ({len(self.todo)} prompts x {n_models} models)",
            f"output:    {self.output_dir}",
        ]
        if self.runner != "local":
            where = {"ray": f" (Ray: {self.ray_address or 'a local Ray for this run'})"}.get(self.runner, "")
            lines.append(f"runner:    {self.runner}{where}")
        if self.hub:
            batches = "batch" if self.hub.every_batches == 1 else f"{self.hub.every_batches} batches"
            every = [batches] * bool(self.hub.every_batches) + [f"{self.hub.every_minutes:g} minutes"] * bool(
                self.hub.every_minutes
            )
            lines.append(
                f"hub:       {self.hub.repo_id} (finished rows pushed every {' or '.join(every) or 'run'})"
            )
        return "\n".join(lines)

    def report(self) -> list[str]:
        """What a dry run prints: the plan."""
        return self.describe().splitlines()


def make_llm(spec: ModelSpec, pack: LanguagePack, token: str) -> Any:
    """The distilabel LLM for one model of the set (builds the tiny model on first use)."""
    from ktokit.generate.backends import LocalTransformersLLM, OpenAICompatibleLLM

    generation = dict(spec.generation)
    if spec.backend == "transformers":
        path = spec.adapter_base or spec.model
        tokenizer = None
        if spec.adapter and (Path(spec.adapter) / "tokenizer_config.json").is_file():
            tokenizer = spec.adapter  # train_kto.py saves the tokenizer it trained with beside the adapter
        if is_tiny(spec.model) and not spec.adapter:
            from ktokit.generate.tiny import TinyRecipe, tiny_model

            try:
                recipe = TinyRecipe(**spec.tiny_recipe)
            except TypeError as exc:
                raise KitError(f"model {spec.name!r}: bad tiny_recipe ({exc})") from None
            language = tiny_language(spec.model, pack.code)
            path = str(
                tiny_model(
                    pack if language == pack.code else language, spec.seed, recipe=recipe, progress=False
                )
            )
        return LocalTransformersLLM(
            model=path,
            adapter=spec.adapter,
            tokenizer=tokenizer,
            display_name=spec.name,
            device="cuda"
            if spec.gpus
            else "cpu",  # Ray gives a step with `gpus:` its GPUs (CUDA_VISIBLE_DEVICES)
            token=None,
            torch_dtype="auto" if spec.gpus else "float32",
            generation_kwargs=generation,
        )
    return OpenAICompatibleLLM(
        model=spec.model,
        base_url=spec.base_url,
        api_key=api_key_for(spec, token),
        display_name=spec.name,
        concurrency=spec.concurrency,
        timeout=spec.timeout,
        max_retries=spec.max_retries,
        generation_kwargs=generation,
    )


def prepare(
    pack: LanguagePack,
    model_set: ModelSet,
    prompts: list[str],
    output_dir: Path,
    *,
    token: str = "",
    runner: str = "local",
    ray_address: str | None = None,
    hub: HubSync | None = None,
) -> GenerationPlan:
    """A plan that knows which prompts an earlier run of the same command already did."""
    if runner not in RUNNERS:
        raise KitError(f"unknown runner {runner!r}: use one of {', '.join(RUNNERS)}")
    if runner == "ray":
        from ktokit.generate.pipeline import require_ray

        require_ray()
    if (output_dir / output.RUN_FILE).is_file():
        identity = output.run_identity(pack, model_set)
        output.claim_output_dir(output_dir, identity)  # raises if it belongs to another run
    return GenerationPlan(
        pack,
        model_set,
        prompts,
        output_dir,
        token,
        runner,
        done={p: r for p, r in output.read_checkpoint(output_dir).items() if p in set(prompts)},
        ray_address=ray_address,
        hub=hub,
    )


@dataclass
class GenerationResult:
    rows: list[dict[str, Any]]
    new_rows: list[dict[str, Any]]
    skipped: int
    seconds: float
    stats: dict[str, dict[str, Any]]
    dataset: Any = None
    output_dir: Path | None = None
    url: str | None = None  # the Hub dataset, once pushed

    @property
    def summary(self) -> str:
        head = f"{len(self.new_rows)} prompts generated in {self.seconds:.1f} s" + (
            f", {self.skipped} done earlier and skipped" if self.skipped else ""
        )
        return head + ("\n" + output.summary_table(self.stats) if self.new_rows else "")

    def report(self) -> list[str]:
        """What preference_gen.py prints: the summary table, where the rows are, where they were pushed."""
        lines = [
            *self.summary.splitlines(),
            f"saved {len(self.rows)} rows to {self.output_dir} (datasets.load_from_disk) and "
            f"{self.output_dir}/{output.JSONL}",
        ]
        return lines + ([f"pushed to {self.url}"] if self.url else [])


def answer_rows(
    rows: list[dict[str, Any]],
    pack: LanguagePack,
    model_set: ModelSet,
    *,
    form: FormRule,
    output_dir: Path,
    token: str = "",
    runner: str = "local",
    ray_address: str | None = None,
    hub: HubSync | None = None,
) -> None:
    """Every row (`input`, and the `messages` the models get) answered by every model of the set through
    the distilabel pipeline, cleaned with `form`'s line count and checked against it; each finished batch
    is appended to `output_dir`'s checkpoint (what resume reads), and pushed to the Hub as it grows when
    `hub` says where. Also what `ktokit draft-*` runs."""
    from ktokit.generate.pipeline import build_pipeline, run_in_process, run_with_distilabel, run_with_ray

    if not rows:
        return
    llms = [make_llm(spec, pack, token) for spec in model_set.models]
    # The kit resumes from its own checkpoint, never from distilabel's cache; but distilabel 1.5.3 re-reads
    # the pipeline.yaml of its cache at the start of every run, use_cache=False or not, and a run killed
    # while writing it leaves a file that makes the next run crash (`'NoneType' object is not subscriptable`).
    shutil.rmtree(output_dir / ".distilabel", ignore_errors=True)
    gp = build_pipeline(
        rows,
        llms,
        language=pack.code,
        form=form,
        checkpoint=output_dir / output.CHECKPOINT,
        batch_size=min(model_set.batch_size, len(rows)),
        cache_dir=output_dir / ".distilabel",
        resources=[spec.resources for spec in model_set.models],
        hub=hub.to_dict() if hub else None,
    )
    # distilabel's own logs are the libraries' output: `ktokit.quiet` hides them unless --verbose
    if runner == "ray":
        run_with_ray(gp, ray_address)
    else:
        (run_in_process if runner == "local" else run_with_distilabel)(gp)


def run_plan(plan: GenerationPlan) -> GenerationResult:
    """Generate what is left to do, then write the dataset, its JSONL copy and its card."""
    output.claim_output_dir(plan.output_dir, output.run_identity(plan.pack, plan.model_set))
    todo, skipped = plan.todo, len(plan.prompts) - len(plan.todo)
    start = time.perf_counter()
    answer_rows(
        [{"input": p, "messages": plan.pack.messages(p)} for p in todo],
        plan.pack,
        plan.model_set,
        form=plan.pack.form,
        output_dir=plan.output_dir,
        token=plan.token,
        runner=plan.runner,
        ray_address=plan.ray_address,
        hub=plan.hub,
    )
    seconds = time.perf_counter() - start
    done = {p: r for p, r in output.read_checkpoint(plan.output_dir).items() if p in set(plan.prompts)}
    rows = output.ordered_rows(done, plan.prompts)
    new_rows = [r for r in rows if r["input"] in set(todo)]
    names = [m.name for m in plan.model_set.models]
    stats = output.model_stats(new_rows, names)
    result = GenerationResult(rows, new_rows, skipped, seconds, stats, output_dir=plan.output_dir)
    result.dataset = output.save_local(
        rows, plan.output_dir, output.dataset_card(plan.pack, plan.model_set, rows, None)
    )
    return result
