"""Generation that survives a lost machine: with `--push_to_hub`, the finished rows go to the Hub dataset
as the run goes, and a run on another machine (an empty output dir) resumes from what the Hub holds.

What is pushed is the run's own checkpoint (`checkpoint.jsonl`, every finished row) and `run.json` (its
language and models), into `ktokit_checkpoint/` of the dataset repo, in one commit per push. Pushes
happen as batches finish (`AppendToCheckpoint`, so every runner pushes: in-process, distilabel's
processes, a Ray actor on the driver's node), every N batches or every few minutes, whichever comes
first; a failed push is said and retried at the next one, since the local checkpoint is intact. At the
end of the run the checkpoint is pushed once more beside the dataset itself.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ktokit import hub
from ktokit.console import KitError, say
from ktokit.generate import output
from ktokit.hub import hub_error, hub_failures

FOLDER = "ktokit_checkpoint"  # where in the dataset repo (the final push's data files are data/train-*)
DEFAULT_MINUTES = 5.0


@dataclass
class HubSync:
    """Where and how often the checkpoint is pushed while a run goes (a dict of it travels in the
    pipeline's checkpoint step, which distilabel serialises to its processes and Ray actors)."""

    repo_id: str
    private: bool = False
    every_batches: int = 0  # 0: by time only
    every_minutes: float = DEFAULT_MINUTES

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Pusher:
    """Counts finished batches and pushes the checkpoint when `every_batches` or `every_minutes` is up."""

    def __init__(self, sync: HubSync, output_dir: Path, clock=time.monotonic) -> None:
        self.sync, self.output_dir, self.clock = sync, output_dir, clock
        self.batches, self.last = 0, clock()
        self.pushes = 0

    def batch_done(self) -> bool:
        """Call after a batch is appended to the checkpoint; True when it pushed."""
        self.batches += 1
        by_count = self.sync.every_batches > 0 and self.batches >= self.sync.every_batches
        by_time = self.sync.every_minutes > 0 and self.clock() - self.last >= self.sync.every_minutes * 60
        if not (by_count or by_time):
            return False
        try:
            push_checkpoint(self.output_dir, self.sync.repo_id, private=self.sync.private)
        except KitError as exc:  # the local checkpoint is whole: the next push carries these rows too
            say(f"warning: {exc}; the run goes on and the next push tries again")
            return False
        self.batches, self.last = 0, self.clock()
        self.pushes += 1
        return True


def push_checkpoint(output_dir: Path, repo_id: str, *, private: bool = False) -> None:
    """The run's checkpoint and run.json to `ktokit_checkpoint/` of the dataset repo, in one commit."""
    api = hub.hf_api("--push_to_hub")  # looked up on each call: the tests put their stand-in there
    rows = len(output.read_checkpoint(output_dir))
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        api.upload_folder(
            folder_path=str(output_dir),
            path_in_repo=FOLDER,
            repo_id=repo_id,
            repo_type="dataset",
            allow_patterns=[output.CHECKPOINT, output.RUN_FILE],
            commit_message=f"ktokit: generation checkpoint, {rows} rows",
        )
    except hub_failures() as exc:
        raise hub_error(f"pushing the checkpoint to {repo_id}", exc) from None


def pull_checkpoint(output_dir: Path, repo_id: str, identity: dict[str, Any]) -> int:
    """Add to `output_dir`'s checkpoint the rows the Hub repo holds and it lacks; returns how many.

    Nothing pushed yet (no repo, or no checkpoint in it) is 0. A checkpoint of another run (another
    language or other models) is one KitError line, as a local output dir of another run is."""
    from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

    api = hub.hf_api("--push_to_hub")  # looked up on each call: the tests put their stand-in there
    with tempfile.TemporaryDirectory(prefix="ktokit-pull-") as tmp:
        try:
            paths = {
                name: Path(
                    api.hf_hub_download(
                        repo_id=repo_id, filename=f"{FOLDER}/{name}", repo_type="dataset", local_dir=tmp
                    )
                )
                for name in (output.RUN_FILE, output.CHECKPOINT)
            }
        except (RepositoryNotFoundError, EntryNotFoundError):
            return 0  # a first run: nothing pushed yet
        except hub_failures() as exc:
            raise hub_error(f"reading the checkpoint from {repo_id}", exc) from None
        pushed_identity = json.loads(paths[output.RUN_FILE].read_text(encoding="utf-8"))
        if pushed_identity != identity:
            raise KitError(
                f"{repo_id} holds generations of another run "
                f"({FOLDER}/{output.RUN_FILE}: {pushed_identity}); "
                "pass another --hub_model_id"
            )
        pushed = output.read_checkpoint(paths[output.CHECKPOINT].parent)
    output.claim_output_dir(output_dir, identity)
    have = output.read_checkpoint(output_dir)
    missing = [row for prompt, row in pushed.items() if prompt not in have]
    if missing:
        from ktokit.paths import write_jsonl

        write_jsonl(
            output_dir / output.CHECKPOINT,
            ({k: row[k] for k in output.COLUMNS} for row in missing),
            append=True,
        )
    return len(missing)
