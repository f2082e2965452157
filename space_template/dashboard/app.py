"""ktokit campaign dashboard: how far the annotation of one language is, who carries it, and backups.

It shows a progress bar, the annotator leaderboard (a table, ranked by reliable answers, each annotator's
flag beside it: ok, check or unreliable, with the reasons), the agreement between annotators, and charts
(Gradio's own plots, data from ktokit.campaign.charts): answers per day, progress over time, the 👍 rate
per model and the blind arena's win rates, each rate with its 95 % CI, read from the language's Argilla
dataset and the visitors' dataset next to it (ktokit.campaign.dashboard),
and it backs the dataset up to a private Hub dataset on a schedule (ktokit.campaign.backup, only when
something changed), so a restart of the annotation Space loses at most one interval of work.

Settings come from the environment (Space variables; the keys are Space secrets):
LANGUAGE, ARGILLA_API_URL, ARGILLA_API_KEY (the dashboard user: admin of the language's workspace only),
ARGILLA_WORKSPACE, ARGILLA_DATASET, and optionally LANGUAGE_NAME and LABEL_GOOD (the pack's name in its
script and its 👍 label), ARGILLA_PRIVATE, ANNOTATION_SPACE, MIN_SUBMITTED,
BACKUP_REPO (a private Hub dataset, or a folder), BACKUP_EVERY_MIN (default 30), HF_TOKEN (a token
with write access to BACKUP_REPO only; also the key to a private annotation Space).
The `ktokit/` folder next to this file is the part of the kit the app needs (shipped with the Space).
"""

from __future__ import annotations

import html
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import gradio as gr

from ktokit.annotate.credentials import save_space_credentials, save_target, server_credentials_path
from ktokit.campaign.arena import report_lines
from ktokit.campaign.backup import backup
from ktokit.campaign.charts import (
    SERIES_COLOURS,
    arena_frame,
    model_rate_frame,
    per_day_frame,
    progress_frame,
)
from ktokit.campaign.dashboard import dashboard_figures
from ktokit.console import first_line, mask
from ktokit.export.read import connect
from ktokit.paths import write_private

BACKUP_EVERY_MIN = 30.0
NO_VERDICTS = (
    "No blind verdicts yet: the demo Space's arena collects them (`python -m ktokit demo-space`), "
    "and this chart shows the win rates once there are some."
)
FLAG_SIGNS = {"ok": "✅", "check": "❔", "unreliable": "⚠️"}  # the reasons are the flag's tooltip
STYLE = """
#progress .track {background:#e5e7eb;border-radius:6px;height:22px;width:100%}
#progress .fill {background:#16a34a;border-radius:6px;height:22px}
.kit table {border-collapse:collapse;margin:4px 0 12px} .kit td,.kit th {padding:3px 10px;text-align:left}
.kit th {border-bottom:1px solid #9ca3af}
.kit .flag-unreliable {color:#b91c1c;font-weight:600}
"""


@dataclass
class Settings:
    language: str
    argilla_api_url: str
    argilla_api_key: str = field(repr=False)
    workspace: str
    dataset: str
    argilla_private: bool = False
    annotation_space: str = ""
    min_submitted: int | None = None
    backup_repo: str = ""
    backup_every_min: float = BACKUP_EVERY_MIN
    language_name: str = ""  # the pack's name in its own script (日本語), for the page's title
    label_good: str = ""  # the pack's 👍 label (👍 よい), for the 👍 rate chart

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        missing = [
            k for k in ("LANGUAGE", "ARGILLA_API_URL", "ARGILLA_API_KEY", "ARGILLA_DATASET") if not env.get(k)
        ]
        if missing:
            raise SystemExit(f"set {', '.join(missing)} (Space variables; ARGILLA_API_KEY as a secret)")
        return cls(
            language=env["LANGUAGE"],
            argilla_api_url=env["ARGILLA_API_URL"],
            argilla_api_key=env["ARGILLA_API_KEY"],
            workspace=env.get("ARGILLA_WORKSPACE") or env["LANGUAGE"],
            dataset=env["ARGILLA_DATASET"],
            argilla_private=env.get("ARGILLA_PRIVATE", "") in ("1", "true", "yes"),
            annotation_space=env.get("ANNOTATION_SPACE", ""),
            min_submitted=int(env["MIN_SUBMITTED"]) if env.get("MIN_SUBMITTED") else None,
            backup_repo=env.get("BACKUP_REPO", ""),
            backup_every_min=float(env.get("BACKUP_EVERY_MIN", BACKUP_EVERY_MIN)),
            language_name=env.get("LANGUAGE_NAME", ""),
            label_good=env.get("LABEL_GOOD", ""),
        )


def use_settings(settings: Settings) -> Path:
    """Record the server as create_task.py would, in a private config dir of this process, so the kit's own
    `connect` and `backup` find it; the key stays in a 0600 file, never in a variable or a log."""
    config = Path(tempfile.mkdtemp(prefix="ktokit-dashboard-"))
    os.environ["KTOKIT_CONFIG_DIR"] = str(config)
    names = {"workspace": settings.workspace, "dataset": settings.dataset}
    key = {"api_url": settings.argilla_api_url, "api_key": settings.argilla_api_key}
    if settings.annotation_space:
        save_space_credentials(settings.annotation_space, key)
        target = {"kind": "space", "space": settings.annotation_space, "private": settings.argilla_private}
    else:  # any Argilla server the campaign runs (create_task.py --server URL)
        write_private(server_credentials_path(settings.argilla_api_url), key)
        target = {"kind": "server", "api_url": settings.argilla_api_url}
    save_target(settings.language, {**target, **names})
    return config


class Backups:
    """The backup on a schedule: every `backup_every_min` minutes, written only when something changed."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.last = "backups are off: set BACKUP_REPO (a private Hub dataset) and a Space secret HF_TOKEN"
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    @property
    def on(self) -> bool:
        return bool(self.settings.backup_repo)

    def run_once(self) -> dict | None:
        if not self.on:
            return None
        with self.lock:
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            try:
                summary = backup(self.settings.language, self.settings.backup_repo, only_if_changed=True)
            except Exception as exc:  # noqa: BLE001  (the schedule keeps going; the page says what failed)
                self.last = (
                    f"backup failed at {now}: {mask(first_line(exc), [self.settings.argilla_api_key])[:200]}"
                )
                return None
            what = "saved" if summary["changed"] else "unchanged since the last one, nothing written"
            self.last = (
                f"last backup check {now}: {what} ({summary['records']} records, "
                f"{summary['responses']['submitted']} submitted answers) → {summary['target']}"
            )
            return summary

    def start(self) -> None:
        """A daemon thread: one backup now, then one every interval."""
        if not self.on or self.thread is not None:
            return

        def loop():
            while True:
                self.run_once()
                time.sleep(self.settings.backup_every_min * 60)

        self.thread = threading.Thread(target=loop, name="ktokit-backup", daemon=True)
        self.thread.start()


def _table(header: tuple[str, ...], rows: list[tuple], table_id: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render(figures: dict) -> tuple[str, str, str]:
    """The page's parts that stay text: progress, the leaderboard (a table) and agreement, as HTML."""
    records, completed = figures["records"], figures["completed"]
    share = completed / records if records else 0.0
    r = figures["responses"]
    progress_html = (
        f'<div class="kit"><div class="track"><div class="fill" style="width:{share:.1%}"></div></div>'
        f'<p id="progress-text"><b>{completed} of {records}</b> records completed ({share:.0%}; '
        f"{figures['min_submitted']}+ submitted answers each), {figures['pending']} pending. "
        f"Answers: {r['submitted']} submitted, {r['draft']} draft, {r['discarded']} discarded.</p></div>"
    )
    leaderboard = _table(
        ("#", "annotator", "reliable", "submitted", "draft", "discarded", "flag"),
        [
            (
                i,
                html.escape(a["username"]),
                a["reliable"],
                a["submitted"],
                a["draft"],
                a["discarded"],
                f'<span class="flag-{a["flag"]}" title="{html.escape("; ".join(a["why"]))}">'
                f"{FLAG_SIGNS.get(a['flag'], '')} {a['flag']}</span>",
            )
            for i, a in enumerate(figures["annotators"], 1)
        ],
        "leaderboard",
    )
    flagged = [a for a in figures["annotators"] if a["flag"] == "unreliable"]
    if flagged:  # the reasons in words, under the board: the export leaves their votes out
        leaderboard += (
            '<ul id="flagged">'
            + "".join(
                f"<li><b>{html.escape(a['username'])}</b>: {html.escape('; '.join(a['why']))}</li>"
                for a in flagged
            )
            + "</ul>"
        )
    a = figures["agreement"]
    alpha = "n/a" if a["alpha"] is None else f"{a['alpha']:.2f}"
    pairwise = "n/a" if a["pairwise"] is None else f"{a['pairwise']:.0%}"
    agreement = (
        f'<p id="agreement">{a["records"]} records with 2+ votes; Krippendorff\'s alpha {alpha}, '
        f"pairwise agreement {pairwise}</p>"
    )
    return progress_html, f'<div class="kit">{leaderboard}</div>', f'<div class="kit">{agreement}</div>'


def arena_note(summary: dict | None) -> str:
    """Under the arena's chart: each pair's verdict in words, or one line saying there is none yet."""
    if not summary:
        return NO_VERDICTS
    return "\n".join(f"- {line}" for line in report_lines(summary))


def charts(figures: dict) -> tuple:
    """The charts' values (ktokit.campaign.charts): per day, over time, 👍 rate, arena (hidden when
    empty) and the arena's note."""
    arena = arena_frame(figures["arena"])
    return (
        per_day_frame(figures["per_day"]),
        progress_frame(figures["answer_times"], figures["min_submitted"]),
        model_rate_frame(figures["models"]),
        gr.update(value=arena, visible=not arena.empty),
        arena_note(figures["arena"]),
    )


def build(settings: Settings, backups: Backups | None = None) -> gr.Blocks:
    """The Blocks app; `/refresh` (API) returns the text parts, the charts' data and the backup line."""
    use_settings(settings)
    backups = backups or Backups(settings)
    good = settings.label_good or "👍"

    def refresh():
        try:
            client, dataset, _ = connect(settings.language)
            own = dataset.settings.distribution.min_submitted
            figures = dashboard_figures(
                client, dataset, language=settings.language, min_submitted=settings.min_submitted or own
            )
        except Exception as exc:  # noqa: BLE001  (one line on the page, the key masked)
            line = mask(first_line(exc), [settings.argilla_api_key])[:300]
            nothing = (None, None, None, gr.update(value=None, visible=False), "")
            return (
                f"<p id='progress-text'>Cannot read the dataset: {html.escape(line)}</p>",
                "",
                "",
                *nothing,
                backups.last,
            )
        return (*render(figures), *charts(figures), backups.last)

    name = settings.language_name or settings.language
    title = f"{name} annotation campaign ({settings.workspace}/{settings.dataset})"
    # Gradio's own plots (Vega-Lite, drawn as SVG in the page's font and text colour). A scatter plot
    # draws the estimates with their CIs: its three series per category are the estimate and the CI's
    # ends (Gradio's plots have no error bars; a bar or line plot would sum a category's rows).
    ci_plot = {
        "y_lim": [-0.04, 1.04],  # room for a point at 0 % or 100 % (a plot clips its marks)
        "y_axis_format": ".0%",
        "color": "series",
        "color_map": SERIES_COLOURS,
        "color_title": "",
        "tooltip": "all",
        "height": 280,
    }
    with gr.Blocks(title=title) as demo:
        gr.Markdown(f"# {title}", elem_id="title")
        progress_box = gr.HTML(elem_id="progress")
        with gr.Row():
            with gr.Column():
                gr.Markdown("### Leaderboard")
                leaderboard = gr.HTML()
            with gr.Column():
                gr.Markdown("### Agreement")
                agreement = gr.HTML()
        with gr.Row():
            with gr.Column():
                gr.Markdown("### Answers per day")
                per_day = gr.BarPlot(
                    x="day", y="answers", x_title="day (UTC)", y_title="submitted answers", sort="x",
                    y_lim=[0, None], height=280, elem_id="per-day-chart",
                )  # fmt: skip
            with gr.Column():
                gr.Markdown("### Progress over time")
                over_time = gr.LinePlot(
                    x="time", y="count", color="series", x_title="time (UTC)", y_title="cumulative count",
                    color_title="", y_lim=[0, None], x_axis_format="%b %d %H:%M", height=280,
                    elem_id="progress-chart",
                )  # fmt: skip
        with gr.Row():
            with gr.Column():
                gr.Markdown(f"### {good}: share per model, with its 95 % CI")
                rates = gr.ScatterPlot(
                    x="model", y="rate", y_title=f"share of {good}", elem_id="models-chart", **ci_plot
                )
            with gr.Column():
                gr.Markdown("### Blind arena: win rates, with their 95 % CI")
                arena = gr.ScatterPlot(
                    x="pair", y="win rate", y_title="win rate (draws half)", elem_id="arena-chart", **ci_plot
                )
                arena_words = gr.Markdown(elem_id="arena-note")
        backup_line = gr.Markdown(elem_id="backup")
        button = gr.Button("Refresh")
        outputs = [
            progress_box,
            leaderboard,
            agreement,
            per_day,
            over_time,
            rates,
            arena,
            arena_words,
            backup_line,
        ]
        button.click(refresh, outputs=outputs, api_name="refresh")
        demo.load(refresh, outputs=outputs, api_visibility="private")
    backups.start()
    return demo


if __name__ == "__main__":
    build(Settings.from_env()).launch(css=STYLE)
