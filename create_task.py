"""Create (or update) the annotation dataset of a language in Argilla: one record per (prompt, completion).

    python create_task.py --language es --local                       # the local server (started if needed)
    python create_task.py --language es --space my-org/haiku-es       # an Argilla Space with HF sign-in
    python create_task.py --language es --space my-org/haiku-es --dry-run
    python create_task.py --config task.yaml                          # the same flags as YAML keys

Rerunning adds only records that are new (ids come from the text) and never touches given responses.
Later steps (`export_kto.py`) find the server and key by themselves; nothing secret is printed.
"""

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ktokit.entry import run_script
from ktokit.errors import KitError


@dataclass
class TaskArguments:
    language: str = field(metadata={"help": "Language pack code, e.g. `es` (a folder of languages/)."})
    generations: str | None = field(
        default=None,
        metadata={"help": "Generations from preference_gen.py: a dataset folder or a .jsonl file "
                          "(default: outputs/<language>/generations)."},
    )
    local: bool = field(default=False, metadata={"help": "Use the local Argilla server (the default without --space)."})
    space: str | None = field(default=None, metadata={"help": "Provision or reuse the Argilla Space ORG/NAME on the Hub."})
    private: bool = field(default=False, metadata={"help": "Make a new Space private."})
    storage: str = field(default="none", metadata={"help": "`none` or `bucket` (a private bucket mounted at /data). "
                                                           "Without storage a restart loses every annotation."})
    dry_run: bool = field(default=False, metadata={"help": "Print the plan (files, secret names, settings, records); touch nothing."})
    min_submitted: int = field(default=2, metadata={"help": "Submitted answers a record needs (2+ to measure agreement)."})
    dataset_name: str | None = field(default=None, metadata={"help": "Argilla dataset name (default: <task>-<language>)."})
    workspace: str | None = field(default=None, metadata={"help": "Argilla workspace (default: the language code)."})
    seed: int = field(default=42, metadata={"help": "Seed of the record shuffle."})
    space_url: str | None = field(default=None, metadata={"help": "Argilla URL of the Space when it is not "
                                                                  "https://<owner>-<name>.hf.space (a custom domain)."})
    argilla_dir: str | None = field(default=None, metadata={"help": "Data dir of the local server (default: $KTOKIT_HOME/argilla)."})
    space_timeout: float = field(default=1800.0, metadata={"help": "Seconds to wait for the Space to build and start."})


def print_plan(pack, template, records, target: str) -> None:
    from collections import Counter

    verdicts = Counter(r["metadata"]["form_verdict"] for r in records)
    labels = template.labels()
    print(f"target       {target}")
    print(f"dataset      {template.workspace}/{template.dataset}  ({pack.name}, guidelines {len(template.guidelines)} chars)")
    print(f"fields       {', '.join(f['name'] for f in template.fields)}")
    print(f"questions    label: {labels['good']} / {labels['bad']}"
          + (", comment (optional)" if len(template.questions) > 1 else ""))
    print(f"metadata     {', '.join(m['name'] for m in template.metadata)}")
    print(f"distribution TaskDistribution(min_submitted={template.min_submitted})")
    print(f"records      {len(records)} (form check: {', '.join(f'{v} {k}' for k, v in sorted(verdicts.items()))}), "
          "shuffled; only those not yet in the dataset are added")


def log_records(client, template, records, api_url: str):
    from argilla._exceptions import ArgillaAPIError, UnauthorizedError

    from ktokit.annotation import annotation_url, ensure_dataset, log_new_records

    try:
        dataset, created = ensure_dataset(client, template)
        print(f"{'created' if created else 'reusing'} dataset {template.workspace}/{template.dataset}", file=sys.stderr)
        result = log_new_records(dataset, records)
    except UnauthorizedError:
        raise KitError(f"Argilla at {api_url} refused the stored API key: set ARGILLA_API_KEY to the owner's key "
                       "(Argilla > My settings) and rerun") from None
    except ArgillaAPIError as exc:
        raise KitError(f"Argilla at {api_url} refused the request: {str(exc).splitlines()[0][:300]}") from None
    print(f"{result.added} records added, {result.existing} already there; {result.total} in the dataset")
    return annotation_url(api_url, dataset)


def run_local(args, template, records) -> None:
    from ktokit.argilla_local import ensure_running
    from ktokit.credentials import save_target

    creds = ensure_running(args.argilla_dir)
    import argilla as rg

    client = rg.Argilla(api_url=creds["api_url"], api_key=creds["api_key"], timeout=120)
    url = log_records(client, template, records, creds["api_url"])
    data_dir = str(Path(args.argilla_dir).resolve()) if args.argilla_dir else None
    save_target(template.language, {"kind": "local", "data_dir": data_dir, "workspace": template.workspace,
                                    "dataset": template.dataset})
    print(f"annotate at  {url}")
    print(f"annotators   python -m ktokit argilla add-annotator NAME --workspace {template.workspace}")


def run_space(args, pack, template, records, hf_api=None) -> None:
    import os

    from ktokit import spaces
    from ktokit.credentials import load_space_credentials, save_space_credentials, save_target
    from ktokit.hub import require_hf_token

    repo_id = spaces.check_repo_id(args.space)
    values = spaces.render_values(pack, template.workspace, template.dataset, template.min_submitted, args.storage)
    with tempfile.TemporaryDirectory(prefix="ktokit-space-") as tmp:
        files = spaces.render_space(values, tmp)
        plan = spaces.plan_space(repo_id, files, private=args.private, storage=args.storage,
                                 api_url=args.space_url)
        if args.dry_run:
            print("\n".join(plan.lines()))
            return
        token = require_hf_token(f"--space {repo_id}")
        if hf_api is None:
            from huggingface_hub import HfApi

            hf_api = HfApi(token=token)
        creds = load_space_credentials(repo_id)
        exists = hf_api.repo_exists(repo_id, repo_type="space")
        if exists:
            if os.environ.get("ARGILLA_API_KEY"):  # the owner's key, read from the running Space
                creds["api_key"] = os.environ["ARGILLA_API_KEY"]
            if not creds.get("api_key"):
                raise KitError(f"the Space {repo_id} exists but this machine has no credentials for it: set "
                               "ARGILLA_API_KEY to its owner's API key (Argilla > My settings) and rerun")
        elif not creds.get("password"):
            generated = spaces.new_secrets()
            creds = {"api_key": generated["API_KEY"], "password": generated["PASSWORD"],
                     "auth_secret": generated["ARGILLA_AUTH_SECRET_KEY"],
                     "username": (hf_api.whoami() or {}).get("name")}
        creds.update(api_url=plan.api_url, space=repo_id, workspace=template.workspace)
        path = save_space_credentials(repo_id, creds)  # before the Hub sees them: a crash never loses them
        print(f"owner credentials stored in {path} (0600)", file=sys.stderr)
        if exists:
            print(f"Space {repo_id} exists: reusing it (files and secrets left as they are)", file=sys.stderr)
        else:
            spaces.provision_space(hf_api, plan, {"API_KEY": creds["api_key"], "PASSWORD": creds["password"],
                                                  "ARGILLA_AUTH_SECRET_KEY": creds["auth_secret"]}, exists=False)
    for note in plan.notes:
        print(note, file=sys.stderr)
    print(f"waiting for https://huggingface.co/spaces/{repo_id} to run ...", file=sys.stderr)
    headers = {"Authorization": f"Bearer {token}"} if args.private else {}
    try:
        spaces.wait_until_running(hf_api, repo_id, timeout_s=args.space_timeout)
        spaces.wait_for_argilla(plan.api_url, headers)
    except KitError as exc:
        if args.storage != "bucket":
            raise
        raise KitError(f"{exc} (with --storage bucket, Argilla may be unable to write /data/argilla: "
                       "see the warning above)") from None
    import argilla as rg

    client = rg.Argilla(api_url=plan.api_url, api_key=creds["api_key"], timeout=120, headers=headers)
    url = log_records(client, template, records, plan.api_url)
    save_target(template.language, {"kind": "space", "space": repo_id, "private": args.private,
                                    "workspace": template.workspace, "dataset": template.dataset})
    print(f"annotate at  {url}")
    print(f"annotators   sign in with Hugging Face at {plan.api_url} (workspace {template.workspace})")
    if args.storage == "none":
        print(spaces.NO_STORAGE_WARNING, file=sys.stderr)


def main(args: TaskArguments, hf_api=None) -> None:
    from ktokit.annotation import build_records, load_generations, shuffle_records, task_template
    from ktokit.languages import load_pack
    from ktokit.spaces import check_storage

    if args.local and args.space:
        raise KitError("choose one target: --local or --space ORG/NAME")
    check_storage(args.storage)
    pack = load_pack(args.language)
    template = task_template(pack, args.min_submitted, args.dataset_name, args.workspace)
    rows = load_generations(args.generations or Path("outputs") / pack.code / "generations")
    records = shuffle_records(build_records(rows, pack), args.seed)
    if not records:
        raise KitError("the generations hold no usable (prompt, completion) pair: check preference_gen.py's output")
    target = f"Space {args.space}" if args.space else "local Argilla server"
    print_plan(pack, template, records, target)
    if args.space:
        run_space(args, pack, template, records, hf_api)
    elif args.dry_run:
        print("dry run: nothing was created")
    else:
        run_local(args, template, records)


if __name__ == "__main__":
    run_script(main, TaskArguments, interrupted="interrupted: rerun the same command; it adds only what is missing")
