"""KTO fine-tuning with a LoRA adapter on the 👍/👎 dataset export_kto.py wrote.

TRL's KTO script (`trl/scripts/kto.py`) with the kit's checks and outputs around it:

    python train_kto.py --config recipes/cpu-smoke.yaml --language en
    python train_kto.py --config recipes/qwen2.5-1.5b-lora.yaml --language es --eval --merge
    python train_kto.py --config recipes/qwen2.5-1.5b-lora.yaml --language es \
        --push_to_hub --hub_model_id you/haiku-es-kto
    accelerate launch --config_file recipes/accelerate/ddp.yaml train_kto.py \
        --config recipes/... --language es

Every TRL option (`ScriptArguments`, `KTOConfig`, `ModelConfig`) works as a flag or in the YAML
recipe; the kit adds `--language`, `--eval`, `--merge` (ktokit/train/arguments.py). Publishing is
TRL's: `--push_to_hub --hub_model_id ORG/NAME [--hub_private_repo]`, as in preference_gen.py and
export_kto.py (the old spellings work until the next release, with a notice).
`--model_name_or_path tiny` (or `tiny:<lang>`) trains the kit's offline tiny model. Writes to
<output_dir> (default outputs/<language>/kto-model): the adapter and tokenizer, README.md (TRL's model
card with the kit's facts), metrics.json, eval/ with --eval, merged/ with --merge. The work:
ktokit/train/run.py.
"""

import sys

from ktokit.train.run import main

if __name__ == "__main__":
    sys.exit(main())
