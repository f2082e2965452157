"""Generate candidate responses: every prompt of a language pack, answered by every model of a model set.

    python preference_gen.py --language es                    # Hub models with a token, else tiny offline ones
    python preference_gen.py --language es --sample 20 --dry-run
    python preference_gen.py --language es --models model_sets/local-server.yaml --output data/es
    python preference_gen.py --language es --push-to-hub my-org/haiku-es-generations --private
    python preference_gen.py --config gen.yaml                # the same flags as YAML keys

Rerunning the same command resumes: prompts already in the output directory are skipped.
"""

from dataclasses import dataclass, field
from pathlib import Path

from ktokit.entry import run_script


@dataclass
class GenerationArguments:
    language: str = field(metadata={"help": "Language pack code, e.g. `es` (a folder of languages/)."})
    models: str | None = field(
        default=None,
        metadata={"help": "Model set: a YAML file or a shipped name (`default`, `offline`). Default: `default` "
                          "when a Hugging Face token is found, else `offline`."},
    )
    output: str | None = field(default=None, metadata={"help": "Output directory (default: outputs/<language>/generations)."})
    sample: int | None = field(default=None, metadata={"help": "Use only the first N prompts of the pack."})
    push_to_hub: str | None = field(default=None, metadata={"help": "Also push the dataset, with its card, to this Hub repo."})
    private: bool = field(default=False, metadata={"help": "Make the Hub dataset private."})
    dry_run: bool = field(default=False, metadata={"help": "Print models, prompts, requests and output, then stop."})
    runner: str = field(default="local", metadata={"help": "`local` (threads in this process) or `distilabel` "
                                                           "(distilabel's multi-process runner)."})


def main(args: GenerationArguments) -> None:
    from ktokit.generation import choose_model_set, generate, prepare, select_prompts
    from ktokit.hub import push_dataset, require_hf_token
    from ktokit.languages import load_pack

    pack = load_pack(args.language)
    model_set, note, token = choose_model_set(args.models)
    if note:
        print(note)
    prompts = select_prompts(pack, args.sample)
    output_dir = Path(args.output or f"outputs/{pack.code}/generations")
    plan = prepare(pack, model_set, prompts, output_dir, token=token, runner=args.runner)
    print(plan.describe())
    if args.dry_run:
        return
    if args.push_to_hub:
        token = require_hf_token("--push-to-hub")  # fail before generating, not after

    result = generate(plan)
    print(result.summary)
    print(f"saved {len(result.rows)} rows to {output_dir} (datasets.load_from_disk) and {output_dir}/generations.jsonl")

    if args.push_to_hub:
        from ktokit.generation.output import dataset_card

        card = dataset_card(pack, model_set, result.rows, args.push_to_hub)
        url = push_dataset(result.dataset, args.push_to_hub, card, private=args.private, token=token)
        print(f"pushed to {url}")


if __name__ == "__main__":
    run_script(main, GenerationArguments,
               interrupted="interrupted: finished batches are saved; rerun the same command to resume")
