"""Create (or update) the annotation dataset of a language in Argilla: one record per (prompt, completion).

    python create_task.py --language es --local                       # the local server (started if needed)
    python create_task.py --language es --space my-org/haiku-es       # an Argilla Space with HF sign-in
    python create_task.py --language es --space my-org/haiku-es --dry-run
    python create_task.py --config task.yaml                          # the same flags as YAML keys

Rerunning adds only records that are new (ids come from the text) and never touches given responses.
Later steps (`export_kto.py`) find the server and key by themselves; nothing secret is printed.
Options: `TaskArguments` in ktokit/annotate/create.py (or `--help`).
"""

import sys

from ktokit.annotate.create import TaskArguments, create_task, plan_task
from ktokit.options import run_script


def main(args: TaskArguments) -> None:
    """The plan first (a Space takes minutes to come up), then what was done."""
    plan = plan_task(args)
    print("\n".join(plan.lines()), flush=True)
    print("\n".join(create_task(plan).lines()))


if __name__ == "__main__":
    sys.exit(
        run_script(
            main,
            TaskArguments,
            interrupted="interrupted: rerun the same command; it adds only what is missing",
        )
    )
