"""KTO fine-tuning with a LoRA adapter on the 👍/👎 dataset export_kto.py wrote.

TRL's KTO script (`trl/scripts/kto.py`) with the kit's checks and outputs around it:

    python train_kto.py --config recipes/cpu-smoke.yaml --language en
    python train_kto.py --config recipes/qwen2.5-1.5b-lora.yaml --language es --eval --merge
    accelerate launch --config_file recipes/accelerate/ddp.yaml train_kto.py --config recipes/... --language es

Every TRL option (`ScriptArguments`, `KTOConfig`, `ModelConfig`) works as a flag or in the YAML
recipe; the kit adds `--language`, `--eval`, `--merge`, `--push-to-hub REPO` (see ktokit/training.py).
`--model_name_or_path tiny` (or `tiny:<lang>`) trains the kit's offline tiny model.
Writes to <output_dir> (default outputs/<language>/kto-model): the adapter and tokenizer, README.md
(model card), metrics.json, eval/ with --eval, merged/ with --merge.
"""

import sys

from trl import (
    KTOConfig,
    KTOTrainer,
    ModelConfig,
    ScriptArguments,
    TrlParser,
    get_peft_config,
    get_quantization_config,
)

from ktokit.errors import KitError
from ktokit.training import (
    DEFAULT_DATASET,
    METRICS_FILE,
    KitArguments,
    balance_weights,
    check_trainable,
    is_conversational_row,
    log,
    lora_targets_without_lm_head,
    model_card,
    normalise_argv,
    parser_defaults,
    resolve_base_model,
    training_metrics,
    write_json,
)


def main(kit_args: KitArguments, script_args: ScriptArguments, training_args: KTOConfig, model_args: ModelConfig,
         recipe: str | None = None) -> dict:
    from pathlib import Path

    from transformers import AutoTokenizer

    from ktokit.languages import load_pack
    from ktokit.training import load_kto_dataset, to_conversational

    language = kit_args.language
    pack = load_pack(language) if language else None
    training_args.output_dir = training_args.output_dir.replace("{language}", language or "default")
    output_dir = Path(training_args.output_dir)

    # Base model: a Hub id, a local folder, or the offline tiny model for the language
    model_path = resolve_base_model(model_args.model_name_or_path, language)
    if (model_args.load_in_4bit or model_args.load_in_8bit) and training_args.use_cpu:
        raise KitError("--load_in_4bit/--load_in_8bit (QLoRA) needs a CUDA GPU and bitsandbytes; "
                       "on CPU train plain LoRA without them")
    training_args.model_init_kwargs = {
        "revision": model_args.model_revision, "trust_remote_code": training_args.trust_remote_code,
        "attn_implementation": model_args.attn_implementation, "dtype": model_args.dtype,
        **(training_args.model_init_kwargs or {}),
    }
    tokenizer = AutoTokenizer.from_pretrained(model_path, revision=model_args.model_revision,
                                              trust_remote_code=training_args.trust_remote_code)

    # Dataset: what export_kto.py wrote (a folder or a Hub id), checked before any model is loaded
    dataset_name = script_args.dataset_name or (DEFAULT_DATASET.format(language=language) if language else None)
    if not dataset_name:
        raise KitError("no dataset: give --language CODE (reads outputs/CODE/kto) or --dataset_name DIR_OR_HUB_ID")
    train, test = load_kto_dataset(dataset_name, train_split=script_args.dataset_train_split,
                                   test_split=script_args.dataset_test_split)
    positives, negatives = check_trainable(train, training_args.per_device_train_batch_size)

    # Class weights from the label balance, unless the recipe or a flag gave them
    desirable, undesirable, why = balance_weights(positives, negatives, training_args.desirable_weight,
                                                  training_args.undesirable_weight)
    training_args.desirable_weight, training_args.undesirable_weight = desirable, undesirable
    log(why)

    # Standard rows get the pack's system prompt and the chat template, as generation does
    if kit_args.pack_chat and pack and tokenizer.chat_template and not is_conversational_row(train[0]):
        train = to_conversational(train, pack)
        test = to_conversational(test, pack) if test is not None else None
        log(f"rows put in the chat format with the {pack.code!r} pack's system prompt")

    # Train: TRL's KTOTrainer with a LoRA adapter (QLoRA with --load_in_4bit)
    model_args.lora_target_modules = lora_targets_without_lm_head(model_args.lora_target_modules)
    trainer = KTOTrainer(
        model=model_path,
        args=training_args,
        train_dataset=train,
        eval_dataset=test if training_args.eval_strategy != "no" else None,
        processing_class=tokenizer,
        quantization_config=get_quantization_config(model_args),
        peft_config=get_peft_config(model_args),
    )
    train_result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)

    metrics = training_metrics(trainer, train_result, {
        "base_model": model_args.model_name_or_path, "base_model_path": model_path, "dataset": dataset_name,
        "language": language, "recipe": recipe, "desirable": positives, "undesirable": negatives,
        "desirable_weight": desirable, "undesirable_weight": undesirable, "world_size": training_args.world_size,
    })
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(training_args.output_dir)
        eval_table = None
        if kit_args.eval:
            eval_table = run_eval(trainer, tokenizer, pack, train, kit_args, model_path, model_args, metrics)
        merged = None
        if kit_args.merge:
            from ktokit.training import merge_adapter

            merged = merge_adapter(output_dir)
            log(f"merged weights: {merged}")
        write_json(output_dir / METRICS_FILE, metrics)
        card = model_card(base_model=model_args.model_name_or_path, dataset=dataset_name, language=language,
                          recipe=recipe, metrics=metrics, repo=kit_args.hub_repo, eval_table=eval_table,
                          merged=merged is not None)
        (output_dir / "README.md").write_text(card, encoding="utf-8")
        if kit_args.hub_repo:
            from ktokit.training import push_to_hub

            url = push_to_hub(output_dir, kit_args.hub_repo, private=kit_args.hub_private)
            log(f"pushed to {url}")
        log(f"done: {train_result.global_step} steps, loss {train_result.training_loss:.4f} -> {output_dir}/")
    # Leave the process group together: a rank that tears it down while another is still writing can
    # leave that one hung forever in gloo's destructor at exit (seen with torch 2.13 DDP on CPU).
    trainer.accelerator.wait_for_everyone()
    trainer.end()
    return metrics


def run_eval(trainer, tokenizer, pack, train, kit_args, model_path, model_args, metrics) -> str:
    """Base vs tuned on held-out prompts, with the trained model still in memory (reloaded under FSDP)."""
    from ktokit.evaluation import evaluate, held_out_prompts, load_for_eval, summary_table, training_prompts

    if pack is None:
        raise KitError("--eval needs --language CODE: its prompts, system prompt and form rule")
    prompts = held_out_prompts(pack, training_prompts(train), kit_args.eval_prompts)
    if trainer.is_fsdp_enabled:
        model, tokenizer = load_for_eval(model_path, trainer.args.output_dir)
    else:
        model = trainer.accelerator.unwrap_model(trainer.model)
    summary = evaluate(
        model, tokenizer, pack, prompts, f"{trainer.args.output_dir}/eval", seeds=kit_args.eval_seeds,
        temperatures=kit_args.eval_temperatures, max_new_tokens=kit_args.eval_max_new_tokens,
        names={"base": model_args.model_name_or_path, "tuned": f"{model_args.model_name_or_path} + KTO"},
        config={"base_model": model_args.model_name_or_path, "adapter": trainer.args.output_dir,
                "language": pack.code, "dataset": metrics["dataset"]},
    )
    metrics["eval"] = summary
    table = summary_table(summary)
    log("eval, base vs tuned:\n" + table)
    return table


def cli(argv: list[str] | None = None) -> int:
    argv = normalise_argv(list(sys.argv[1:] if argv is None else argv))
    parser = TrlParser((KitArguments, ScriptArguments, KTOConfig, ModelConfig))
    parser.set_defaults(**parser_defaults())
    recipe = argv[argv.index("--config") + 1] if "--config" in argv[:-1] else None
    try:
        try:
            kit_args, script_args, training_args, model_args = parser.parse_args_and_config(argv)
        except (ValueError, FileNotFoundError) as exc:  # TRL/transformers checks of the options
            raise KitError(str(exc).strip().splitlines()[0]) from None
        main(kit_args, script_args, training_args, model_args, recipe=recipe)
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
