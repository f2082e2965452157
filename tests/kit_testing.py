"""What the test modules share: constants, the ways to run the kit, generations, the Hub stand-in.

A plain module, imported by test files (`from kit_testing import ...`); fixtures live in conftest.py.
No test file imports another test file.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import httpx
import yaml

from ktokit.annotate.argilla_local.manager import free_port  # noqa: F401  (the tests' free port too)

ROOT = Path(__file__).resolve().parent.parent
OAUTH_CLIENT_ID = "dummy-client-id-for-tests"
SPACE_LANGUAGE = "ja"  # the pack whose Space files the session server reads (a non-Latin script)
# What libraries print on their own (warnings, log lines, bars of internal steps, log dicts): a normal run
# of a script shows none of it, only `--verbose` does (ktokit.quiet.quiet_libraries)
LIBRARY_NOISE = re.compile(
    r"Warning|WARNING|\[RANK \d\]|Loading weights|Writing model shards|Map[:(]|Filter:|Saving the dataset"
    r"|Tokenizing|\{'loss'|\[transformers\]|distilabel\.pipeline"
)


# ---- the kit as a user runs it ----------------------------------------------------------------------


def run_kit(
    *args: str, stdin: str = "", env: dict | None = None, cwd: Path = ROOT, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`python -m ktokit ARGS` as a user would run it, capturing what they would see."""
    return subprocess.run(
        [sys.executable, "-m", "ktokit", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def run_script(
    script: str, *args: str, env: dict | None = None, cwd: Path = ROOT, timeout: float = 600
) -> subprocess.CompletedProcess:
    """An entry script (`preference_gen.py`, `create_task.py`, ...) as a user would run it: the one way the
    tests reach the scripts (in-process tests call the library functions the scripts call)."""
    return subprocess.run(
        [sys.executable, str(ROOT / script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def script_command(script: str, *args: str) -> list[str]:
    """The command line of an entry script, for a test that must hold the process (to kill it)."""
    return [sys.executable, str(ROOT / script), *args]


# A child process that SIGKILLs itself right after the Nth call of one function (whose arguments' repr
# contains `match`), then runs a script or `python -m ktokit` as usual: a kill at a chosen point of real
# work, in a real process (nothing after the kill runs, no handler, no cleanup: what `kill -9` or a power
# cut leaves).
KILL_TRAP = """
import importlib, os, runpy, signal, sys
spec, nth, match, setup, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
module, _, path = spec.partition(":")
owner = importlib.import_module(module)
*parents, name = path.split(".")
for part in parents:
    owner = getattr(owner, part)
real, calls = getattr(owner, name), [0]
def trap(*args, **kwargs):
    result = real(*args, **kwargs)
    if match in repr((args, kwargs)):
        calls[0] += 1
        if calls[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
    return result
setattr(owner, name, trap)
exec(setup)
sys.argv = argv
if argv[0].endswith(".py"):
    runpy.run_path(argv[0], run_name="__main__")
else:
    from ktokit.cli import main
    sys.exit(main(argv))
"""


def run_killed(
    spec: str,
    nth: int,
    *command: str,
    match: str = "",
    setup: str = "",
    env: dict | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """`command` (an entry script, or the arguments of `python -m ktokit`) killed with SIGKILL right
    after the `nth` call of `spec` ("module:attr.attr") whose arguments mention `match`. The caller
    asserts `returncode == -9`: the kill happened there, not a normal exit before it."""
    argv = [str(ROOT / command[0]), *command[1:]] if command[0].endswith(".py") else list(command)
    return subprocess.run(
        [sys.executable, "-c", KILL_TRAP, spec, str(nth), match, setup, *argv],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout,
    )  # fmt: skip


def assert_one_error_line(proc: subprocess.CompletedProcess, needle: str) -> None:
    """A user error as every command reports it: exit status 2, one `error:` line, no traceback."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: ") and needle in proc.stderr, proc.stderr


def front_matter(readme: str) -> dict[str, Any]:
    """The YAML header of a Space README (what the Hub reads to build the Space)."""
    match = re.match(r"^---\n(.*?)\n---\n", readme, re.S)
    assert match, "the README has no YAML front matter between '---' lines"
    return yaml.safe_load(match.group(1)) or {}


# ---- data --------------------------------------------------------------------------------------------


def make_generations(path: Path, language: str, n_prompts: int, start: int = 0) -> Path:
    """A generations dataset in preference_gen.py's layout.

    Per prompt a good, a broken and a failed answer.
    """
    from datasets import Dataset

    from ktokit.packs.languages import load_pack
    from ktokit.paths import write_jsonl

    pack = load_pack(language)
    rows = []
    for i in range(start, start + n_prompts):
        good = pack.examples[i % len(pack.examples)]
        broken = "\n".join(good.splitlines()[:2])  # two lines: fails the form check
        rows.append(
            {
                "input": pack.prompts[i],
                "generation_model": ["tiny-a", "tiny-b", "tiny-c"],
                "generation_prompt": [pack.prompts[i]] * 3,
                "raw_generation_responses": [good, broken, None],
                "generations": [good, broken, None],
                "language": language,
            }
        )
    Dataset.from_list(rows).save_to_disk(str(path))
    write_jsonl(path / "generations.jsonl", rows)
    return path


def stand_in_adapter(folder: Path, base: str = "some-org/some-base") -> Path:
    """An adapter folder that names a Hub base and holds no weights: enough to render a demo Space."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base}))
    return folder


def train_adapter(
    out: Path,
    base: Path,
    pack: Any,
    answer: str,
    steps: int = 150,
    *,
    lr: float = 5e-3,
    targets: Any = ("q_proj", "k_proj", "v_proj", "o_proj"),
) -> Path:
    """A real LoRA adapter on the tiny model `base`, trained until it gives `answer` to the first 8 of the
    pack's prompts; saved as train_kto.py saves one (tokenizer and metrics.json with the base beside it)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ktokit.generate.tiny import collate, tokenize_chat

    torch.manual_seed(0)  # before LoRA's own init too: the adapter must not depend on which tests ran first
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(base),
        LoraConfig(
            r=16, lora_alpha=32, target_modules=targets if isinstance(targets, str) else list(targets)
        ),
    )
    chats = [
        tokenize_chat(tokenizer, [*pack.messages(p), {"role": "assistant", "content": answer}])
        for p in pack.prompts[:8]
    ]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(steps):  # the loss ends near 0, so greedy decoding gives `answer`
        ids, mask, labels = collate(chats, tokenizer.pad_token_id)
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "metrics.json").write_text(
        json.dumps({"base_model": "tiny", "base_model_path": str(base), "language": pack.code})
    )
    return out


def sign_in(api_url: str, username: str, password: str) -> httpx.Client:
    """A user as the annotation UI sees them: a bearer token from /api/v1/token."""
    token = httpx.post(f"{api_url}/api/v1/token", data={"username": username, "password": password})
    token.raise_for_status()
    return httpx.Client(
        base_url=api_url, headers={"Authorization": f"Bearer {token.json()['access_token']}"}, timeout=60
    )


PENDING_QUEUE = {
    "query": {},
    "filters": {
        "and": [
            {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]},
            {"type": "terms", "scope": {"entity": "record", "property": "status"}, "values": ["pending"]},
        ]
    },
}  # the annotation UI's query: my response is pending and the record is not completed


# ---- the Hub ------------------------------------------------------------------------------------------


class RecordingHfApi:
    """Records every call, bound against the real HfApi signature; answers like the Hub would.

    The only stand-in in the kit's tests: everything else runs for real. The kit gets its client from
    `ktokit.hub.hf_api`, which the `hub` fixture (conftest.py) points here.
    """

    METHODS = (
        "whoami",
        "repo_exists",
        "create_repo",
        "add_space_secret",
        "add_space_variable",
        "upload_folder",
        "get_space_runtime",
        "create_bucket",
        "set_space_volumes",
        "request_space_hardware",
        "hf_hub_download",
        "snapshot_download",
        "set_space_sleep_time",
    )

    def __init__(self, exists: bool = False, stages=("BUILDING", "APP_STARTING", "RUNNING")):
        self.calls: list[tuple[str, dict]] = []
        self.exists = exists
        self.stages = list(stages)
        self.uploaded: dict[str, str] = {}  # the last upload: top-level file name -> text
        self.repos: dict[str, dict[str, str]] = {}  # every upload: repo -> path in the repo -> text

    def __getattr__(self, name):
        from huggingface_hub import HfApi

        if name not in self.METHODS:
            raise AttributeError(f"RecordingHfApi has no {name!r}: add it to METHODS if the kit needs it")
        signature = inspect.signature(getattr(HfApi, name))

        def call(*args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)  # TypeError on a call HfApi would refuse
            arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
            self.calls.append((name, arguments))
            return self._answer(name, arguments)

        return call

    def _answer(self, name, arguments):
        if name == "whoami":
            return {"name": "organiser", "type": "user"}
        if name == "repo_exists":
            return self.exists
        if name == "create_repo":
            self.exists = True
            self.repos.setdefault(arguments["repo_id"], {})
            return f"https://huggingface.co/spaces/{arguments['repo_id']}"
        if name == "upload_folder":
            folder = Path(arguments["folder_path"])
            self.uploaded = {
                p.name: p.read_text() for p in folder.iterdir() if p.name in arguments["allow_patterns"]
            }
            # every file the patterns let through (matched on paths in the folder, as the Hub client does)
            prefix = (arguments.get("path_in_repo") or "").strip("/")
            files = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
            self.repos.setdefault(arguments["repo_id"], {}).update(
                {
                    f"{prefix}/{rel}".lstrip("/"): p.read_bytes().decode(errors="replace")
                    for rel, p in files.items()
                    if any(fnmatch(rel, pattern) for pattern in arguments["allow_patterns"] or ["*"])
                }
            )
            return None
        if name in ("hf_hub_download", "snapshot_download"):  # what was uploaded, as files on disk
            return self._download(name, arguments)
        if name == "get_space_runtime":
            stage = self.stages.pop(0) if len(self.stages) > 1 else self.stages[0]
            return type("SpaceRuntime", (), {"stage": stage})()
        return None

    def _download(self, name, arguments):
        from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

        files = self.repos.get(arguments["repo_id"])
        if files is None:
            url = f"https://huggingface.co/api/datasets/{arguments['repo_id']}"
            raise RepositoryNotFoundError(
                f"404: no repo {arguments['repo_id']}",
                response=httpx.Response(404, request=httpx.Request("GET", url)),
            )
        root = Path(arguments.get("local_dir") or tempfile.mkdtemp(prefix="hub-"))
        if name == "hf_hub_download":
            if arguments["filename"] not in files:
                raise EntryNotFoundError(f"404: no {arguments['filename']} in {arguments['repo_id']}")
            wanted = [arguments["filename"]]
        else:
            patterns = arguments.get("allow_patterns") or ["*"]
            wanted = [path for path in files if any(fnmatch(path, pat) for pat in patterns)]
        for path in wanted:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(files[path])
        return str(root / wanted[0]) if name == "hf_hub_download" else str(root)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class FakeClock:
    """Time that moves only when the code under test sleeps: a wait loop runs instantly."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def task_with_examples(
    client: Any, pack: Any, indices: Any, models: Any, min_submitted: int, dataset: str, workspace: str
) -> tuple[Any, dict[str, str]]:
    """A task as create_task.py makes it, one record per pack example `indices` (by `models(i)`), and the
    record id of each completion: what annotators answer in the campaign tests."""
    from ktokit.annotate.task import build_records, ensure_dataset, log_new_records, task_template

    rows = [
        {"input": pack.prompts[i], "generation_model": [models(i)], "generations": [pack.examples[i]]}
        for i in indices
    ]
    ds, _ = ensure_dataset(client, task_template(pack, min_submitted, dataset, workspace))
    log_new_records(ds, build_records(rows, pack))
    return ds, {r.fields["completion"]: str(r._server_id) for r in ds.records}
