"""The options every Gradio Space command takes (`demo-space`, `dashboard`), declared and checked once.

A command's own arguments subclass `SpaceOptions`; the checks run when the options are parsed, so a bad
Space id, hardware name, sleep time or port is one line before anything is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

from ktokit.hub import check_repo_id
from ktokit.options import dry_run_option, option, serve_option, sleep_time_option, space_option
from ktokit.spaces.provision import DEFAULT_HARDWARE, check_hardware, check_port, check_sleep_time


@dataclass(kw_only=True)
class SpaceOptions:
    """Where a rendered Space goes (`space`, nowhere by default), how it runs there, or `serve` it here."""

    space: str | None = space_option("create or update this Space on the Hub")
    private: bool = option("a private Space", False)
    hardware: str | None = option(
        "Space hardware, e.g. cpu-upgrade or t4-small (default cpu-basic); on cpu-* a model's "
        "requirements take torch from PyTorch's CPU index",
        None,
    )
    sleep_time: int | None = sleep_time_option()
    dry_run: bool = dry_run_option()
    serve: int | None = serve_option()

    def __post_init__(self) -> None:
        self.hardware = check_hardware(self.hardware or DEFAULT_HARDWARE)
        check_sleep_time(self.sleep_time, self.hardware)
        if self.space:
            check_repo_id(self.space)
        check_port(self.serve)
