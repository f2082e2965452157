"""create_task.py's work: the plan of a language's annotation dataset, then the dataset on its server.

The server is the local Argilla server (started if needed), an Argilla Space with HF sign-in
(provisioned on first use, reused as it is afterwards), or any Argilla server the campaign runs itself
(`--server URL`, an owner's or admin's key from ARGILLA_API_KEY). Either way the records are logged
idempotently and the target is recorded, so later steps (export_kto.py, the demo) need no flags.
Nothing secret is printed: the owner credentials of a Space are stored 0600 before the Hub sees them.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ktokit.annotate import space
from ktokit.annotate.gold import Gold, describe, gold_records, key_workspace, load_key, save_key
from ktokit.annotate.task import (
    LogResult,
    TaskTemplate,
    annotation_url,
    build_records,
    ensure_dataset,
    load_generations,
    log_new_records,
    shuffle_records,
    task_template,
)
from ktokit.console import KitError, first_line, say
from ktokit.hub import check_repo_id
from ktokit.options import option, server_option
from ktokit.packs.languages import LanguagePack, load_pack
from ktokit.spaces.provision import (
    DEFAULT_HARDWARE,
    check_hardware,
    check_sleep_time,
    page_url,
    wait_until_running,
)

if TYPE_CHECKING:
    import argilla as rg

Records = list[dict[str, Any]]


@dataclass
class TaskArguments:
    """create_task.py's options (flags, or keys of a `--config` YAML file)."""

    language: str = option("Language pack code, e.g. `es` (a folder of languages/).")
    generations: str | None = option(
        "Generations from preference_gen.py: a dataset folder or a .jsonl file "
        "(default: outputs/<language>/generations).",
        None,
    )
    local: bool = option("Use the local Argilla server (the default without --space).", False)
    space: str | None = option("Provision or reuse the Argilla Space ORG/NAME on the Hub.", None)
    server: str | None = server_option()
    private: bool = option("Make a new Space private (see the warning it prints about HF sign-in).", False)
    hardware: str = option(
        "Hardware of a new Space: cpu-basic (free, sleeps after 48 h without visits, and a "
        "restart loses every annotation without storage), cpu-upgrade, ...",
        DEFAULT_HARDWARE,
    )
    sleep_time: int | None = option(
        "Seconds without visits before a new Space sleeps, -1 never (paid hardware only).", None
    )
    storage: str = option(
        "`none` or `bucket` (a private bucket mounted at /data). Without storage a restart "
        "loses every annotation.",
        "none",
    )
    dry_run: bool = option("Print the plan (files, secret names, settings, records); touch nothing.", False)
    min_submitted: int = option("Submitted answers a record needs (2+ to measure agreement).", 2)
    dataset_name: str | None = option("Argilla dataset name (default: <task>-<language>).", None)
    workspace: str | None = option("Argilla workspace (default: the language code).", None)
    seed: int = option("Seed of the record shuffle.", 42)
    round: int | None = option(
        "Round of the records this run adds (metadata `round`; export_kto.py --rounds picks rounds): "
        "answers from a model tuned on round 1 are round 2. Default: 1 for a new dataset, else the "
        "highest round already there. Records already in the dataset keep theirs.",
        None,
    )
    gold: int | None = option(
        "Gold answers (known-good and known-bad) mixed in to check annotators; default: one record in 20, "
        "at least 10, as many as the pack allows. 0: none.",
        None,
    )
    space_url: str | None = option(
        "Argilla URL of the Space when it is not https://<owner>-<name>.hf.space (a custom domain).", None
    )
    argilla_dir: str | None = option("Data dir of the local server (default: $KTOKIT_HOME/argilla).", None)
    space_timeout: float = option("Seconds to wait for the Space to build and start.", 1800.0)


@dataclass
class TaskPlan:
    """What create_task.py will do, worked out before anything is touched; `lines()` is the printed plan."""

    args: TaskArguments
    pack: LanguagePack
    template: TaskTemplate
    records: Records  # the gold records among them, shuffled in
    gold: list[Gold] = field(default_factory=list)

    @property
    def target(self) -> str:
        if self.args.server:
            return f"Argilla server {self.args.server}"
        return f"Space {self.args.space}" if self.args.space else "local Argilla server"

    def lines(self) -> list[str]:
        pack, template, records = self.pack, self.template, self.records
        gold = {g.id for g in self.gold}
        records = [r for r in records if r["id"] not in gold]
        verdicts = Counter(r["metadata"]["form_verdict"] for r in records)
        other = sum(r["metadata"]["detected_language"] != pack.code for r in records)
        labels = template.labels()
        names = {q["name"] for q in template.questions}
        comment = (", flag (optional: then Discard)" if "flag" in names else "") + (
            ", comment (optional)" if "comment" in names else ""
        )
        checked = ", ".join(f"{v} {k}" for k, v in sorted(verdicts.items()))
        return [
            f"target       {self.target}",
            f"dataset      {template.workspace}/{template.dataset}  ({pack.name}, guidelines "
            f"{len(template.guidelines)} chars)",
            f"fields       {', '.join(f['name'] for f in template.fields)}",
            f"questions    label: {labels['good']} / {labels['bad']}{comment}",
            f"metadata     {', '.join(m['name'] for m in template.metadata)}",
            f"distribution TaskDistribution(min_submitted={template.min_submitted})",
            f"records      {len(records)} (form check: {checked}), {other} not in {pack.name} (metadata "
            "detected_language), shuffled; only those not yet in the dataset are added",
            f"round        {self.args.round}"
            if self.args.round
            else "round        1 for a new dataset, else the highest round already there (--round N)",
            f"gold         {describe(self.gold)}, shuffled in; the key in workspace "
            f"{key_workspace(template.workspace)} (annotators are not members)",
        ]


@dataclass
class TaskResult:
    """What create_task did: `lines()` is what create_task.py prints after the plan (on a dry run, the
    Space's plan, or that nothing was created)."""

    logged: LogResult | None = None
    url: str = ""  # where annotators work on the dataset
    annotators: str = ""  # how annotators get in
    dry_run: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.logged is None:
            return self.dry_run or ["dry run: nothing was created"]
        return [
            self.logged.line(),
            f"annotate at  {self.url}",
            f"annotators   {self.annotators}",
        ]


def plan_task(args: TaskArguments) -> TaskPlan:
    """Check the options, read the generations, make the records: nothing on a server or the Hub yet."""
    if sum(map(bool, (args.local, args.space, args.server))) > 1:
        raise KitError("choose one target: --local, --space ORG/NAME or --server URL")
    if args.round is not None and args.round < 1:
        raise KitError(f"--round must be 1 or more (the first round is 1), got {args.round}")
    if args.server:
        from ktokit.annotate.credentials import server_url

        args.server = server_url(args.server)
    space.check_storage(args.storage)
    if args.space:
        check_repo_id(args.space)  # before the generations are read
        check_sleep_time(args.sleep_time, check_hardware(args.hardware))
    pack = load_pack(args.language)
    template = task_template(pack, args.min_submitted, args.dataset_name, args.workspace)
    rows = load_generations(args.generations or Path("outputs") / pack.code / "generations")
    records = build_records(rows, pack)
    if not records:
        raise KitError(
            "the generations hold no usable (prompt, completion) pair: check preference_gen.py's output"
        )
    gold = gold_records(pack, records, args.gold, args.seed)
    return TaskPlan(
        args, pack, template, shuffle_records(records + [g.record for g in gold], args.seed), gold
    )


def create_task(plan: TaskPlan) -> TaskResult:
    """The dataset on its server (a Space, provisioned on first use, or the local server), the records it
    lacks logged, the target recorded for later steps; on a dry run, nothing."""
    if plan.args.space:
        return to_space(plan.args, plan.pack, plan.template, plan.records, plan.gold)
    if plan.args.dry_run:
        return TaskResult()
    if plan.args.server:
        return to_server(plan.args, plan.template, plan.records, plan.gold)
    return to_local_server(plan.args, plan.template, plan.records, plan.gold)


def gold_to_add(
    client: rg.Argilla, dataset: rg.Dataset, template: TaskTemplate, records: Records, gold: list[Gold]
) -> tuple[Records, list[Gold]]:
    """The records to log and the gold to add: a rerun adds gold only up to the number asked (the key
    already holds the rest, even when other generations paired other prompts), and never makes a record
    already in the dataset gold."""
    from ktokit.annotate.task import existing_records

    key = load_key(client, template.workspace, template.dataset)
    there = set(existing_records(dataset)) if key or gold else set()
    fresh = [g for g in gold if g.id not in key and g.id not in there]
    add = fresh[: max(0, len(gold) - len(key))]
    skip = {g.id for g in fresh} - {g.id for g in add}
    return [r for r in records if r["id"] not in skip], add


def log_records(
    client: rg.Argilla,
    template: TaskTemplate,
    records: Records,
    api_url: str,
    gold: list[Gold] | None = None,
    round_: int | None = None,
) -> tuple[LogResult, str]:
    """The dataset (created or reused) with the records it lacks, as round `round_` (default: the highest
    there, 1 for a new dataset): what was logged, and where annotators work on it."""
    from argilla._exceptions import ArgillaAPIError, UnauthorizedError

    try:
        dataset, created = ensure_dataset(client, template)
        say(f"{'created' if created else 'reusing'} dataset {template.workspace}/{template.dataset}")
        records, add = gold_to_add(client, dataset, template, records, gold or [])
        result = log_new_records(dataset, records, round_=round_)
        result.gold = save_key(client, template.workspace, template.dataset, add)
        if result.gold and not created and result.added == result.gold:
            say("note: only gold was added, so it comes after every record already there in the queue")
        if round_ is None and not created and result.added > result.gold and result.round:
            say(
                f"note: the new records joined round {result.round}, the highest there; answers of a model "
                f"tuned on it are a new round: --round {result.round + 1}"
            )
    except UnauthorizedError:
        raise KitError(
            f"Argilla at {api_url} refused the stored API key: set ARGILLA_API_KEY to the owner's key "
            "(Argilla > My settings) and rerun"
        ) from None
    except ArgillaAPIError as exc:
        raise KitError(f"Argilla at {api_url} refused the request: {first_line(exc)[:300]}") from None
    return result, annotation_url(api_url, dataset)


def local_client(argilla_dir: str | None) -> tuple[rg.Argilla, str, dict[str, Any]]:
    """The local Argilla server (started if needed): a client, its URL, and the target to record."""
    import argilla as rg

    from ktokit.annotate.argilla_local import ensure_running

    creds = ensure_running(argilla_dir)
    client = rg.Argilla(api_url=creds["api_url"], api_key=creds["api_key"], timeout=120)
    data_dir = str(Path(argilla_dir).resolve()) if argilla_dir else None
    return client, creds["api_url"], {"kind": "local", "data_dir": data_dir}


def to_local_server(
    args: TaskArguments, template: TaskTemplate, records: Records, gold: list[Gold] | None = None
) -> TaskResult:
    """The local Argilla server (started if needed) holds the dataset; its own credentials stay its own."""
    from ktokit.annotate.credentials import save_target

    client, api_url, target = local_client(args.argilla_dir)
    logged, url = log_records(client, template, records, api_url, gold, args.round)
    save_target(template.language, {**target, "workspace": template.workspace, "dataset": template.dataset})
    hint = f"python -m ktokit argilla add-annotator NAME --workspace {template.workspace}"
    return TaskResult(logged, url, hint)


def server_client(url: str) -> tuple[rg.Argilla, str, dict[str, Any]]:
    """Any Argilla server (`--server URL`), checked (URL, key, role): a client, its URL, the target."""
    from ktokit.annotate.credentials import open_server

    target = open_server(url)
    return target.client(), target.api_url, {"kind": "server", "api_url": target.api_url}


def to_server(
    args: TaskArguments, template: TaskTemplate, records: Records, gold: list[Gold] | None = None
) -> TaskResult:
    """An Argilla server the campaign runs holds the dataset; its key stays in a 0600 file."""
    from ktokit.annotate.credentials import save_target

    client, api_url, target = server_client(args.server)
    logged, url = log_records(client, template, records, api_url, gold, args.round)
    save_target(template.language, {**target, "workspace": template.workspace, "dataset": template.dataset})
    return TaskResult(logged, url, server_annotators(api_url, template.workspace))


def server_annotators(api_url: str, workspace: str) -> str:
    return (
        f"sign in at {api_url} (Hugging Face sign-in if the server has it, else a user an owner "
        f"makes), members of the workspace {workspace}"
    )


def owner_credentials(repo_id: str, exists: bool, api: Any) -> dict[str, Any]:
    """The owner credentials of the Space: stored ones, the key of a running Space from ARGILLA_API_KEY,
    or (for a new Space) fresh ones."""
    from ktokit.annotate.credentials import load_space_credentials

    creds = load_space_credentials(repo_id)
    if exists:
        if os.environ.get("ARGILLA_API_KEY"):  # the owner's key, read from the running Space
            creds["api_key"] = os.environ["ARGILLA_API_KEY"]
        if not creds.get("api_key"):
            raise KitError(
                f"the Space {repo_id} exists but this machine has no credentials for it: set "
                "ARGILLA_API_KEY to its owner's API key (Argilla > My settings) and rerun"
            )
    elif not creds.get("password"):
        creds = {
            **space.credentials_from_secrets(space.new_secrets()),
            "username": (api.whoami() or {}).get("name"),
        }
    return creds


def space_client(
    args: TaskArguments, pack: LanguagePack, template: TaskTemplate
) -> tuple[rg.Argilla, str, dict[str, Any]] | list[str]:
    """The Argilla Space with HF sign-in (provisioned on first use, reused afterwards): a client, its URL
    and the target to record; on a dry run, the Space's plan."""
    from ktokit.annotate.credentials import save_space_credentials
    from ktokit.hub import hf_api, require_hf_token

    repo_id = check_repo_id(args.space)
    values = space.render_values(
        pack, template.workspace, template.dataset, template.min_submitted, args.storage
    )
    with tempfile.TemporaryDirectory(prefix="ktokit-space-") as tmp:
        files = space.render_space(values, tmp)
        plan = space.plan_space(
            repo_id,
            files,
            private=args.private,
            storage=args.storage,
            api_url=args.space_url,
            hardware=args.hardware,
            sleep_time=args.sleep_time,
        )
        if args.dry_run:
            return plan.lines()
        token = require_hf_token(f"--space {repo_id}")
        api = hf_api(f"--space {repo_id}")
        exists = api.repo_exists(repo_id, repo_type="space")
        creds = owner_credentials(repo_id, exists, api)
        creds.update(api_url=plan.api_url, space=repo_id, workspace=template.workspace)
        path = save_space_credentials(repo_id, creds)  # before the Hub sees them: a crash never loses them
        say(f"owner credentials stored in {path} (0600)")
        if exists:
            say(f"Space {repo_id} exists: reusing it (files and secrets left as they are)")
        else:
            space.provision_space(api, plan, space.secrets_from_credentials(creds), exists=False)
    for note in plan.notes:
        say(note)
    say(f"waiting for {page_url(repo_id)} to run ...")
    headers = {"Authorization": f"Bearer {token}"} if args.private else {}
    try:
        wait_until_running(api, repo_id, timeout_s=args.space_timeout)
        space.wait_for_argilla(plan.api_url, headers)
    except KitError as exc:
        if args.storage != "bucket":
            raise
        raise KitError(
            f"{exc} (with --storage bucket, Argilla may be unable to write /data/argilla: "
            "see the warning above)"
        ) from None
    import argilla as rg

    client = rg.Argilla(api_url=plan.api_url, api_key=creds["api_key"], timeout=120, headers=headers)
    return client, plan.api_url, {"kind": "space", "space": repo_id, "private": args.private}


def to_space(
    args: TaskArguments,
    pack: LanguagePack,
    template: TaskTemplate,
    records: Records,
    gold: list[Gold] | None = None,
) -> TaskResult:
    """An Argilla Space with HF sign-in holds the dataset: provisioned on first use, reused afterwards."""
    from ktokit.annotate.credentials import save_target

    opened = space_client(args, pack, template)
    if isinstance(opened, list):
        return TaskResult(dry_run=opened)
    client, api_url, target = opened
    logged, url = log_records(client, template, records, api_url, gold, args.round)
    save_target(template.language, {**target, "workspace": template.workspace, "dataset": template.dataset})
    if args.storage == "none":
        say(space.NO_STORAGE_WARNING)
    return TaskResult(logged, url, f"sign in with Hugging Face at {api_url} (workspace {template.workspace})")
