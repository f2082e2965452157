"""Generate candidate responses: every prompt of a language pack, answered by every model of a model set.

    python preference_gen.py --language es                    # Hub models with a token, else tiny offline ones
    python preference_gen.py --language es --sample 20 --dry-run
    python preference_gen.py --language es --models model_sets/local-server.yaml --output data/es
    python preference_gen.py --language es --push-to-hub my-org/haiku-es-generations --private
    python preference_gen.py --config gen.yaml                # the same flags as YAML keys

Rerunning the same command resumes: prompts already in the output directory are skipped.
Options: `GenerationArguments` in ktokit/generate/run.py (or `--help`).
"""

import sys

from ktokit.console import run_script
from ktokit.generate import GenerationArguments, generate_responses

if __name__ == "__main__":
    sys.exit(
        run_script(
            generate_responses,
            GenerationArguments,
            interrupted="interrupted: finished batches are saved; rerun the same command to resume",
        )
    )
