"""The distilabel pipeline: prompts → one answer per model → grouped per prompt → cleaned and checked → saved.

```
load_prompts >> [answer_with_<model>, ...] >> group_answers >> clean_and_check_form >> append_to_checkpoint
```

Two ways to run the same steps:
- `run_in_process` (default): in this process, every model's requests on one event loop, each model within
  its own concurrency limit (local models in a thread each). Generation is I/O-bound; distilabel's
  multi-process runner costs seconds of start-up and polling that would dominate a run against a fast
  server (see benchmarks/generation.py).
- `run_with_distilabel`: `pipeline.run()`, distilabel's own runner (one process per step).
- `run_with_ray`: `pipeline.ray().run()`, distilabel's Ray pipeline: the same steps as Ray actors, on a
  local Ray or a cluster of many machines, each model's step with its own replicas and resources.
Either way each finished batch is appended to the checkpoint, which is what resume reads.
"""

import asyncio
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distilabel.models.llms.base import AsyncLLM
from distilabel.pipeline import Pipeline
from distilabel.steps import GroupColumns, LoadDataFromDicts, Step, StepInput
from distilabel.steps.tasks import Task
from pydantic import Field, PrivateAttr

from ktokit.console import KitError, first_line
from ktokit.generate.backends import OpenAICompatibleLLM
from ktokit.generate.output import COLUMNS
from ktokit.packs.counting import get_counter
from ktokit.packs.form import check_form
from ktokit.packs.language_id import answer_language
from ktokit.packs.languages import FormRule
from ktokit.paths import CHECKOUT, write_jsonl


class AnswerPrompt(Task):
    """One model answers each prompt; a failed request becomes a recorded failure, not an exception."""

    @property
    def inputs(self) -> list[str]:
        return ["messages"]

    @property
    def outputs(self) -> list[str]:
        return ["generation", "model_name", "request"]

    def format_input(self, input: dict[str, Any]) -> list[dict[str, str]]:
        return input["messages"]

    def format_output(self, output: str | None, input: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"generation": output}

    def process(self, inputs: StepInput) -> Any:  # type: ignore[override]
        try:
            outputs = self.llm.generate_outputs(
                inputs=[self.format_input(row) for row in inputs],
                num_generations=1,
                **self.llm.get_generation_kwargs(),
            )
        except Exception as exc:  # noqa: BLE001 - the backends catch their own errors; the last net
            outputs = [exc] * len(inputs)
        yield self.rows(inputs, outputs)

    async def aprocess(self, inputs: StepInput) -> list[dict[str, Any]]:
        """`process` for an async LLM on an event loop shared with the other models (see `run_in_process`)."""
        kwargs = self.llm.get_generation_kwargs()
        outputs = await asyncio.gather(
            *(self.llm.agenerate(input=self.format_input(row), **kwargs) for row in inputs),
            return_exceptions=True,
        )
        return self.rows(inputs, outputs)

    def rows(self, inputs: StepInput, outputs: list[dict[str, Any] | BaseException]) -> list[dict[str, Any]]:
        rows = []
        for row, out in zip(inputs, outputs):
            if isinstance(out, BaseException):
                out = {
                    "generations": [None],
                    "request": [
                        {
                            "prompt": "",
                            "latency_s": 0.0,
                            "retries": 0,
                            "error": f"{type(out).__name__}: {out}"[:300],
                        }
                    ],
                }
            rows.append(
                {
                    **row,
                    "generation": out["generations"][0],
                    "model_name": self.llm.model_name,
                    "request": (out.get("request") or [{}])[0],
                }
            )
        return rows


def _same_text_key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


class CleanAndCheckForm(Step):
    """Turns the grouped answers of a prompt into a dataset row.

    Failed requests and answers with nothing left after cleaning are recorded in `requests` and left
    out of the generation columns; identical (cleaned) answers from several models are kept once.
    `detected_languages` holds each kept answer's language (the pack's code when it passes the
    language check), so that create_task.py and export_kto.py can single out wrong-language answers.
    """

    language: str
    form_lines: int | None = None
    form_pattern: list[int] | None = None
    form_counter: str | None = None

    @property
    def inputs(self) -> list[str]:
        return ["input", "raw_generation_responses", "generation_model", "requests"]

    @property
    def outputs(self) -> list[str]:
        return COLUMNS

    def load(self) -> None:
        """Load the pack's counter now (the English dictionary takes seconds), not mid-run."""
        super().load()
        if self.form_counter:
            get_counter(self.form_counter)

    def process(self, inputs: StepInput) -> Any:  # type: ignore[override]
        rule = FormRule(lines=self.form_lines, pattern=self.form_pattern, counter=self.form_counter)
        yield [self.row(item, rule) for item in inputs]

    def row(self, item: dict[str, Any], rule: FormRule) -> dict[str, Any]:
        row = {key: [] for key in COLUMNS}
        row.update(input=item["input"], language=self.language)
        seen: dict[str, str] = {}
        for raw, model, request in zip(
            item["raw_generation_responses"], item["generation_model"], item["requests"]
        ):
            record = {
                "model": model,
                "ok": False,
                "retries": int(request.get("retries", 0)),
                "latency_s": float(request.get("latency_s", 0.0)),
                "error": request.get("error") or "",
                "duplicate_of": "",
                "form_verdict": "",
            }
            row["requests"].append(record)
            if raw is None or not raw.strip():
                record["error"] = record["error"] or "empty answer"
                continue
            check = check_form(raw, rule)
            if not check.cleaned.strip():
                record["error"] = "nothing left after cleaning"
                continue
            record["ok"], record["form_verdict"] = True, check.verdict
            key = _same_text_key(check.cleaned)
            if key in seen:
                record["duplicate_of"] = seen[key]
                continue
            seen[key] = model
            summary = check.to_dict()
            for dropped in ("raw", "cleaned"):  # already in raw_generation_responses / generations
                summary.pop(dropped)
            row["generation_model"].append(model)
            row["generation_prompt"].append(request.get("prompt") or "")
            row["raw_generation_responses"].append(raw)
            row["generations"].append(check.cleaned)
            row["detected_languages"].append(answer_language(check.cleaned, self.language))
            row["form_checks"].append(summary)
        return row


class AppendToCheckpoint(Step):
    """Appends finished rows to a JSONL file as each batch completes: what an interrupted run resumes from."""

    path: str = Field(description="checkpoint file (JSON lines)")
    hub: dict[str, Any] | None = Field(
        default=None, description="with --push_to_hub: a HubSync's fields, to push the checkpoint as it grows"
    )
    _pusher: Any = PrivateAttr(default=None)

    @property
    def inputs(self) -> list[str]:
        return ["input"]

    @property
    def outputs(self) -> list[str]:
        return []

    def process(self, inputs: StepInput) -> Any:  # type: ignore[override]
        write_jsonl(Path(self.path), ({k: row[k] for k in COLUMNS} for row in inputs), append=True)
        if self.hub:
            if self._pusher is None:  # made here, in whichever process or actor runs the step
                from ktokit.generate.hub_sync import HubSync, Pusher

                self._pusher = Pusher(HubSync(**self.hub), Path(self.path).parent)
            self._pusher.batch_done()
        yield inputs


@dataclass
class GenerationPipeline:
    pipeline: Pipeline
    load: LoadDataFromDicts
    answer: list[AnswerPrompt]
    group: GroupColumns
    check: CleanAndCheckForm
    save: AppendToCheckpoint


def step_name(model_name: str) -> str:
    return "answer_with_" + re.sub(r"[^a-zA-Z0-9]+", "_", model_name).strip("_").lower()


def build_pipeline(
    rows: list[dict[str, Any]],
    llms: list[Any],
    *,
    language: str,
    form: FormRule,
    checkpoint: Path,
    batch_size: int,
    cache_dir: Path | None = None,
    resources: list[dict[str, int]] | None = None,
    hub: dict[str, Any] | None = None,
) -> GenerationPipeline:
    """Wire the steps; `rows` carry `input` (the prompt) and `messages` (what the models are sent).

    `resources`, one per model (`replicas`, `cpus`, `gpus`), are what distilabel's runners give each
    model's step (the in-process runner has no use for them). `hub` (a `HubSync` as a dict) pushes the
    checkpoint to the Hub as batches finish."""
    from distilabel.steps import StepResources

    resources = resources or [{} for _ in llms]
    with Pipeline(
        name=f"ktokit-generations-{language}",
        cache_dir=cache_dir,
        description="prompts x models -> cleaned, form-checked generations",
    ) as pipeline:
        load = LoadDataFromDicts(name="load_prompts", data=rows, batch_size=batch_size)
        answer = [
            AnswerPrompt(
                name=step_name(llm.model_name),
                llm=llm,
                input_batch_size=batch_size,
                resources=StepResources(**wanted),
            )
            for llm, wanted in zip(llms, resources, strict=True)
        ]
        group = GroupColumns(
            name="group_answers",
            columns=["generation", "model_name", "request"],
            output_columns=["raw_generation_responses", "generation_model", "requests"],
            input_batch_size=batch_size,
        )
        check = CleanAndCheckForm(
            name="clean_and_check_form",
            language=language,
            form_lines=form.lines,
            form_pattern=form.pattern,
            form_counter=form.counter,
            input_batch_size=batch_size,
        )
        save = AppendToCheckpoint(
            name="append_to_checkpoint",
            path=str(checkpoint.resolve()),
            input_batch_size=batch_size,
            hub=hub,
        )
        load >> answer >> group >> check >> save
    return GenerationPipeline(pipeline, load, answer, group, check, save)


def _first(outputs: Any) -> list[dict[str, Any]]:
    return next(iter(outputs))


def run_in_process(gp: GenerationPipeline) -> None:
    """Run the steps in this process, every model at once on one event loop.

    HTTP models send their requests as tasks bounded by their own concurrency limit, so a model's
    next batch starts filling free slots while its current one finishes; a local model works through
    its batches in a thread of its own. Batch k is grouped, checked and saved as soon as every model
    has answered it.
    """
    steps = [*gp.answer, gp.group, gp.check, gp.save]
    for step in steps:
        step.load()
    try:
        asyncio.run(_run_batches(gp))
    finally:
        for step in steps:
            step.unload()


async def _run_batches(gp: GenerationPipeline) -> None:
    batches = [batch for batch, _ in gp.load.process_applying_mappings()]
    loop = asyncio.get_running_loop()
    threads: list[ThreadPoolExecutor] = []

    def answer_all(step: AnswerPrompt) -> list[asyncio.Future]:
        if isinstance(step.llm, AsyncLLM):
            return [asyncio.ensure_future(step.aprocess([dict(r) for r in batch])) for batch in batches]
        threads.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix=step.name))
        return [
            loop.run_in_executor(threads[-1], lambda b=batch: _first(step.process([dict(r) for r in b])))
            for batch in batches
        ]

    pending = [answer_all(step) for step in gp.answer]
    try:

        def finish(answers: list[list[dict[str, Any]]]) -> None:
            grouped = _first(gp.group.process_applying_mappings(*answers))
            checked = _first(gp.check.process_applying_mappings(grouped))
            _first(gp.save.process_applying_mappings(checked))

        for k in range(len(batches)):
            answers = [await futures[k] for futures in pending]
            await asyncio.to_thread(finish, answers)  # off the loop: requests in flight keep flowing
    finally:
        for future in (f for futures in pending for f in futures):
            future.cancel()
        for pool in threads:
            pool.shutdown(wait=True, cancel_futures=True)
        for step in gp.answer:
            if isinstance(step.llm, OpenAICompatibleLLM):
                await step.llm.aclose()


def run_with_distilabel(gp: GenerationPipeline) -> None:
    """distilabel's own runner (a process per step)."""
    gp.pipeline.run(use_cache=False)


RAY_HINT = "pip install -e .[ray]"
RAY_TOKEN = Path.home() / ".ray" / "auth_token"  # Ray's default token file


def require_ray() -> None:
    """Ray is an optional extra: one line saying how to add it, before anything is generated."""
    import importlib.util

    # found, not imported: Ray reads its auth mode when it loads (see join_with_token)
    if importlib.util.find_spec("ray") is None:
        raise KitError(f"--runner ray needs Ray, an optional extra of the kit: {RAY_HINT}")


def join_with_token(address: str) -> None:
    """Send the cluster's token when there is one, as `ray start` does.

    Ray 2.60 trap: `ray start --head` turns token authentication on when a token exists
    (`~/.ray/auth_token`, which any local `ray.init()` writes, or $RAY_AUTH_TOKEN / $RAY_AUTH_TOKEN_PATH),
    but a driver joining it with an address does not, and the cluster then refuses it (`InvalidAuthToken`,
    retried for a minute). With $RAY_AUTH_MODE set, Ray's choice stands. Call it before `import ray`:
    Ray reads the mode when its core library loads (set after, it is silently ignored).
    """
    if os.environ.get("RAY_AUTH_MODE"):
        return
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH") or RAY_TOKEN.is_file():
        os.environ["RAY_AUTH_MODE"] = "token"


def run_with_ray(gp: GenerationPipeline, address: str | None = None) -> None:
    """distilabel's Ray pipeline (`pipeline.ray()`): each step replica a Ray actor, each model's step with
    the replicas and resources of its model set entry.

    Without `address` a local Ray starts for the run and stops after it; with one (`HOST:PORT`, `auto`,
    `ray://HOST:PORT`) the run joins that cluster. distilabel 1.5.3's RayPipeline passes its own
    `runtime_env` when given the address, so the kit connects first and distilabel finds Ray initialised.
    The checkpoint step is pinned to this machine's node (Ray's `node:<ip>` resource): the checkpoint,
    which resume reads, is written where the command runs, with no filesystem shared between nodes. The
    workers import the kit from this checkout when it is on their machine, else from their own install.
    """
    if address:
        join_with_token(address)  # before Ray is imported: Ray reads its auth mode once, at import
    import ray

    from ktokit.quiet import QUIET_ENV, VERBOSE_ENV, is_verbose

    verbose = is_verbose()
    env = {key: os.environ[key] for key in (*QUIET_ENV, VERBOSE_ENV) if key in os.environ}  # quiet actors too
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(CHECKOUT), os.environ.get("PYTHONPATH"))))
    init: dict[str, Any] = {
        "address": address or "local",  # "local": a new Ray for this run, even if another runs here
        "runtime_env": {"env_vars": env},
        "log_to_driver": verbose,  # the actors' logs: the libraries' output (see ktokit.quiet)
        "logging_level": "INFO" if verbose else "ERROR",
    }
    if not address:
        init["include_dashboard"] = False
    started = not ray.is_initialized()
    try:
        if started:
            try:
                ray.init(**init)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = f"the Ray cluster at {address}" if address else "a local Ray"
                raise KitError(f"cannot start or join {where}: {first_line(exc)}") from None
        gp.save.resources.resources = {f"node:{ray.util.get_node_ip_address()}": 1}
        gp.pipeline.ray().run(use_cache=False)
    finally:
        if started:
            ray.shutdown()
