"""Base models and adapters: what to load for a name, which base an adapter was trained on.

A base model is a Hub id, a local folder, or the kit's offline tiny model (`tiny`, `tiny:<lang>`).
An adapter folder says its base in the metrics.json train_kto.py writes (else adapter_config.json).
Generation (a model set's `adapter:`), training from an earlier round's adapter, evaluation and the
demo Space all read it here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ktokit.console import KitError
from ktokit.generate.tiny import is_tiny, tiny_language


def resolve_base_model(name: str | None, language: str | None) -> str:
    """A loadable model path or Hub id; `tiny` / `tiny:<lang>` build the kit's offline tiny model."""
    if not name:
        raise KitError("no base model: give --model_name_or_path (a Hub id, a local folder, or tiny:<lang>)")
    if is_tiny(name):
        lang = tiny_language(name, language)
        if not lang:
            raise KitError("model_name_or_path 'tiny' needs a language: use tiny:<lang> or --language CODE")
        from ktokit.generate.tiny import tiny_model

        return str(tiny_model(lang, progress=False))
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(name)
    except (OSError, ValueError) as exc:
        where = "a local folder" if Path(name).exists() else "a local folder or a Hub model"
        offline = " (offline: HF_HUB_OFFLINE is set)" if os.environ.get("HF_HUB_OFFLINE") else ""
        raise KitError(
            f"unknown base model {name!r}: not {where} with a config.json{offline}; "
            f"check the name, or use tiny:<lang> for the offline tiny model"
        ) from exc
    return name


@dataclass
class AdapterInfo:
    """An adapter folder and its base: the name to show, a path or Hub id to load, whether a Space must
    ship the base (the tiny model is small enough and on no Hub), and the dataset it was trained on."""

    adapter: Path
    base_model: str
    base_path: str
    ship_base: bool
    dataset: str | None = None


def adapter_info(adapter: str | Path, base: str | None = None, language: str | None = None) -> AdapterInfo:
    """Read the base from the adapter's metrics.json (else adapter_config.json); `base` overrides it."""
    folder = Path(adapter)
    if not (folder / "adapter_config.json").is_file():
        raise KitError(
            f"{str(adapter)!r} is not a LoRA adapter folder (no adapter_config.json): give the "
            "output_dir train_kto.py wrote, e.g. outputs/<lang>/kto-model-cpu-smoke"
        )
    metrics = folder / "metrics.json"
    info = json.loads(metrics.read_text(encoding="utf-8")) if metrics.is_file() else {}
    config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    name = base or info.get("base_model") or config.get("base_model_name_or_path")
    if not name:
        raise KitError(f"{adapter}: no base model in metrics.json or adapter_config.json; pass --base")
    trained_on = None if base else info.get("base_model_path")  # where train_kto.py loaded it from
    if is_tiny(name):
        path = trained_on if trained_on and Path(trained_on).is_dir() else resolve_base_model(name, language)
        return AdapterInfo(folder, name, str(path), ship_base=True, dataset=info.get("dataset"))
    return AdapterInfo(folder, name, trained_on or name, ship_base=False, dataset=info.get("dataset"))


def same_base(a: str, b: str, language: str | None = None) -> bool:
    """Whether two base-model names load the same weights: `tiny` and `tiny:<lang>` for the same language,
    a folder under two spellings, or the same Hub id."""
    if is_tiny(a) or is_tiny(b):
        return is_tiny(a) and is_tiny(b) and tiny_language(a, language) == tiny_language(b, language)
    if Path(a).is_dir() and Path(b).is_dir():
        return Path(a).resolve() == Path(b).resolve()
    return a.rstrip("/") == b.rstrip("/")


def check_adapter_base(adapter: str | Path, base: str, language: str | None = None) -> AdapterInfo:
    """The adapter, refused in one line naming both models when it was trained on another base:
    PEFT would load it onto the wrong weights (or fail deep inside with a shape error)."""
    info = adapter_info(adapter, language=language)
    if not same_base(info.base_model, base, language) and not same_base(info.base_path, base, language):
        raise KitError(
            f"adapter {str(adapter)!r} was trained on {info.base_model!r}, not on {base!r}: "
            f"set the base to {info.base_model!r}, or give an adapter trained on {base!r}"
        )
    return info
