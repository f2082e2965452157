"""Backups of a language's annotation dataset that an empty server can be restored from.

    python -m ktokit backup  --language es --to backups/            # a folder: backups/es/
    python -m ktokit backup  --language es --to my-org/haiku-backup  # a private Hub dataset repo: es/
    python -m ktokit restore --language es --from my-org/haiku-backup --space my-org/haiku-es

A backup of language L is one folder `L/` (in the folder, or in the Hub repo):

    .argilla/dataset.json, .argilla/settings.json, records.json   Argilla's own `Dataset.to_disk`
    ktokit-backup.json    every response (status, values, the author's USERNAME), the user id -> username
                          map, counts, a fingerprint of the content, and the gold key (kept in a
                          workspace of its own on the server: ktokit.annotate.gold)

Argilla's `to_disk`/`from_disk` (and `to_hub`/`from_hub`) carry settings, records, suggestions and
metadata, and serve here for those; they do not bring answers back into another server: a response
names its author by user id, and ids differ between servers (the bulk endpoint refuses an unknown id),
and a response without values (a discard) is not in `records.json` at all. So the kit keeps every
response with its author's username, and on restore finds or recreates each annotator by username in
the language's workspace (a Space's Hugging Face sign-in matches users by username, so annotators just
sign in again) and writes the responses under the new ids. Restoring adds only what the server lacks:
records it does not have, and answers of annotators who have none on that record, so a second restore
adds nothing and never overwrites an answer given since.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ktokit.annotate import admin
from ktokit.console import KitError, say
from ktokit.export.read import DISCARDED, DRAFT, SUBMITTED, gold_key, record_items
from ktokit.hub import check_repo_id, hub_error, hub_failures, is_hub_target
from ktokit.paths import read_json, replace_folder, settled_folder, write_json

if TYPE_CHECKING:
    import argilla as rg

BACKUP_FILE = "ktokit-backup.json"
ARGILLA_FILES = ("records.json", ".argilla/dataset.json", ".argilla/settings.json")
FORMAT = 1
BATCH = 200  # records per bulk request on restore


# ---- where a backup goes ------------------------------------------------------------------------------


def fingerprint(records: list[dict[str, Any]], answers: list[dict[str, Any]]) -> str:
    """A hash of what annotators and the task put in: records (fields, metadata, suggestions) and every
    answer (record, username, status, values). Server ids and timestamps are left out, so an
    unchanged dataset has the same fingerprint on any server."""
    content = {
        "records": sorted(
            ({k: r.get(k) for k in ("id", "fields", "metadata", "suggestions", "vectors")} for r in records),
            key=lambda r: str(r["id"]),
        ),
        "answers": sorted(
            ({k: a[k] for k in ("record", "username", "status", "values")} for a in answers),
            key=lambda a: (a["record"], a["username"]),
        ),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def snapshot(client: rg.Argilla, dataset: rg.Dataset, language: str, folder: Path) -> dict[str, Any]:
    """Write the backup of `dataset` into the empty `folder`; returns what `ktokit-backup.json` holds."""
    dataset.to_disk(str(folder))  # Argilla's own: the dataset, its settings, records with suggestions
    records = json.loads((folder / "records.json").read_text(encoding="utf-8"))
    users = _usernames(client, dataset)
    answers = []
    for item in record_items(client, dataset):
        for response in item.get("responses") or []:
            user_id = str(response["user_id"])
            answers.append(
                {
                    "record": str(item.get("external_id") or item["id"]),
                    "username": users.get(user_id, user_id),
                    "user_id": user_id,
                    "status": response["status"],
                    "values": response.get("values") or {},
                }
            )
    answers.sort(key=lambda a: (a["record"], a["username"]))
    meta = {
        "format": FORMAT,
        "language": language,
        "workspace": dataset.workspace.name,
        "dataset": dataset.name,
        "min_submitted": dataset.settings.distribution.min_submitted,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "records": len(records),
        "responses": {s: sum(a["status"] == s for a in answers) for s in (SUBMITTED, DRAFT, DISCARDED)},
        "users": {a["user_id"]: a["username"] for a in answers},
        "fingerprint": fingerprint(records, answers),
        "answers": answers,
        "gold": gold_key(client, dataset),  # record id -> expected label: the key is not in the dataset
    }
    write_json(folder / BACKUP_FILE, meta)
    return meta


def backup(language: str, to: str, *, only_if_changed: bool = False, private: bool = True) -> BackupSummary:
    """Back up `language`'s dataset to the folder `to` (into `to/<language>/`) or the Hub dataset repo `to`
    (private when created); with `only_if_changed`, skip when the last backup there has the same content.

    Returns a summary: target, records, responses by status, annotators, fingerprint, changed.
    """
    from ktokit.export.read import connect

    to_hub = is_hub_target(to)  # an id the Hub refuses: one line before any work
    client, dataset, where = connect(language)
    say(f"backing up {where}")
    with tempfile.TemporaryDirectory(prefix="ktokit-backup-") as tmp:
        staged = Path(tmp) / language
        staged.mkdir()
        with admin.translated(f"cannot back up {where}"):
            meta = snapshot(client, dataset, language, staged)
        if to_hub:
            changed = _to_hub(staged, to, language, meta["fingerprint"], only_if_changed, private)
            target = f"https://huggingface.co/datasets/{to} ({language}/)"
        else:
            changed = _to_folder(staged, Path(to), language, meta["fingerprint"], only_if_changed)
            target = str(Path(to) / language)
    return BackupSummary(
        language=language,
        dataset=f"{meta['workspace']}/{meta['dataset']}",
        to=to,
        target=target,
        annotators=len(set(meta["users"].values())),
        changed=changed,
        **{key: meta[key] for key in ("records", "responses", "fingerprint")},  # as the backup file says
    )


def _to_folder(staged: Path, root: Path, language: str, digest: str, only_if_changed: bool) -> bool:
    final = settled_folder(root / language)  # a backup killed mid-swap: the previous one back first
    if only_if_changed and read_json(final / BACKUP_FILE).get("fingerprint") == digest:
        return False
    root.mkdir(
        parents=True, exist_ok=True, mode=0o700
    )  # annotators' names and answers: like the server's data
    incoming = root / f".{language}.incoming"
    shutil.rmtree(incoming, ignore_errors=True)  # what a backup killed while copying left
    shutil.copytree(staged, incoming)
    replace_folder(incoming, final)  # the previous backup stays whole until the new one is complete
    return True


def _to_hub(
    staged: Path, repo_id: str, language: str, digest: str, only_if_changed: bool, private: bool
) -> bool:
    from ktokit.hub import hf_api

    api = hf_api(f"backup to the Hub repo {repo_id} (for a new local folder, write ./{repo_id})")
    try:
        api.create_repo(repo_id=repo_id, repo_type="dataset", private=private, exist_ok=True)
        if only_if_changed and _hub_fingerprint(api, repo_id, language) == digest:
            return False
        api.upload_folder(
            repo_id=repo_id,
            repo_type="dataset",
            folder_path=str(staged),
            path_in_repo=language,
            allow_patterns=[BACKUP_FILE, *ARGILLA_FILES],
            commit_message=f"ktokit backup of {language} ({digest[:12]})",
        )
    except hub_failures() as exc:
        raise hub_error(f"backup to {repo_id}", exc) from None
    return True


def _hub_fingerprint(api: Any, repo_id: str, language: str) -> str | None:
    from huggingface_hub.errors import EntryNotFoundError

    try:
        path = api.hf_hub_download(repo_id=repo_id, filename=f"{language}/{BACKUP_FILE}", repo_type="dataset")
    except EntryNotFoundError:
        return None
    return read_json(Path(path)).get("fingerprint")


# ---- restore ----------------------------------------------------------------------------------------


def find_backup(source: str, language: str, tmp: str) -> Path:
    """The folder holding `language`'s backup: `source/<language>/` or `source` itself, downloaded first
    when `source` is a Hub repo; one clear line when it is not there or is another language's."""
    if is_hub_target(source, "--from"):
        from ktokit.hub import hf_api

        api = hf_api(f"restore from the Hub repo {source}")
        try:
            root = Path(
                api.snapshot_download(
                    repo_id=source,
                    repo_type="dataset",
                    local_dir=tmp,
                    allow_patterns=[f"{language}/*", f"{language}/.argilla/*"],
                )
            )
        except hub_failures() as exc:
            raise hub_error(f"downloading the backup {source}", exc) from None
        where = f"the Hub repo {source}"
    else:
        root = Path(source)
        if not root.is_dir():
            raise KitError(
                f"no backup folder {source}: pass the folder `backup --to` wrote, or a Hub repo ORG/NAME"
            )
        where = str(root)
    for folder in (settled_folder(root / language), root):
        meta = read_json(folder / BACKUP_FILE, "it is not a backup the kit wrote")
        if meta:
            if meta.get("format", FORMAT) > FORMAT:
                raise KitError(
                    f"the backup in {folder} was written by a newer ktokit (format {meta['format']}): "
                    "update the kit (git pull) and rerun"
                )
            if meta.get("language") != language:
                raise KitError(
                    f"the backup in {folder} is of {meta.get('language')!r}, not {language!r}: "
                    f"pass --language {meta.get('language')} or the right backup"
                )
            missing = [name for name in ARGILLA_FILES if not (folder / name).is_file()]
            if missing:
                raise KitError(
                    f"the backup in {folder} is incomplete (no {', '.join(missing)}): use another backup"
                )
            return folder
    others = sorted(p.parent.name for p in root.glob(f"*/{BACKUP_FILE}"))
    if others:
        raise KitError(f"{where} holds backups of {', '.join(others)}, not {language!r}")
    raise KitError(
        f"no backup in {where}: write one with `python -m ktokit backup --language {language} --to {source}`"
    )


def _usernames(client: rg.Argilla, dataset: rg.Dataset) -> dict[str, str]:
    """User id -> username. Listing every user takes the owner; the dashboard's user (an admin of the
    workspace, ktokit.campaign.dashboard_space) may list the workspace's members, who are its annotators."""
    http = client.http_client
    if (admin.me(http) or {}).get("role") == "owner":
        found = admin.users(http)
    else:
        found = admin.workspace_users(http, str(dataset.workspace.id))
    return {u["id"]: u["username"] for u in found}


WHERE_TO_RESTORE = (
    "say where to restore: --local (the local Argilla server), --space ORG/NAME or --server URL, one of them"
)


def restore_target(
    language: str,
    *,
    space: str | None,
    local: bool,
    argilla_dir: str | None = None,
    private: bool = False,
    server: str | None = None,
) -> tuple[rg.Argilla, dict[str, Any], str]:
    """A client for the server to restore into, the target to record for `language`, and its name."""
    from ktokit.annotate.credentials import ArgillaTarget, load_space_credentials, open_server

    if sum(map(bool, (space, local, server))) != 1:
        raise KitError(WHERE_TO_RESTORE)
    if server:  # checked: the URL, the key in ARGILLA_API_KEY, an owner's or admin's
        target = open_server(server)
        with admin.translated(f"cannot connect to {target.where}"):
            return target.client(), {"kind": "server", "api_url": target.api_url}, target.where
    if local:
        from ktokit.annotate.argilla_local import ensure_running

        creds = ensure_running(argilla_dir)
        record = {"kind": "local", "data_dir": str(Path(argilla_dir).resolve()) if argilla_dir else None}
        where = f"the local Argilla server ({creds['api_url']})"
    else:
        from ktokit.spaces.provision import space_url

        creds = load_space_credentials(space)
        if not creds.get("api_key") and os.environ.get("ARGILLA_API_KEY"):
            creds = {"api_url": space_url(space), "api_key": os.environ["ARGILLA_API_KEY"]}
        if not creds.get("api_key"):
            raise KitError(
                f"no owner credentials for the Space {space} on this machine: set ARGILLA_API_KEY to "
                "its owner's API key (the Space's API_KEY secret) and rerun"
            )
        record = {"kind": "space", "space": space, "private": private or _recorded_private(language, space)}
        where = f"the Space {space}"
    target = ArgillaTarget(
        language=language,
        kind=record["kind"],
        api_url=creds["api_url"],
        api_key=creds["api_key"],
        workspace="",
        dataset="",
        space=space,
        private=bool(record.get("private")),
    )
    admin.require_answer(target.api_url, where)
    with admin.translated(f"cannot connect to {where}"):
        return target.client(), record, where


def _recorded_private(language: str, space: str) -> bool:
    """Whether create_task.py made this Space private (its requests then carry the HF token)."""
    from ktokit.annotate.credentials import argilla_target

    try:
        target = argilla_target(language)
    except KitError:
        return False
    return target.space == space and target.private


def _dataset_on(client: rg.Argilla, folder: Path, meta: dict[str, Any]) -> tuple[rg.Dataset, bool]:
    """The backed-up dataset on this server: the existing one, or a new one from the backup's settings."""
    import argilla as rg

    from ktokit.annotate.task import ensure_workspace
    from ktokit.export.read import check_settings

    ensure_workspace(client, meta["workspace"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK warns before returning None for a missing dataset
        dataset = client.datasets(name=meta["dataset"], workspace=meta["workspace"])
        created = dataset is None
        if created:  # Argilla's own import, settings only: the records go in below, answers mapped
            dataset = rg.Dataset.from_disk(
                str(folder),
                name=meta["dataset"],
                workspace=meta["workspace"],
                client=client,
                with_records=False,
            )
    check_settings(dataset)
    return dataset, created


def _record_items(
    folder: Path,
    meta: dict[str, Any],
    dataset: rg.Dataset,
    existing: dict[str, set[str]],
    user_ids: dict[str, str],
) -> tuple[list[dict[str, Any]], Counter]:
    """Bulk-upsert items: new records whole, known records with only the answers they lack."""
    question_ids = {q.name: str(q.id) for q in dataset.settings.questions}
    answers = defaultdict(list)
    for a in meta["answers"]:
        answers[a["record"]].append(a)
    items, counts = [], Counter()
    for record in json.loads((folder / "records.json").read_text(encoding="utf-8")):
        rid = str(record["id"])
        there = existing.get(rid)
        responses = [
            {"user_id": user_ids[a["username"]], "status": a["status"], "values": a["values"]}
            for a in answers.get(rid, [])
            if there is None or user_ids[a["username"]] not in there
        ]
        counts["responses"] += len(responses)
        if there is None:
            counts["records"] += 1
            items.append(
                {
                    "external_id": rid,
                    "fields": record["fields"],
                    "metadata": record.get("metadata") or {},
                    "suggestions": [
                        {
                            "question_id": question_ids[name],
                            **{k: s.get(k) for k in ("value", "score", "agent")},
                        }
                        for name, s in (record.get("suggestions") or {}).items()
                    ],
                    "vectors": record.get("vectors") or {},
                    "responses": responses,
                }
            )
        elif responses:
            items.append({"external_id": rid, "responses": responses})
    return items, counts


def restore(
    language: str,
    source: str,
    *,
    space: str | None = None,
    local: bool = False,
    argilla_dir: str | None = None,
    private: bool = False,
    server: str | None = None,
) -> RestoreSummary:
    """Bring `language`'s backup from `source` (folder or Hub repo) back into the local server or a Space,
    and record that server for the language, so export_kto.py reads it again. Adds only what is missing."""
    from tqdm.auto import tqdm

    from ktokit.annotate.credentials import save_target
    from ktokit.annotate.gold import save_key_entries

    if sum(map(bool, (space, local, server))) != 1:
        raise KitError(WHERE_TO_RESTORE)
    if space:
        check_repo_id(space)  # before the backup is read or downloaded
    with tempfile.TemporaryDirectory(prefix="ktokit-restore-") as tmp:
        folder = find_backup(source, language, tmp)  # before any server is started or reached
        client, record, where = restore_target(
            language, space=space, local=local, argilla_dir=argilla_dir, private=private, server=server
        )
        meta = json.loads((folder / BACKUP_FILE).read_text(encoding="utf-8"))
        say(
            f"restoring {meta['workspace']}/{meta['dataset']} "
            f"({meta['records']} records, saved {meta['saved_at']}) into {where}"
        )
        with admin.translated(f"cannot restore into {where}"):
            dataset, created = _dataset_on(client, folder, meta)
        user_ids, new_users = admin.ensure_annotators(
            client.http_client, {a["username"] for a in meta["answers"]}, str(dataset.workspace.id)
        )
        existing = {
            str(item.get("external_id") or item["id"]): {
                str(r["user_id"]) for r in item.get("responses") or []
            }
            for item in record_items(client, dataset)
        }
        items, counts = _record_items(folder, meta, dataset, existing, user_ids)
        for start in tqdm(
            range(0, len(items), BATCH),
            desc="restoring records",
            unit="batch",
            disable=len(items) <= BATCH,
            leave=False,
        ):
            admin.request(
                client.http_client,
                "PUT",
                f"/api/v1/datasets/{dataset.id}/records/bulk",
                f"cannot restore records into {where}",
                json={"items": items[start : start + BATCH]},
            )
        with admin.translated(f"cannot restore the gold key into {where}"):
            save_key_entries(client, meta["workspace"], meta["dataset"], meta.get("gold") or {})
    save_target(language, {**record, "workspace": meta["workspace"], "dataset": meta["dataset"]})
    return RestoreSummary(
        language=language,
        dataset=f"{meta['workspace']}/{meta['dataset']}",
        where=where,
        dataset_created=created,
        records_added=counts["records"],
        records_existing=meta["records"] - counts["records"],
        responses_added=counts["responses"],
        annotators_created=new_users,
        annotators=len(user_ids),
        kind=record["kind"],
    )


# ---- what backup and restore report ---------------------------------------------------------------------


class BackupSummary(dict):
    """`backup`'s result: a dict (the dashboard Space reads its keys), and the report the CLI prints."""

    def report_lines(self) -> list[str]:
        fingerprint = f"fingerprint {self['fingerprint'][:12]}"
        if not self["changed"]:
            return [f"unchanged since the last backup in {self['target']} ({fingerprint}): nothing written"]
        r = self["responses"]
        answers = f"{r[SUBMITTED]} submitted, {r[DRAFT]} draft, {r[DISCARDED]} discarded answers"
        return [
            f"backed up {self['dataset']} to {self['target']}",
            f"  {self['records']} records, {answers} by {self['annotators']} annotators ({fingerprint})",
            f"restore with: python -m ktokit restore --language {self['language']} --from {self['to']} "
            "--local (or --space ORG/NAME, --server URL)",
        ]


class RestoreSummary(dict):
    """`restore`'s result: a dict of counts, and the report the CLI prints."""

    def report_lines(self) -> list[str]:
        created, names = self["annotators_created"], ", ".join(self["annotators_created"])
        lines = [
            f"restored {self['dataset']} into {self['where']}"
            + (" (dataset created)" if self["dataset_created"] else ""),
            f"  records: {self['records_added']} added, {self['records_existing']} already there; "
            f"answers added: {self['responses_added']}; "
            f"annotators: {self['annotators']} ({len(created)} recreated)",
        ]
        if created and self["kind"] == "space":
            lines.append(
                f"  recreated {names}: they sign in with Hugging Face as before (matched by username)"
            )
        elif created and self["kind"] == "server":
            lines.append(
                f"  recreated {names} with passwords nobody knows: they sign in with Hugging Face if that "
                "server has it, else an owner gives each a new password"
            )
        elif created:
            lines.append(
                f"  recreated {names} with passwords nobody knows: give each one a new password with "
                "`python -m ktokit argilla reset-password NAME`"
            )
        lines.append(f"export_kto.py --language {self['language']} now reads this server")
        return lines
