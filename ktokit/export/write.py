"""Writing an export: a `load_from_disk` folder with JSONL per split, the card and its chart; the Hub.

Byte-identical for the same annotations (rows in a fixed order, explicit features, a content
fingerprint, nothing time-dependent). A folder is replaced only when this module wrote it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from ktokit.console import KitError
from ktokit.export.summary import ExportSummary
from ktokit.paths import replace_folder, settled_folder, write_jsonl

MARKER = ".ktokit-export"  # marks a folder this module wrote, so it may replace it
SUMMARY_FILE = "export_summary.json"
CHART_FILE = "thumbs_up_by_model.png"
CARD_FILE = "README.md"


def to_dataset(rows: list[dict[str, Any]]):
    """A `datasets.Dataset` whose bytes depend on the rows only (explicit features, content fingerprint)."""
    from datasets import Dataset

    if not rows:
        raise KitError("internal: an empty split would be written")
    data = Dataset.from_list(rows)
    fingerprint = hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[
        :16
    ]
    return Dataset(data.data, info=data.info, fingerprint=fingerprint)


def save_splits(splits: dict[str, list[dict[str, Any]]], folder: Path) -> None:
    """`load_from_disk`-able DatasetDict plus one `<split>.jsonl` per split."""
    from datasets import DatasetDict

    folder.mkdir(parents=True, exist_ok=True)
    kept_splits = {name: rows for name, rows in splits.items() if rows}
    DatasetDict({name: to_dataset(rows) for name, rows in kept_splits.items()}).save_to_disk(str(folder))
    for name, rows in kept_splits.items():
        write_jsonl(folder / f"{name}.jsonl", rows)


def _replaceable(folder: Path) -> bool:
    return not folder.exists() or (
        folder.is_dir() and ((folder / MARKER).exists() or not any(folder.iterdir()))
    )


def write_export(
    folder: str | Path,
    kto: dict[str, list[dict[str, Any]]],
    summary: ExportSummary,
    dpo: dict[str, list[dict[str, Any]]] | None = None,
    raw: list[dict[str, Any]] | None = None,
) -> Path:
    """Write everything into a fresh copy of `folder`, then swap it in: a failed export leaves the old one.

    Only a folder this module wrote (or an empty one) is replaced; anything else is an error.
    """
    from ktokit.export.card import dataset_card, model_chart

    folder = settled_folder(folder)  # an export cut off mid-swap: the previous one back in place
    if not _replaceable(folder):
        raise KitError(f"{folder} exists and was not written by export_kto.py: choose another --output_dir")
    tmp = folder.with_name(folder.name + ".tmp-export")
    shutil.rmtree(tmp, ignore_errors=True)
    save_splits(kto, tmp)
    if dpo is not None and any(dpo.values()):
        save_splits(dpo, tmp / "dpo")
    if raw:
        save_splits({"train": raw}, tmp / "raw")
    (tmp / SUMMARY_FILE).write_text(summary.to_json(), encoding="utf-8")
    if summary.models:
        model_chart(summary.models, tmp / CHART_FILE)
    (tmp / CARD_FILE).write_text(dataset_card(summary), encoding="utf-8")
    (tmp / MARKER).write_text("written by export_kto.py; rerunning it replaces this folder\n")
    return replace_folder(tmp, folder)  # the old export stays whole until the new one is complete


def push_export(folder: str | Path, repo_id: str, *, private: bool, token: str | None = None) -> str:
    """Upload what `write_export` wrote: KTO as the default config, `dpo` and `raw` as configs, the card,
    the chart and export_summary.json. The card goes last so it keeps the config list the pushes wrote."""
    from datasets import load_from_disk

    from ktokit.hub import hub_error, hub_failures, push_dataset, require_hf_token

    folder = Path(folder)
    token = token or require_hf_token(f"--push_to_hub {repo_id}")
    try:
        for config in ("dpo", "raw"):
            if (folder / config).is_dir():
                load_from_disk(str(folder / config)).push_to_hub(
                    repo_id, config_name=config, private=private, token=token
                )
        from huggingface_hub import HfApi

        # the chart the card shows, and the figures train_kto.py reads (the rounds a model was trained on)
        for name in (CHART_FILE, SUMMARY_FILE):
            if (folder / name).exists():
                HfApi(token=token).upload_file(
                    path_or_fileobj=str(folder / name),
                    path_in_repo=name,
                    repo_id=repo_id,
                    repo_type="dataset",
                )
    except hub_failures() as exc:
        raise hub_error(f"pushing to {repo_id}", exc, token) from None
    card = (folder / CARD_FILE).read_text(encoding="utf-8")
    return push_dataset(load_from_disk(str(folder)), repo_id, card, private=private, token=token)
