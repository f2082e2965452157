"""train_kto.py's work: TRL's KTO script (`trl/scripts/kto.py`) with the kit's checks and outputs around it.

TRL parses and trains. Around that the kit resolves the base model (the offline `tiny` ones too),
checks the exported dataset before any model is loaded, sets `desirable_weight`/`undesirable_weight`
from the label balance, gives standard rows the pack's chat format, and writes what a community
publishes: the adapter, metrics.json, the base-vs-tuned evaluation, merged weights, and TRL's model
card with the kit's facts; TRL's own `--push_to_hub` uploads it all.
"""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers.trainer_callback import ProgressCallback
from trl import KTOConfig, KTOTrainer, ModelConfig, ScriptArguments, get_peft_config, get_quantization_config

from ktokit.console import KitError, say
from ktokit.generate.adapters import adapter_info, check_adapter_base, resolve_base_model
from ktokit.generate.tiny import is_tiny
from ktokit.hub import check_repo_id, hub_aliases, hub_error, hub_failures, is_hub_failure
from ktokit.kto_format import balance_weights, is_conversational_row, to_conversational
from ktokit.options import run_script
from ktokit.packs.languages import LanguagePack, load_pack
from ktokit.paths import write_json
from ktokit.quiet import is_verbose
from ktokit.train.arguments import (
    DEFAULT_DATASET,
    KitArguments,
    argument_classes,
    config_path,
    learning_rate_warning,
    parser_defaults,
)
from ktokit.train.card import CardFacts, add_kit_facts, on_hub
from ktokit.train.data import check_trainable, dataset_rounds, load_kto_dataset
from ktokit.train.models import (
    adapter_to_train,
    drop_reference_copy,
    lora_targets_without_lm_head,
    merge_adapter,
)

METRICS_FILE = "metrics.json"
CARD_FILE = "README.md"


class KitKTOTrainer(KTOTrainer):
    """TRL's KTOTrainer whose model card, wherever TRL writes it (checkpoints, the end, a push), carries
    the kit's facts once they are known."""

    card_facts: CardFacts | None = None

    def create_model_card(
        self,
        model_name: str | None = None,
        dataset_name: str | None = None,
        tags: str | list[str] | None = None,
    ) -> None:
        super().create_model_card(model_name=model_name, dataset_name=dataset_name, tags=tags)
        if self.card_facts is not None and self.is_world_process_zero():
            add_kit_facts(Path(self.args.output_dir) / CARD_FILE, self.card_facts, self.args.output_dir)


class TrainingBar(ProgressCallback):
    """transformers' training bar without the dict of metrics it writes under itself at every logging
    step: they are in metrics.json (`log_history`), and `--verbose` shows them."""

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
        return None


@dataclass
class TrainingRun:
    """What the kit settled before training: the pack, the base model, the checked data and its balance."""

    pack: LanguagePack | None
    base_model: str  # as given: a Hub id, a folder, or tiny[:lang]
    model_path: str  # what is loaded
    dataset: str
    train: Any
    test: Any
    positives: int
    negatives: int
    recipe: str | None
    rounds: list[int] | None = None  # the annotation rounds of the dataset (its export_summary.json)
    start_adapter: str | None = None  # --adapter: the earlier round's adapter training goes on from
    start_adapter_rounds: list[int] | None = None  # the rounds that adapter was trained on


def main(argv: list[str] | None = None) -> int:
    """train_kto.py's command line, through the kit's one runner (TRL's parser, one line per user error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    step = functools.partial(train_kto, recipe=config_path(argv))  # the user's file, not a translated copy
    return run_script(step, *argument_classes(), argv=hub_aliases(argv), defaults=parser_defaults())


def prepare(
    kit_args: KitArguments,
    script_args: ScriptArguments,
    training_args: KTOConfig,
    model_args: ModelConfig,
    recipe: str | None = None,
) -> tuple[TrainingRun, Any]:
    """Base model, tokenizer, dataset (checked before any model is loaded) and class weights.

    Returns (run, tokenizer).
    """
    from transformers import AutoTokenizer

    if training_args.push_to_hub and training_args.hub_model_id:  # refused before any work
        check_repo_id(training_args.hub_model_id, "--hub_model_id", bare_name=True)
    language = kit_args.language
    pack = load_pack(language) if language else None
    training_args.output_dir = training_args.output_dir.replace("{language}", language or "default")
    start_rounds = check_start_adapter(kit_args, model_args, language)  # before any data or model is read
    # The data first: a missing or untrainable dataset is one line before any model is built or loaded
    dataset = script_args.dataset_name or (DEFAULT_DATASET.format(language=language) if language else None)
    if not dataset:
        raise KitError(
            "no dataset: give --language CODE (reads outputs/CODE/kto) or --dataset_name DIR_OR_HUB_ID"
        )
    train, test = load_kto_dataset(
        dataset, train_split=script_args.dataset_train_split, test_split=script_args.dataset_test_split
    )
    positives, negatives = check_trainable(train, training_args.per_device_train_batch_size)
    if (model_args.load_in_4bit or model_args.load_in_8bit) and training_args.use_cpu:
        raise KitError(
            "--load_in_4bit/--load_in_8bit (QLoRA) needs a CUDA GPU and bitsandbytes; "
            "on CPU train plain LoRA without them"
        )
    model_path = resolve_base_model(model_args.model_name_or_path, language)
    # The recommended band is for real models; the tiny offline model is a toy that needs far larger rates.
    lr_warning = (
        None
        if is_tiny(model_args.model_name_or_path)
        else learning_rate_warning(training_args.learning_rate, model_args.use_peft)
    )
    if lr_warning:
        say(f"warning: {lr_warning}", tag=True)
    training_args.model_init_kwargs = {
        "revision": model_args.model_revision,
        "trust_remote_code": training_args.trust_remote_code,
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
        **(training_args.model_init_kwargs or {}),
    }
    tokenizer = AutoTokenizer.from_pretrained(
        model_path, revision=model_args.model_revision, trust_remote_code=training_args.trust_remote_code
    )
    # Class weights from the label balance, unless the recipe or a flag gave them
    desirable, undesirable, why = balance_weights(
        positives, negatives, training_args.desirable_weight, training_args.undesirable_weight
    )
    training_args.desirable_weight, training_args.undesirable_weight = desirable, undesirable
    say(why, tag=True)
    # Standard rows get the pack's system prompt and the chat template, as generation does
    if kit_args.pack_chat and pack and tokenizer.chat_template and not is_conversational_row(train[0]):
        train = to_conversational(train, pack)
        test = to_conversational(test, pack) if test is not None else None
        say(f"rows put in the chat format with the {pack.code!r} pack's system prompt", tag=True)
    model_args.lora_target_modules = lora_targets_without_lm_head(model_args.lora_target_modules)
    rounds = dataset_rounds(dataset)
    if kit_args.adapter:
        say(
            f"going on from the adapter {kit_args.adapter}"
            + (f" (trained on round {', '.join(map(str, start_rounds))})" if start_rounds else "")
            + ": its LoRA settings apply, not the recipe's lora_*; it is also the reference model",
            tag=True,
        )
    run = TrainingRun(
        pack, model_args.model_name_or_path, model_path, dataset, train, test, positives, negatives, recipe
    )
    run.rounds, run.start_adapter, run.start_adapter_rounds = rounds, kit_args.adapter, start_rounds
    return run, tokenizer


def check_start_adapter(
    kit_args: KitArguments, model_args: ModelConfig, language: str | None
) -> list[int] | None:
    """`--adapter`: a LoRA folder trained on the base being trained (one line naming both models when it
    is not), with `use_peft`; the base defaults to the adapter's. Returns the rounds it was trained on."""
    if not kit_args.adapter:
        return None
    if not model_args.use_peft:
        raise KitError(
            f"--adapter {kit_args.adapter} goes on training a LoRA adapter: it needs --use_peft true "
            "(merge it first with --merge to fine-tune all weights)"
        )
    if not model_args.model_name_or_path:
        model_args.model_name_or_path = adapter_info(kit_args.adapter, language=language).base_model
    info = check_adapter_base(kit_args.adapter, model_args.model_name_or_path, language)
    metrics = info.adapter / METRICS_FILE
    if not metrics.is_file():
        return None
    import json

    try:
        rounds = json.loads(metrics.read_text(encoding="utf-8")).get("rounds")
        return sorted({int(n) for n in rounds}) if rounds else None
    except (ValueError, TypeError, AttributeError):
        return None


def train_kto(
    kit_args: KitArguments,
    script_args: ScriptArguments,
    training_args: KTOConfig,
    model_args: ModelConfig,
    recipe: str | None = None,
) -> dict:
    """The whole step, as TRL's script runs it.

    Prepare, KTOTrainer with a LoRA adapter, train, save, publish.
    """
    run, tokenizer = prepare(kit_args, script_args, training_args, model_args, recipe)
    model: Any = run.model_path
    quantization, peft_config = get_quantization_config(model_args), get_peft_config(model_args)
    if run.start_adapter:  # the earlier round's adapter, trainable; TRL makes no new one on top of it
        init = {
            **(training_args.model_init_kwargs or {}),
            "trust_remote_code": training_args.trust_remote_code,
        }
        if quantization is not None:
            init["quantization_config"] = quantization
        model = adapter_to_train(
            run.model_path, run.start_adapter, init, training_args.distributed_state.distributed_type
        )
        training_args.model_init_kwargs, quantization, peft_config = None, None, None
    try:  # with --push_to_hub, TRL creates the Hub repo here, before any training time is spent
        trainer = KitKTOTrainer(
            model=model,
            args=training_args,
            train_dataset=run.train,
            eval_dataset=run.test if training_args.eval_strategy != "no" else None,
            processing_class=tokenizer,
            quantization_config=quantization,
            peft_config=peft_config,
        )
    except Exception as exc:
        if training_args.push_to_hub and is_hub_failure(exc):
            raise hub_error(f"creating the Hub repo {training_args.hub_model_id!r}", exc) from None
        raise
    if not is_verbose() and trainer.pop_callback(ProgressCallback):
        trainer.add_callback(TrainingBar)
    result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)
    if run.start_adapter and trainer.accelerator.is_main_process:
        drop_reference_copy(training_args.output_dir)
    metrics = training_metrics(trainer, result, run, training_args)
    if trainer.accelerator.is_main_process:
        write_outputs(trainer, tokenizer, run, kit_args, metrics)
    if training_args.push_to_hub:
        push(trainer)
    # Leave the process group together: a rank that tears it down while another is still writing can
    # leave that one hung forever in gloo's destructor at exit (seen with torch 2.13 DDP on CPU).
    trainer.accelerator.wait_for_everyone()
    trainer.end()
    return metrics


def training_metrics(
    trainer: KTOTrainer, train_result: Any, run: TrainingRun, training_args: KTOConfig
) -> dict:
    """Everything worth keeping about a run, JSON-ready; the final loss must be a number."""
    loss = train_result.training_loss
    if not math.isfinite(loss):
        raise KitError(f"training loss is {loss}: lower the learning_rate or check the dataset")
    history = trainer.state.log_history
    losses = [h["loss"] for h in history if "loss" in h]
    return {
        "base_model": run.base_model,
        "base_model_path": run.model_path,
        "dataset": run.dataset,
        "language": run.pack.code if run.pack else None,
        "recipe": run.recipe,
        "rounds": run.rounds,
        "start_adapter": run.start_adapter,
        "start_adapter_rounds": run.start_adapter_rounds,
        "desirable": run.positives,
        "undesirable": run.negatives,
        "desirable_weight": training_args.desirable_weight,
        "undesirable_weight": training_args.undesirable_weight,
        "world_size": training_args.world_size,
        "train": {k: (round(v, 6) if isinstance(v, float) else v) for k, v in train_result.metrics.items()},
        "global_step": trainer.state.global_step,
        "first_logged_loss": losses[0] if losses else None,
        "last_logged_loss": losses[-1] if losses else None,
        "log_history": history,
    }


def write_outputs(
    trainer: KitKTOTrainer, tokenizer: Any, run: TrainingRun, kit_args: KitArguments, metrics: dict
) -> None:
    """The main process's files: tokenizer, evaluation, merged weights, metrics.json, the model card."""
    args = trainer.args
    output_dir = Path(args.output_dir)
    tokenizer.save_pretrained(args.output_dir)
    eval_table = evaluate_trained(trainer, tokenizer, run, kit_args, metrics) if kit_args.eval else None
    if kit_args.merge:
        say(f"merged weights: {merge_adapter(output_dir)}", tag=True)
    write_json(output_dir / METRICS_FILE, metrics)
    trainer.card_facts = CardFacts(
        base_model=run.base_model,
        dataset=run.dataset,
        language=run.pack.code if run.pack else None,
        recipe=run.recipe,
        metrics=metrics,
        rounds=run.rounds,
        start_adapter=run.start_adapter,
        start_adapter_rounds=run.start_adapter_rounds,
        repo=args.hub_model_id if args.push_to_hub else None,
        eval_table=eval_table,
        merged=kit_args.merge,
    )
    trainer.create_model_card(
        model_name=(args.hub_model_id or output_dir.name).split("/")[-1],
        dataset_name=run.dataset if on_hub(run.dataset) else None,
    )
    say(
        f"done: {metrics['global_step']} steps, loss {metrics['train']['train_loss']:.4f} -> {output_dir}/",
        tag=True,
    )


def evaluate_trained(
    trainer: KTOTrainer, tokenizer: Any, run: TrainingRun, kit_args: KitArguments, metrics: dict
) -> str:
    """Base vs tuned on held-out prompts, with the trained model still in memory (reloaded under FSDP)."""
    from ktokit.inference import load_model
    from ktokit.train.evaluation import evaluate, held_out_prompts, summary_table, training_prompts

    if run.pack is None:
        raise KitError("--eval needs --language CODE: its prompts, system prompt and form rule")
    prompts = held_out_prompts(run.pack, training_prompts(run.train), kit_args.eval_prompts)
    output_dir = trainer.args.output_dir
    if trainer.is_fsdp_enabled:
        model, tokenizer = load_model(run.model_path, output_dir)
    else:
        model = trainer.accelerator.unwrap_model(trainer.model)
    summary = evaluate(
        model,
        tokenizer,
        run.pack,
        prompts,
        f"{output_dir}/eval",
        seeds=kit_args.eval_seeds,
        temperatures=kit_args.eval_temperatures,
        max_new_tokens=kit_args.eval_max_new_tokens,
        names={"base": run.base_model, "tuned": f"{run.base_model} + KTO"},
        config={
            "base_model": run.base_model,
            "adapter": output_dir,
            "language": run.pack.code,
            "dataset": run.dataset,
        },
    )
    metrics["eval"] = summary
    table = summary_table(summary)
    say("eval, base vs tuned:\n" + table, tag=True)
    return table


def push(trainer: KitKTOTrainer) -> None:
    """TRL's push of the output folder (adapter, card, metrics, eval, merged weights); one line on failure."""
    repo = trainer.args.hub_model_id
    try:
        trainer.push_to_hub(commit_message="ktokit: KTO adapter, model card and metrics")
    except hub_failures() as exc:
        raise hub_error(f"push to the Hub repo {repo!r}", exc) from None
    say(f"pushed to https://huggingface.co/{trainer.hub_model_id or repo}", tag=True)
