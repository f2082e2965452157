"""Generate candidate responses: every prompt of a language pack, answered by every model of a model set.

    python preference_gen.py --language es      # Hub models with a token, else tiny offline ones
    python preference_gen.py --language es --sample 20 --dry-run
    python preference_gen.py --language es --models model_sets/local-server.yaml --output data/es
    python preference_gen.py --language es --push_to_hub --hub_model_id my-org/haiku-es-generations
    python preference_gen.py --config gen.yaml  # the same flags as YAML keys

Rerunning the same command resumes: prompts already in the output directory are skipped.
Publishing is spelled as in TRL: `--push_to_hub --hub_model_id ORG/NAME [--hub_private_repo]`.
Options: `GenerationArguments` in ktokit/generate/run.py (or `--help`).
"""

import sys

from ktokit.generate import GenerationArguments, generate_responses
from ktokit.hub import hub_aliases
from ktokit.options import run_script


def main(args: GenerationArguments) -> None:
    """The step, then its report (the plan of a dry run, else the summary) on stdout."""
    print("\n".join(generate_responses(args).report()))


if __name__ == "__main__":
    sys.exit(
        run_script(
            main,
            GenerationArguments,
            argv=hub_aliases(sys.argv[1:]),
            interrupted="interrupted: finished batches are saved; rerun the same command to resume",
        )
    )
