"""A Space on the Hub: hardware and sleep checks, the plan's Space line, create or update, wait until it runs.

Everything that touches the Hub goes through an `HfApi`-like object passed in (the tests pass a
recording stand-in with the same method names). Secrets are set with `add_space_secret`, never as
variables, and their values are never shown: plans and progress name them only.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ktokit.console import KitError, say
from ktokit.hub import hub_error, hub_failures

Say = Callable[[str], None]

DEFAULT_HARDWARE = "cpu-basic"
ERROR_STAGES = {
    "BUILD_ERROR",
    "CONFIG_ERROR",
    "RUNTIME_ERROR",
    "NO_APP_FILE",
    "DELETING",
    "STOPPED",
    "PAUSED",
}
POLL_S = 10.0  # seconds between two looks at the Space's stage
# Right after an upload a Docker Space can still report NO_APP_FILE (the Hub has not seen the new
# Dockerfile yet): that stage only counts as an error once this many seconds have passed.
NO_APP_FILE_GRACE_S = 120.0


# ---- checks, before any work ----------------------------------------------------------------------


def check_hardware(hardware: str) -> str:
    """A Space hardware flavour huggingface_hub knows (cpu-basic, cpu-upgrade, t4-small, ...)."""
    from huggingface_hub import SpaceHardware

    known = [h.value for h in SpaceHardware]
    if hardware not in known:
        raise KitError(f"--hardware must be one of {', '.join(known)}, got {hardware!r}")
    return hardware


def check_sleep_time(sleep_time: int | None, hardware: str) -> int | None:
    """Seconds of inactivity before a Space sleeps (-1: never); the free cpu-basic sleeps after 48 h."""
    if sleep_time is None:
        return None
    if hardware == DEFAULT_HARDWARE:
        raise KitError(
            "--sleep-time needs paid hardware (--hardware cpu-upgrade, t4-small, ...): the free "
            "cpu-basic always sleeps after 48 h without visits"
        )
    if sleep_time != -1 and sleep_time < 60:
        raise KitError(
            f"--sleep-time is seconds of inactivity (at least 60), or -1 to never sleep; got {sleep_time}"
        )
    return sleep_time


def check_port(port: int | None) -> int | None:
    """The port `--serve` runs a Space's app on, here."""
    if port is not None and not 0 < port < 65536:
        raise KitError(f"--serve takes a port number (1-65535), got {port}")
    return port


# ---- names and the plan ----------------------------------------------------------------------------


def space_url(repo_id: str) -> str:
    """The Space's own domain, where its app answers: https://<owner>-<name>.hf.space."""
    slug = re.sub(r"[^a-z0-9-]", "-", repo_id.lower().replace("/", "-"))
    return f"https://{slug}.hf.space"


def page_url(repo_id: str) -> str:
    """The Space's page on the Hub."""
    return f"https://huggingface.co/spaces/{repo_id}"


def plan_line(label: str, text: str) -> str:
    """One line of a plan: the label in a column of its own."""
    return f"{label:<12} {text}"


def space_lines(
    repo_id: str, private: bool, hardware: str, sleep_time: int | None, sdk: str, *details: str
) -> list[str]:
    """The plan's Space line (page, visibility, hardware, sdk, `details`, sleep time); a Space that never
    sleeps gets a line of its own, as its hardware is billed for as long as it runs."""
    settings = ["private" if private else "public", hardware, f"sdk {sdk}", *details]
    if sleep_time is not None:
        settings.append(f"sleep time {sleep_time} s")
    lines = [plan_line("Space", f"{page_url(repo_id)} ({', '.join(settings)})")]
    if sleep_time == -1:
        lines.append(plan_line("sleep", "never sleeps: its hardware is billed for as long as it runs"))
    return lines


# ---- the Hub ----------------------------------------------------------------------------------------


def provision(
    api: Any,
    repo_id: str,
    folder: Path,
    patterns: list[str],
    *,
    sdk: str,
    commit_message: str,
    private: bool = False,
    hardware: str = DEFAULT_HARDWARE,
    sleep_time: int | None = None,
    secrets: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    bucket: str | None = None,
    keep_existing: bool = False,
    exists: bool | None = None,
    say: Say = say,
) -> bool:
    """Create the Space (or update an existing one), set its secrets and variables, mount its storage bucket,
    upload the files of `folder` that match `patterns`; True if the Space was created.

    Secrets come before the first upload, so the first build already has them. `keep_existing`: an
    existing Space is reused as it is, for a Space whose restart would lose data (the annotation Space
    without storage). `exists`: already asked, don't ask again.
    """
    secrets = secrets or {}
    try:
        if exists if exists is not None else api.repo_exists(repo_id, repo_type="space"):
            if keep_existing:
                say(f"Space {repo_id} exists: reusing it (files and secrets left as they are)")
                return False
            say(f"Space {repo_id} exists: updating its settings and files")
            api.request_space_hardware(repo_id, hardware)
            if sleep_time is not None:
                api.set_space_sleep_time(repo_id, sleep_time)
            created = False
        else:
            say(f"Creating the Space {repo_id} ...")
            api.create_repo(
                repo_id,
                repo_type="space",
                space_sdk=sdk,
                private=private,
                exist_ok=True,
                space_hardware=hardware,
                space_sleep_time=sleep_time,
            )
            created = True
        say(f"  hardware {hardware}" + (f", sleep time {sleep_time} s" if sleep_time is not None else ""))
        for name, value in secrets.items():
            api.add_space_secret(repo_id, name, value, description=(descriptions or {}).get(name))
            say(f"  secret {name} set")
        for name, value in (variables or {}).items():
            api.add_space_variable(repo_id, name, value)
        if variables:
            say(f"  variables {', '.join(variables)} set")
        if bucket:
            from huggingface_hub import Volume

            api.create_bucket(bucket, private=True, exist_ok=True)
            api.set_space_volumes(repo_id, [Volume(type="bucket", source=bucket, mount_path="/data")])
            say(f"  storage bucket {bucket} mounted at /data")
        api.upload_folder(
            repo_id=repo_id,
            repo_type="space",
            folder_path=str(folder),
            allow_patterns=patterns,
            commit_message=commit_message,
        )
        say("  uploaded " + ", ".join(patterns))
    except KitError:
        raise
    except hub_failures() as exc:
        raise hub_error(f"setting up the Space {repo_id}", exc, *secrets.values()) from None
    return created


def wait_until_running(
    api: Any,
    repo_id: str,
    timeout_s: float = 1200.0,
    poll_s: float | None = None,
    say: Say = say,
    no_app_file_grace_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Poll the Space's stage, saying each change with the time spent, until it runs; KitError otherwise.

    NO_APP_FILE counts as still starting for `no_app_file_grace_s` (default NO_APP_FILE_GRACE_S): a
    Space just uploaded can report it before the Hub sees its files. `clock`/`sleep`: for tests.
    """
    grace = NO_APP_FILE_GRACE_S if no_app_file_grace_s is None else no_app_file_grace_s
    started = clock()
    last = None
    while True:
        stage = str(getattr(api.get_space_runtime(repo_id), "stage", "") or "")
        stage = stage.split(".")[-1].upper()  # SpaceStage.RUNNING or "RUNNING"
        elapsed = clock() - started
        if stage != last:
            waiting = (
                f" (normal right after an upload; waiting up to {grace:.0f} s)"
                if stage == "NO_APP_FILE"
                else ""
            )
            say(f"  {elapsed:5.0f} s  {stage.lower().replace('_', ' ')}{waiting}")
            last = stage
        if stage == "RUNNING":
            return stage
        if stage == "NO_APP_FILE":
            if elapsed > grace:
                raise KitError(
                    f"the Space {repo_id} still has no app file after {elapsed:.0f} s (stage NO_APP_FILE): "
                    "check that its Dockerfile and README.md were uploaded at "
                    f"{page_url(repo_id)}/tree/main, then rerun"
                )
            sleep(POLL_S if poll_s is None else poll_s)
            continue
        if stage == "SLEEPING":
            raise KitError(
                f"the Space {repo_id} is sleeping: open {page_url(repo_id)} to wake "
                "it, then rerun (its data is gone unless it has storage)"
            )
        if stage in ERROR_STAGES:
            raise KitError(
                f"the Space {repo_id} stopped at {stage}: see the logs at {page_url(repo_id)}?logs=container"
            )
        if elapsed > timeout_s:
            raise KitError(
                f"the Space {repo_id} was not running after {timeout_s:.0f} s (stage {stage}); "
                "rerun the same command later: it reuses the Space"
            )
        sleep(POLL_S if poll_s is None else poll_s)
