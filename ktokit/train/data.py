"""The KTO dataset export_kto.py wrote, read and checked before any model is loaded.

KTO learns from both labels and estimates its KL term from the other completions of a batch, so
input it cannot learn from is refused here with one clear line rather than deep inside TRL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ktokit.console import KitError, first_line
from ktokit.hub import is_hub_id
from ktokit.kto_format import COLUMNS


def load_kto_dataset(name: str, *, train_split: str = "train", test_split: str = "test") -> tuple[Any, Any]:
    """(train, test or None) from an export_kto folder (save_to_disk or JSONL/Parquet files) or a Hub id."""
    from datasets import Dataset, DatasetDict, load_dataset, load_from_disk

    path = Path(name)
    try:
        if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
            data = load_from_disk(str(path))
        elif path.is_dir() or (not path.exists() and is_hub_id(name)):
            data = load_dataset(name)
        elif path.is_file():
            data = load_dataset(path.suffix.lstrip(".").replace("jsonl", "json"), data_files=str(path))
        else:
            raise FileNotFoundError(name)
    except FileNotFoundError:
        raise KitError(
            f"no KTO dataset at {name!r}: run export_kto.py first, or pass --dataset_name DIR_OR_HUB_ID"
        ) from None
    except Exception as exc:  # noqa: BLE001 - datasets raises many types for a folder it cannot read
        raise KitError(f"cannot read the KTO dataset {name!r}: {first_line(exc)}") from None
    if isinstance(data, Dataset):
        data = DatasetDict({train_split: data})
    if train_split not in data:
        raise KitError(f"dataset {name!r} has no {train_split!r} split (splits: {', '.join(data)})")
    train = data[train_split]
    missing = set(COLUMNS) - set(train.column_names)
    if missing:
        raise KitError(
            f"dataset {name!r} lacks the KTO column(s) {', '.join(sorted(missing))}: "
            "expected prompt, completion, label (as export_kto.py writes)"
        )
    return train, data.get(test_split)


def label_counts(dataset: Any) -> tuple[int, int]:
    labels = dataset["label"]
    positives = sum(bool(x) for x in labels)
    return positives, len(labels) - positives


def check_trainable(train: Any, per_device_batch_size: int) -> tuple[int, int]:
    """(desirable, undesirable) counts; a KitError for data or settings KTO cannot learn from."""
    if per_device_batch_size < 2:
        raise KitError(
            f"per_device_train_batch_size is {per_device_batch_size}: KTO estimates its KL term from "
            "the other completions in a batch, so it needs at least 2 per device"
        )
    pos, neg = label_counts(train)
    if pos + neg == 0:
        raise KitError("the KTO dataset has no rows: annotate some responses and export again")
    if pos == 0 or neg == 0:
        only = "👍 (desirable)" if neg == 0 else "👎 (undesirable)"
        raise KitError(
            f"the KTO dataset has only {only} labels ({pos + neg} rows): KTO needs both; "
            "annotate more, or export with a lower agreement threshold"
        )
    if pos + neg < per_device_batch_size:
        raise KitError(
            f"the KTO dataset has {pos + neg} rows, fewer than one batch "
            f"({per_device_batch_size}): lower per_device_train_batch_size or annotate more"
        )
    return pos, neg


SUMMARY_FILE = "export_summary.json"  # what export_kto.py writes next to the data (and pushes with it)


def dataset_rounds(name: str) -> list[int] | None:
    """The annotation rounds a KTO dataset holds, from the export_summary.json export_kto.py wrote next to
    it (a local folder) or pushed with it (a Hub dataset); None when it says nothing (not an export).

    An export from before rounds existed has no `rounds`: all its records were round 1. Reading the Hub
    is best effort: the rounds are for the model card, never a reason to stop a run whose data loaded.
    """
    import json

    path = Path(name)
    summary = path / SUMMARY_FILE if path.is_dir() else None
    if summary is None and not path.exists() and is_hub_id(name):
        summary = _hub_summary(name)
    if summary is None or not summary.is_file():
        return None
    try:
        figures = json.loads(summary.read_text(encoding="utf-8"))
        return sorted({int(n) for n in figures.get("rounds") or [1]})
    except (ValueError, TypeError, AttributeError):
        return None


def _hub_summary(repo_id: str) -> Path | None:
    from ktokit.hub import hf_api, hub_failures

    try:
        api = hf_api(f"reading {SUMMARY_FILE} of {repo_id}")
    except KitError:  # no token: a public dataset reads without one
        from huggingface_hub import HfApi

        api = HfApi()
    try:
        return Path(api.hf_hub_download(repo_id=repo_id, filename=SUMMARY_FILE, repo_type="dataset"))
    except hub_failures():
        return None
