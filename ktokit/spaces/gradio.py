"""A rendered Gradio Space (the demo, the dashboard): its plan, then served here as on the Hub, or pushed.

A Gradio Space holds no data, so a push updates an existing one in place, hardware included (a
requirements.txt may have been rendered for that hardware). Each Space says what is its own: the
secrets it needs (made only when it is served or pushed: a plan names them), its plan lines, the
files it uploads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ktokit.console import say
from ktokit.spaces.options import SpaceOptions
from ktokit.spaces.provision import DEFAULT_HARDWARE, page_url, plan_line, provision, space_lines
from ktokit.spaces.render import describe_files

GRADIO_VERSION = "6.31.0"
# Gradio Spaces default to Python 3.10, and the pinned transformers needs >= 3.11 (a 3.10 Space stops at
# BUILD_ERROR); tests/test_space_boot.py checks it against every pin's Requires-Python.
PYTHON_VERSION = "3.11"
SECRET_NAME = "ARGILLA_API_KEY"  # the Space's own narrow Argilla user (never the owner's key)
RENDERED_ONLY = "rendered only: serve it with --serve PORT, or push it with --space ORG/NAME"


@dataclass(kw_only=True)
class GradioSpace:
    """A rendered Space folder, its settings (`variables`) and where it goes (`repo_id`, None: nowhere)."""

    out: Path
    files: list[Path]
    variables: dict[str, str]
    repo_id: str | None = None
    private: bool = False
    hardware: str = DEFAULT_HARDWARE
    sleep_time: int | None = None

    label: ClassVar[str] = "Space"  # the result line's label
    commit_message: ClassVar[str] = "Space (ktokit)"
    # A render that is neither served nor pushed makes the secrets too (their user, stored 0600), so the
    # app can be run by hand with them; False: such a render touches no server.
    secrets_when_rendered: ClassVar[bool] = False

    def details(self) -> list[str]:
        """What the Space line says after the sdk."""
        return [f"python {PYTHON_VERSION}"]

    def own_lines(self) -> list[str]:
        """The plan lines of this Space's own: its secrets (names only), where its data goes."""
        return []

    def secrets(self) -> dict[str, str]:
        """The Space's secrets, made (once) when it is served or pushed: never shown."""
        return {}

    def descriptions(self) -> dict[str, str]:
        """What each secret is, as the Space's settings page shows it."""
        return {}

    def patterns(self) -> list[str]:
        """The files of `out` to upload."""
        return [p.name for p in self.files if p.parent == self.out]

    def notes(self) -> list[str]:
        """What the organiser must do by hand before the Space fully works, said before a push."""
        return []

    def plan(self) -> list[str]:
        """What will happen, printable as is: secret names only, never their values."""
        head = []
        if self.repo_id:
            sdk = f"gradio {GRADIO_VERSION}"
            head = space_lines(
                self.repo_id, self.private, self.hardware, self.sleep_time, sdk, *self.details()
            )
        return [
            *head,
            plan_line("rendered", f"{self.out}/"),
            plan_line("files", describe_files(self.out, self.files)),
            plan_line("variables", ", ".join(f"{k}={v}" for k, v in self.variables.items())),
            *self.own_lines(),
        ]

    def serve(self, port: int) -> int:
        """Run the rendered app as the Space would (`python app.py` in its folder, secrets in its
        environment), until Ctrl+C."""
        say(f"serving {self.out}/app.py at http://127.0.0.1:{port} (Ctrl+C to stop)")
        env = {
            **os.environ,
            **self.variables,
            **self.secrets(),
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_SERVER_PORT": str(port),
        }
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=self.out, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait(timeout=30)
            return 0

    def push(self) -> str:
        """Create or update the Space on the Hub; returns the result line (its page and build logs)."""
        from ktokit.hub import hf_api

        assert self.repo_id, "push needs a repo id"
        api = hf_api(f"creating the Space {self.repo_id}")
        for note in self.notes():
            say(note)
        provision(
            api,
            self.repo_id,
            self.out,
            self.patterns(),
            sdk="gradio",
            commit_message=self.commit_message,
            private=self.private,
            hardware=self.hardware,
            sleep_time=self.sleep_time,
            secrets=self.secrets(),
            descriptions=self.descriptions(),
            variables=self.variables,
        )
        url = page_url(self.repo_id)
        return plan_line(self.label, f"{url} (it builds for a few minutes; logs: {url}?logs=build)")

    def run(self, options: SpaceOptions, show: Callable[[str], None]) -> int:
        """What `demo-space` and `dashboard` do once the Space is rendered: `show` the plan (the caller's
        stdout, before the work it plans), then serve it here, or push it; the exit status."""
        for line in self.plan():
            show(line)
        if options.dry_run:
            return 0
        if options.serve is not None:
            return self.serve(options.serve)
        if not self.repo_id:
            if self.secrets_when_rendered:
                self.secrets()
            show(RENDERED_ONLY)
            return 0
        show(self.push())
        return 0
