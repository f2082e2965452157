"""What a generation run leaves behind, and what it tells the user.

An output directory holds the dataset (`datasets.load_from_disk(DIR)` works on it), a readable JSONL
copy, the dataset card, the checkpoint an interrupted run resumes from, and `run.json` (language and
models) so that a rerun cannot mix two model sets into one dataset.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ktokit.console import KitError
from ktokit.hub import card_header
from ktokit.packs.form import PASS
from ktokit.packs.language_id import answer_language
from ktokit.paths import save_dataset, write_json, write_jsonl, write_text

if TYPE_CHECKING:
    from datasets import Dataset

    from ktokit.generate.models import ModelSet
    from ktokit.packs.languages import LanguagePack

CHECKPOINT, JSONL, RUN_FILE, CARD = "checkpoint.jsonl", "generations.jsonl", "run.json", "README.md"
# Columns of a finished row, in the order the dataset shows them (the recipe's, then ours).
COLUMNS = [
    "input",
    "generation_model",
    "generation_prompt",
    "raw_generation_responses",
    "generations",
    "language",
    "detected_languages",
    "form_checks",
    "requests",
]


def read_checkpoint(output_dir: Path) -> dict[str, dict[str, Any]]:
    """Rows already done, by prompt; a line cut short by a killed run is ignored (its prompt is redone)."""
    path = output_dir / CHECKPOINT
    done: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "input" in row:
            done.setdefault(row["input"], with_detected_languages(row))
    return done


def with_detected_languages(row: dict[str, Any]) -> dict[str, Any]:
    """A row written before the language check existed gets its `detected_languages` now (same rule)."""
    if "detected_languages" not in row:
        row["detected_languages"] = [
            answer_language(text, row.get("language") or "") for text in row["generations"]
        ]
    return row


def run_identity(pack: LanguagePack, model_set: ModelSet) -> dict[str, Any]:
    return {"language": pack.code, "models": [m.name for m in model_set.models]}


def claim_output_dir(output_dir: Path, identity: dict[str, Any]) -> None:
    """Create the directory, or check that it holds a run of the same language and models."""
    path = output_dir / RUN_FILE
    if path.is_file():
        try:
            before = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            before = None
        if before != identity:
            raise KitError(
                f"{output_dir} holds generations of another run ({path.name}: {before}); "
                f"pass another --output or delete that directory{_round_two_hint(before, identity)}"
            )
        return
    if output_dir.exists() and any(output_dir.iterdir()):
        raise KitError(f"{output_dir} exists and is not a generations directory; pass another --output")
    output_dir.mkdir(parents=True, exist_ok=True)
    write_json(path, identity)


def _round_two_hint(before: Any, identity: dict[str, Any]) -> str:
    """What to do when a model set adds models to an earlier run's (round two: the tuned model beside
    the others): a folder holds one model set's rows, a row per prompt with every model's answer."""
    if not isinstance(before, dict) or before.get("language") != identity["language"]:
        return ""
    added = [m for m in identity["models"] if m not in (before.get("models") or [])]
    if not added or not set(before.get("models") or []) <= set(identity["models"]):
        return ""
    return (
        f" (for a new round with {', '.join(added)}, write it to its own --output; "
        "`create_task.py --round N` then adds only the answers the dataset does not have)"
    )


def ordered_rows(done: dict[str, dict[str, Any]], prompts: list[str]) -> list[dict[str, Any]]:
    """Rows in the pack's prompt order (so reruns and resumed runs give the same dataset)."""
    position = {p: i for i, p in enumerate(prompts)}
    return sorted(done.values(), key=lambda r: (position.get(r["input"], len(position)), r["input"]))


def save_local(rows: list[dict[str, Any]], output_dir: Path, card: str) -> Dataset:
    from datasets import Dataset

    dataset = Dataset.from_list([{k: row[k] for k in COLUMNS} for row in rows])
    save_dataset(dataset, output_dir)  # each file whole: a kill mid-save leaves the last run's
    write_jsonl(output_dir / JSONL, ({k: row[k] for k in COLUMNS} for row in rows))
    write_text(output_dir / CARD, card)
    return dataset


def model_stats(rows: list[dict[str, Any]], models: list[str]) -> dict[str, dict[str, Any]]:
    """Per model: requests, failures, retries, mean latency, duplicates, form-check pass rate, answers
    not in the pack's language."""
    stats: dict[str, dict[str, Any]] = {m: defaultdict(float) for m in models}
    errors: dict[str, dict[str, int]] = {m: defaultdict(int) for m in models}
    for row in rows:
        for req in row["requests"]:
            s = stats.setdefault(req["model"], defaultdict(float))
            s["requests"] += 1
            s["retries"] += req["retries"]
            s["latency"] += req["latency_s"]
            if not req["ok"]:
                s["failures"] += 1
                errors.setdefault(req["model"], defaultdict(int))[req["error"].split(":")[0]] += 1
                continue
            s["answers"] += 1
            s["passes"] += req["form_verdict"] == PASS
            s["duplicates"] += bool(req["duplicate_of"])
        for model, lang in zip(row["generation_model"], row.get("detected_languages") or []):
            stats.setdefault(model, defaultdict(float))["other_language"] += lang != row["language"]
    out = {}
    for model, s in stats.items():
        n, answers = int(s["requests"]), int(s["answers"])
        top_error = max(errors.get(model, {}).items(), key=lambda kv: kv[1], default=("", 0))[0]
        out[model] = {
            "requests": n,
            "failures": int(s["failures"]),
            "retries": int(s["retries"]),
            "mean_latency_s": s["latency"] / n if n else 0.0,
            "duplicates": int(s["duplicates"]),
            "form_pass_rate": s["passes"] / answers if answers else 0.0,
            "top_error": top_error,
            "other_language": int(s["other_language"]),
        }
    return out


def summary_table(stats: dict[str, dict[str, Any]]) -> str:
    """A plain-text table: readable in a terminal, a log, or a README."""
    header = [
        "model",
        "requests",
        "failures",
        "retries",
        "mean latency",
        "form pass",
        "duplicates",
        "other language",
    ]
    body = [
        [
            model,
            str(s["requests"]),
            str(s["failures"]),
            str(s["retries"]),
            f"{s['mean_latency_s']:.2f} s",
            f"{s['form_pass_rate']:.0%}",
            str(s["duplicates"]),
            str(s.get("other_language", 0)),
        ]
        for model, s in stats.items()
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    lines = [fmt(header), fmt(["-" * w for w in widths]), *map(fmt, body)]
    lines += [f"  {m}: most failures were '{s['top_error']}'" for m, s in stats.items() if s["failures"]]
    return "\n".join(lines)


def dataset_card(
    pack: LanguagePack, model_set: ModelSet, rows: list[dict[str, Any]], repo_id: str | None
) -> str:
    """The dataset card: what was generated, with which models and parameters, and how to use it next."""
    stats = model_stats(rows, [m.name for m in model_set.models])
    n_gen = sum(len(r["generations"]) for r in rows)
    passes = sum(c["verdict"] == PASS for r in rows for c in r["form_checks"])
    wrong = sum(lang != pack.code for r in rows for lang in r.get("detected_languages") or [])
    models = "\n".join(
        f"| `{m.model}`{f' + adapter `{Path(m.adapter).name}`' if m.adapter else ''} | {m.backend} "
        f"| {', '.join(f'{k}={v}' for k, v in sorted(m.generation.items())) or '-'} | "
        f"{stats.get(m.name, {}).get('failures', 0)} |"
        for m in model_set.models
    )
    load = (
        f'load_dataset("{repo_id}", split="train")'
        if repo_id
        else f'load_from_disk("outputs/{pack.code}/generations")'
    )
    header = card_header(
        language=[pack.code.split("-")[0]],
        tags=["kto", "preference", "synthetic", "ktokit"],
        task_categories=["text-generation"],
    )
    return f"""{header}

# {pack.name} {pack.task or "generations"}: candidate responses for KTO annotation

Responses from {len(model_set.models)} models to {len(rows)} prompts in {pack.name}
({pack.native_name or pack.code}), made with the ktokit script `preference_gen.py`
following the Data Is Better Together KTO recipe. Each response is to be rated 👍/👎 by people;
the ratings become a KTO dataset.

## Counts

- prompts: {len(rows)}
- kept generations: {n_gen} (failed requests and identical answers left out)
- form check ({pack.form.describe()}): {passes} of {n_gen} pass

## Models and parameters (model set `{model_set.name}`)

| model | backend | parameters | failed requests |
|---|---|---|---|
{models}

## Columns

- `input`: the prompt; `language`: `{pack.code}`; `detected_languages`: each generation's language,
  `{pack.code}` when it passes the kit's language check, else the language detected (or `unknown`):
  {wrong} of {n_gen} generations are not in {pack.name}
- `generation_model`, `generation_prompt`, `raw_generation_responses`, `generations`: one entry per kept
  response, aligned. `generations` is the cleaned text (no preamble, title or notes), the raw answer is
  in `raw_generation_responses`. `generation_prompt` is the prompt as the model saw it (the chat
  template for local models, the JSON message list for chat APIs, which apply their own template).
- `form_checks`: the kit's form check of each generation (verdict, score, per-line counts).
- `requests`: every request, including failed ones (error, retries, latency).

## Reuse

```python
from datasets import load_dataset, load_from_disk
ds = {load}
```

Next step: `python create_task.py --language {pack.code}` loads these generations into an Argilla
dataset for annotation.
"""
