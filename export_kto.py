"""Export the submitted 👍/👎 responses of a language's Argilla dataset as a KTO dataset (TRL's format).

    python export_kto.py --language es                                   # outputs/es/kto
    python export_kto.py --language es --strategy unanimous --min_votes 2 --test_size 0.1 --dpo --raw
    python export_kto.py --language es --conversational --push_to_hub --hub_model_id my-org/haiku-kto-es
    python export_kto.py --config export.yaml                            # the same flags as YAML keys

The server and dataset are the ones `create_task.py` recorded. Only submitted responses count;
each record gets one label (`--strategy majority|unanimous`, ties left out, `--min_votes`). Writes
a `load_from_disk` folder plus JSONL per split, `dpo/` with --dpo, `raw/` with --raw, a dataset card
(README.md) with its chart, and export_summary.json. The same annotations give the same bytes.
Publishing is spelled as in TRL: `--push_to_hub --hub_model_id ORG/NAME [--hub_private_repo]`.
Options: `ExportArguments` in ktokit/export/build.py (or `--help`).
"""

import sys

from ktokit.export.build import ExportArguments, export_kto
from ktokit.hub import hub_aliases
from ktokit.options import run_script


def main(args: ExportArguments) -> None:
    """The step, then its report on stdout."""
    print("\n".join(export_kto(args).report()))


if __name__ == "__main__":
    sys.exit(run_script(main, ExportArguments, argv=hub_aliases(sys.argv[1:])))
