"""Model sets: which models answer the prompts, where they run, and how hard to push them.

A model set is a YAML file (see `model_sets/`). Top-level keys are defaults for every model; each
entry of `models:` may override them. Three backends cover the places a community runs models:

- `inference-providers`: HF Inference Providers through the OpenAI-compatible router (HF token).
- `openai`: any OpenAI-compatible `base_url` (vLLM, TGI, llama.cpp server, Ollama).
- `transformers`: a local model loaded with transformers; `model: tiny` builds the kit's tiny model.

An entry of a local (`transformers`) model may name a LoRA adapter train_kto.py wrote (`adapter:
outputs/<lang>/kto-...`, a path from where the command runs): the model then answers as the tuned model,
beside the others, for a second round. An HTTP server must serve an adapter itself (vLLM's
`--lora-modules`): its entry names the served model, never an `adapter:`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, StringConstraints

from ktokit.console import KitError
from ktokit.generate.tiny import is_tiny
from ktokit.packs.schema import Strict, validate
from ktokit.paths import CHECKOUT

HF_ROUTER_URL = "https://router.huggingface.co/v1"
BACKENDS = ("inference-providers", "openai", "transformers")
MODEL_SETS_DIR = CHECKOUT / "model_sets"
DEFAULT_SET, OFFLINE_SET = "default", "offline"

# Generation parameters each backend understands (names follow transformers; mapped for HTTP).
GENERATION_KEYS = {
    "inference-providers": {"max_new_tokens", "temperature", "top_p", "seed"},
    "openai": {"max_new_tokens", "temperature", "top_p", "seed"},
    "transformers": {"max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "do_sample"},
}


class ModelSettings(Strict):
    """What a model set gives every model, and each entry of `models:` may override."""

    backend: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    concurrency: int | None = Field(None, ge=1)
    batch_size: int | None = Field(None, ge=1)
    timeout: float | None = Field(None, gt=0)
    max_retries: int | None = Field(None, ge=0)
    generation: dict[str, Any] | None = None
    tiny_recipe: dict[str, Any] | None = None
    # what the model's step gets from distilabel's runners (`--runner ray`: a Ray actor per replica)
    replicas: int | None = Field(None, ge=1)
    cpus: int | None = Field(None, ge=1)
    gpus: int | None = Field(None, ge=1)


class ModelEntry(ModelSettings):
    model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    name: str | None = None
    seed: int | None = None
    adapter: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None


class ModelSetFile(ModelSettings):
    models: list[Any] = Field(min_length=1)  # each a model id or a ModelEntry, checked one by one
    runner: str | None = None  # preference_gen.py's --runner when the command line gives none


SET_HINTS = {"models": "write a non-empty 'models:' list of model ids, or of mappings with 'model:'"}
ENTRY_HINTS = {
    "model": "a model id, a path, or 'tiny'",
    "adapter": "the folder train_kto.py wrote, e.g. outputs/<lang>/kto-model-cpu-smoke",
}


@dataclass
class ModelSpec:
    """One model of a set, with every default resolved."""

    model: str
    backend: str
    name: str
    base_url: str | None = None
    api_key_env: str | None = None
    concurrency: int = 8
    batch_size: int = 32
    timeout: float = 60.0
    max_retries: int = 4
    generation: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    tiny_recipe: dict[str, Any] = field(default_factory=dict)
    replicas: int = 1
    cpus: int | None = None
    gpus: int | None = None
    adapter: str | None = None  # a LoRA adapter folder on `model` (absolute): the tuned model
    adapter_base: str | None = None  # where the base weights it was trained on load from

    @property
    def resources(self) -> dict[str, int]:
        """What distilabel's `StepResources` gets for this model's step (only what the set gives)."""
        given = {"replicas": self.replicas, "cpus": self.cpus, "gpus": self.gpus}
        return {k: v for k, v in given.items() if v is not None}

    def describe(self) -> str:
        where = {
            "inference-providers": "HF Inference Providers",
            "openai": f"OpenAI-compatible server {self.base_url}",
            "transformers": "local transformers"
            + (f" (tiny model, seed {self.seed})" if is_tiny(self.model) and not self.adapter else "")
            + (f" (adapter {_shown(self.adapter)} on {self.model})" if self.adapter else ""),
        }[self.backend]
        limit = (
            f"{self.concurrency} in flight"
            if self.backend != "transformers"
            else f"batches of {self.batch_size}"
        )
        params = ", ".join(f"{k}={v}" for k, v in sorted(self.generation.items()))
        resources = ", ".join(f"{k} {v}" for k, v in self.resources.items() if (k, v) != ("replicas", 1))
        return f"{self.name}: {where}, {limit}; {params or 'default parameters'}" + (
            f"; {resources}" if resources else ""
        )


def _shown(path: str) -> str:
    """A path as the user would write it: relative to where the command runs when it is under it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


@dataclass
class ModelSet:
    name: str
    path: Path
    models: list[ModelSpec]
    runner: str | None = None

    @property
    def needs_hf_token(self) -> bool:
        return any(m.backend == "inference-providers" for m in self.models)

    @property
    def batch_size(self) -> int:
        """One batch size for the whole run, so every model's batch k holds the same prompts."""
        return min(m.batch_size for m in self.models)


def model_set_path(name_or_path: str | Path) -> Path:
    """`offline` means `model_sets/offline.yaml`; anything else is a path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml") and (MODEL_SETS_DIR / f"{path}.yaml").is_file():
        return MODEL_SETS_DIR / f"{path}.yaml"
    return path


def _spec(entry: ModelEntry, defaults: ModelSettings, where: str, language: str | None = None) -> ModelSpec:
    """One model with the set's defaults under it; what depends on the backend is checked here, and an
    adapter against its base (`language` says which pack a `tiny` base is built from)."""
    merged = {
        **defaults.model_dump(exclude_unset=True, exclude={"models"}),
        **entry.model_dump(exclude_unset=True),
    }
    merged["generation"] = {**(defaults.generation or {}), **(entry.generation or {})}
    model = entry.model
    backend = merged.get("backend") or ("transformers" if is_tiny(model) else None)
    if backend not in BACKENDS:
        raise KitError(
            f"{where}: model {model!r} needs 'backend', one of {', '.join(BACKENDS)} (got {backend!r})"
        )
    base_url = merged.get("base_url")
    if backend == "inference-providers":
        base_url = base_url or HF_ROUTER_URL
    elif backend == "openai" and not base_url:
        raise KitError(
            f"{where}: model {model!r} uses backend 'openai' and needs 'base_url' "
            "(e.g. http://localhost:8000/v1)"
        )
    generation = merged["generation"]
    bad = set(generation) - GENERATION_KEYS[backend]
    if bad:
        raise KitError(
            f"{where}: generation parameter(s) {', '.join(sorted(bad))} not supported by backend "
            f"{backend!r} (use {', '.join(sorted(GENERATION_KEYS[backend]))})"
        )
    adapter, adapter_base = _adapter(entry, backend, where, language)
    spec = ModelSpec(
        model=model,
        backend=backend,
        name=merged.get("name") or (f"{model}+{Path(adapter).name}" if adapter else model),
        adapter=adapter,
        adapter_base=adapter_base,
        base_url=str(base_url).rstrip("/") if base_url else None,
        api_key_env=merged.get("api_key_env"),
        generation=dict(generation),
        tiny_recipe=dict(merged.get("tiny_recipe") or {}),
    )
    for key in ("concurrency", "batch_size", "max_retries", "seed", "timeout", "replicas", "cpus", "gpus"):
        if merged.get(key) is not None:
            setattr(spec, key, merged[key])
    return spec


def _adapter(
    entry: ModelEntry, backend: str, where: str, language: str | None
) -> tuple[str | None, str | None]:
    """The entry's adapter (absolute) and the base weights to put it on, or (None, None); refused in one
    line on an HTTP backend (the server must serve it) or when it was trained on another base."""
    if not entry.adapter:
        return None, None
    if backend != "transformers":
        raise KitError(
            f"{where}: model {entry.model!r} has an 'adapter' but backend {backend!r} loads nothing locally: "
            "serve the adapter on the server (e.g. vLLM --lora-modules NAME=PATH) and give its name as "
            "'model:', or use backend 'transformers'"
        )
    from ktokit.generate.adapters import check_adapter_base

    try:
        info = check_adapter_base(entry.adapter, entry.model, language)
    except KitError as exc:
        raise KitError(f"{where}: {exc}") from None
    # a tiny base: the very weights the adapter was trained on (train_kto.py records where they are)
    base = info.base_path if is_tiny(entry.model) else entry.model
    return str(info.adapter.resolve()), base


def load_model_set(name_or_path: str | Path, language: str | None = None) -> ModelSet:
    """Read and check a model set; every problem is one KitError line naming the file. `language` (the
    pack the set answers) is what a `tiny` base with an adapter is checked against."""
    path = model_set_path(name_or_path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        shipped = ", ".join(sorted(p.stem for p in MODEL_SETS_DIR.glob("*.yaml")))
        raise KitError(
            f"cannot read model set {where}: {exc.strerror or exc} (shipped sets: {shipped})"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise KitError(f"{where}: not valid YAML{at}") from None
    defaults = validate(ModelSetFile, data, where, hints=SET_HINTS)
    specs = []
    for i, entry in enumerate(defaults.models, 1):
        at = f"{where} (model #{i})"
        checked = validate(
            ModelEntry, {"model": entry} if isinstance(entry, str) else entry, at, hints=ENTRY_HINTS
        )
        specs.append(_spec(checked, defaults, at, language))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise KitError(f"{where}: two models share a name; give each a distinct 'name'")
    return ModelSet(name=path.stem, path=path, models=specs, runner=defaults.runner)


def api_key_for(spec: ModelSpec, hf_token: str | None) -> str | None:
    """The key sent to the model's server: the HF token for the router, else `$api_key_env`."""
    if spec.backend == "inference-providers":
        return hf_token
    if spec.api_key_env:
        key = os.environ.get(spec.api_key_env)
        if not key:
            raise KitError(
                f"model {spec.name!r} reads its API key from ${spec.api_key_env}, which is not set"
            )
        return key
    return None
