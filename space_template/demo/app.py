"""ktokit demo Space: the base model and its KTO-tuned version, in a blind arena or side by side.

MODE=arena (the default): the visitor's prompt goes to both models, shown as "A" and "B" with the sides
drawn at random per comparison; the visitor picks A, B, tie or both bad, and only then are the names
shown. Which model is on which side stays in server-side session state (gr.State) until the verdict, so
nothing the browser receives before it (page, config, responses) names a model. A verdict adds both
answers to the visitors' dataset as two records (ids from the pair and the side, so one verdict per
pair), each with metadata `source=arena`, `compare` (the pair id), `side` (A/B), `model_a`, `model_b`,
`verdict` (a/b/tie/both_bad), `voted_at` (UTC, ISO 8601) and `tuned` (the tuned model's name, so the count
knows which side is the tuned one): either record alone is the whole verdict.
`python -m ktokit arena` counts them.

MODE=side-by-side: the named view,
A visitor's 👍/👎 adds the (prompt, completion) to the visitors' Argilla dataset (`<dataset>-visitors`
in the workspace `<workspace>-visitors`, which `ktokit demo-space` creates) as a new record (its id comes
from the content, so a repeat adds nothing), with the vote kept as metadata: `visitor_vote`
(good/bad), `side` (base/tuned), `compare` (one id per generated pair) and `source=demo`. A vote is never
stored as a response, because a response belongs to a signed-in annotator; the Space's Argilla user is
an admin of the visitors' workspace only, so it cannot reach the annotators' answers at all. Votes are
rate-limited per visitor session (VOTES_PER_MINUTE, default 10).

Settings come from the environment (Space variables; the API key is a Space secret):
BASE_MODEL, ADAPTER, LANGUAGE, ARGILLA_API_URL, ARGILLA_API_KEY, ARGILLA_DATASET, ARGILLA_WORKSPACE,
and optionally MODE, BASE_NAME, TUNED_NAME, ARGILLA_PRIVATE, TEMPERATURE, MAX_NEW_TOKENS, VOTES_PER_MINUTE.
The `ktokit/` folder next to this file is the part of the kit the app needs (shipped with the Space).
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
import warnings
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import gradio as gr

from ktokit.annotate.task import build_records, log_new_records
from ktokit.console import first_line, mask
from ktokit.inference import complete, load_model, model_variants
from ktokit.packs.form import check_form
from ktokit.packs.languages import load_pack

HERE = Path(__file__).resolve().parent
MAX_PROMPT_CHARS = 500
EMPTY_ANSWER = "(the model returned nothing; try again or raise the temperature)"
DEMO_SOURCE = "demo"
ARENA_SOURCE = "arena"
MODES = ("arena", "side-by-side")
VERDICTS = {"a": "A is better", "b": "B is better", "tie": "Tie", "both_bad": "Both are bad"}
# hidden from annotators but the source (ktokit.demo.visitors.VISITOR_METADATA, which the visitors' dataset
# is created with; added here only if someone made that dataset by hand)
EXTRA_METADATA = (
    ("source", "source", True),
    ("visitor_vote", "visitor vote", False),
    ("side", "side", False),
    ("compare", "compare", False),
    ("model_a", "model A", False),
    ("model_b", "model B", False),
    ("verdict", "arena verdict", False),
    ("voted_at", "voted at", False),
    ("tuned", "tuned model", False),
)


def _local_or(value: str, default_dir: str) -> str:
    """A setting, else the folder of that name shipped with the Space."""
    return value or (str(HERE / default_dir) if (HERE / default_dir).is_dir() else "")


@dataclass
class Settings:
    base_model: str
    adapter: str
    language: str
    argilla_api_url: str = ""
    argilla_api_key: str = field(default="", repr=False)
    dataset: str = ""
    workspace: str = ""
    base_name: str = ""
    tuned_name: str = ""
    argilla_private: bool = False
    temperature: float = 0.7
    max_new_tokens: int = 64
    votes_per_minute: int = 10
    mode: str = "arena"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base, adapter = (
            _local_or(env.get("BASE_MODEL", ""), "base"),
            _local_or(env.get("ADAPTER", ""), "adapter"),
        )
        if not env.get("LANGUAGE") or not base or not adapter:
            raise SystemExit(
                "set LANGUAGE, BASE_MODEL and ADAPTER (Space variables), or ship base/ and adapter/"
            )
        mode = env.get("MODE", "") or "arena"
        if mode not in MODES:
            raise SystemExit(f"MODE is {mode!r}: set it to one of {', '.join(MODES)}")
        return cls(
            base_model=base,
            adapter=adapter,
            language=env["LANGUAGE"],
            argilla_api_url=env.get("ARGILLA_API_URL", ""),
            argilla_api_key=env.get("ARGILLA_API_KEY", ""),
            dataset=env.get("ARGILLA_DATASET", ""),
            workspace=env.get("ARGILLA_WORKSPACE", "") or env["LANGUAGE"],
            base_name=env.get("BASE_NAME", "") or Path(base).name,
            tuned_name=env.get("TUNED_NAME", ""),
            argilla_private=env.get("ARGILLA_PRIVATE", "") in ("1", "true", "yes"),
            temperature=float(env.get("TEMPERATURE", "0.7")),
            max_new_tokens=int(env.get("MAX_NEW_TOKENS", "64")),
            votes_per_minute=int(env.get("VOTES_PER_MINUTE", "10")),
            mode=mode,
        )

    @property
    def feedback(self) -> bool:
        return bool(self.argilla_api_url and self.argilla_api_key and self.dataset)

    @property
    def names(self) -> dict[str, str]:
        return {"base": self.base_name, "tuned": self.tuned_name or f"{self.base_name} + KTO"}


class Models:
    """One load serves both sides: the tuned model is the base plus the adapter, switched off for the base."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.pack = load_pack(settings.language)
        self.model, self.tokenizer = load_model(settings.base_model, settings.adapter)
        self.model.eval()
        self.lock = threading.Lock()  # switching the adapter off is model-wide state

    def compare(self, prompt: str, seed: int | None = None) -> dict[str, str]:
        """Both completions for one prompt, from the same seed, so only the adapter differs."""
        seed = random.randrange(2**31) if seed is None else seed
        out = {}
        with self.lock:
            for label, switch in model_variants(self.model):
                with switch:
                    out[label] = complete(
                        self.model,
                        self.tokenizer,
                        self.pack,
                        [prompt],
                        temperature=self.settings.temperature,
                        seed=seed,
                        max_new_tokens=self.settings.max_new_tokens,
                    )[0]
        return out

    def form_markdown(self, completion: str) -> str:
        check = check_form(completion, self.pack.form)
        head = f"**form check: {check.verdict}** (score {check.score:.2f}, rule {self.pack.form.describe()})"
        if check.reason:
            head += f"  \n{check.reason}"
        counts = [
            f"{line.count}" + (f"/{line.expected}" if line.expected is not None else "")
            for line in check.lines
            if line.count is not None
        ]
        return head + (f"  \n{check.unit or 'units'} per line: {', '.join(counts)}" if counts else "")


def compare_id(prompt: str, base: str, tuned: str) -> str:
    """One id per generated pair: a 👍 on one side and a 👎 on the other of the same pair is a preference."""
    return hashlib.sha256("\x1f".join((prompt, base, tuned)).encode()).hexdigest()[:16]


class RateLimit:
    """At most `per_minute` votes per visitor session in any 60 s; `clock` for tests."""

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute, self.clock = per_minute, clock
        self.seen: dict[str, deque] = {}
        self.lock = threading.Lock()

    def wait(self, session: str) -> float:
        """0 when this vote may go (and counts it), else the seconds until the next one may."""
        now = self.clock()
        with self.lock:
            times = self.seen.setdefault(session, deque())
            while times and now - times[0] >= 60:
                times.popleft()
            if len(times) >= self.per_minute:
                return 60 - (now - times[0])
            times.append(now)
            return 0.0


class Feedback:
    """Visitors' votes as new Argilla records; the client and dataset are opened on the first vote."""

    def __init__(self, settings: Settings, pack):
        self.settings, self.pack = settings, pack
        self.dataset = None
        self.known: set[str] = set()  # ids already in the dataset: a repeat vote needs no round trip
        self.lock = threading.Lock()
        self.limit = RateLimit(settings.votes_per_minute)

    def _open(self):
        import argilla as rg

        s = self.settings
        headers = {}
        if s.argilla_private and os.environ.get("HF_TOKEN"):
            headers["Authorization"] = f"Bearer {os.environ['HF_TOKEN']}"
        client = rg.Argilla(api_url=s.argilla_api_url, api_key=s.argilla_api_key, timeout=60, headers=headers)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = client.datasets(name=s.dataset, workspace=s.workspace)
        if dataset is None:
            raise RuntimeError(f"no dataset {s.workspace}/{s.dataset} on the Argilla server")
        have = {m.name for m in dataset.settings.metadata}
        for name, title, visible in EXTRA_METADATA:  # the task has no place for them yet: add it once
            if name not in have:
                prop = rg.TermsMetadataProperty(
                    name=name, title=title, visible_for_annotators=visible, client=client
                )
                prop.dataset = dataset
                prop.create()
        return dataset

    def vote(
        self,
        prompt: str,
        completion: str,
        model_name: str,
        vote: str,
        side: str = "",
        compare: str = "",
        session: str = "",
    ) -> str:
        if not self.settings.feedback:
            return "Feedback is off: this Space has no Argilla settings."
        prompt, completion = (prompt or "").strip(), (completion or "").strip()
        if not prompt:
            return "Generate first, then vote."
        if not completion or completion == EMPTY_ANSWER:
            return "Nothing to vote on: the model returned nothing. Generate again."
        wait = self.limit.wait(session)
        if wait:
            return (
                f"Slow down: at most {self.settings.votes_per_minute} votes a minute from one visitor. "
                f"Try again in {max(1, round(wait))} s."
            )
        (record,) = self._records(prompt, [(model_name, completion)])
        record["metadata"].update(source=DEMO_SOURCE, visitor_vote=vote, side=side, compare=compare)
        try:
            with self.lock:
                if record["id"] in self.known:
                    return "Thanks! This text is already in the visitors' dataset."
                if self.dataset is None:
                    self.dataset = self._open()
                added = log_new_records(self.dataset, [record]).added
                self.known.add(record["id"])
        except Exception as exc:  # noqa: BLE001 - the visitor sees one line; the key never appears in it
            reason = mask(first_line(exc), [self.settings.argilla_api_key])[:200]
            return f"Feedback could not be sent ({reason})."
        if not added:
            return "Thanks! This text is already in the visitors' dataset."
        return "Thanks! Sent to the visitors' dataset: the organisers will rate it."

    def _records(self, prompt: str, answers: list[tuple[str, str]]) -> list[dict]:
        rows = [
            {"input": prompt, "generation_model": [name], "generations": [text]} for name, text in answers
        ]
        return build_records(rows, self.pack)

    def verdict(self, pair: dict, verdict: str, session: str = "") -> str:
        """Store one arena verdict: both answers as records whose ids come from the pair and the side, so
        a second verdict on the same pair adds nothing, even from a fresh app process."""
        if not self.settings.feedback:
            return "Feedback is off: this Space has no Argilla settings, so the verdict is not stored."
        wait = self.limit.wait(session)
        if wait:
            return (
                f"Slow down: at most {self.settings.votes_per_minute} votes a minute from one visitor. "
                f"Try again in {max(1, round(wait))} s."
            )
        names = {side: pair["names"][side] for side in ("A", "B")}
        # one record per side, each built alone: build_records merges equal texts into one record, and
        # base and tuned may well write the same answer from the same seed
        records = [self._records(pair["prompt"], [(names[s], pair["texts"][s])])[0] for s in ("A", "B")]
        voted_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for side, record in zip(("A", "B"), records, strict=True):
            record["id"] = f"{self.settings.language}-arena-{pair['id']}-{side}"
            record["metadata"].update(
                source=ARENA_SOURCE,
                compare=pair["id"],
                side=side,
                model_a=names["A"],
                model_b=names["B"],
                verdict=verdict,
                voted_at=voted_at,
                tuned=self.settings.names["tuned"],  # which of the two is the tuned one: `arena` says so
            )
        try:
            with self.lock:
                if self.dataset is None:
                    self.dataset = self._open()
                added = log_new_records(self.dataset, records).added
        except Exception as exc:  # noqa: BLE001 - the visitor sees one line; the key never appears in it
            reason = mask(first_line(exc), [self.settings.argilla_api_key])[:200]
            return f"The verdict could not be sent ({reason})."
        if not added:
            return "This pair already has a verdict: generate a new one."
        return "Thanks! Your verdict is in the visitors' dataset."


def build(settings: Settings) -> gr.Blocks:
    """The app for `settings.mode`: the blind arena, or the named side-by-side view."""
    return build_arena(settings) if settings.mode == "arena" else build_side_by_side(settings)


def checked_prompt(prompt: str | None) -> str:
    """The visitor's prompt, stripped; an empty or too long one is a message in the app, not a call."""
    prompt = (prompt or "").strip()
    if not prompt:
        raise gr.Error("Write a prompt first.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise gr.Error(f"Keep the prompt under {MAX_PROMPT_CHARS} characters.")
    return prompt


def build_arena(settings: Settings) -> gr.Blocks:
    """The blind arena. API names: /generate (prompt -> A, A's form check, B, B's form check, status,
    reveal) and /verdict (a, b, tie or both_bad -> status, reveal). The pair (texts, which model is on which
    side) lives in a gr.State: its value stays on the server, per session, and never reaches the browser."""
    models = Models(settings)
    feedback = Feedback(settings, models.pack)
    pack, names = models.pack, settings.names

    def generate(prompt: str):
        prompt = checked_prompt(prompt)
        out = models.compare(prompt)
        labels = ["base", "tuned"]
        random.shuffle(labels)  # the sides are drawn per comparison
        texts = {side: out[label] for side, label in zip("AB", labels, strict=True)}
        pair = {
            "id": compare_id(prompt, out["base"], out["tuned"]),
            "prompt": prompt,
            "texts": texts,
            "names": {side: names[label] for side, label in zip("AB", labels, strict=True)},
            "done": False,
        }
        if not all(t.strip() for t in texts.values()):
            pair["done"] = True  # an empty answer gives itself away: no verdict on it
            status = "One model returned nothing, which would give it away: generate again."
        else:
            status = "Which answer is better? Pick below: the names are shown after your verdict."
        panes = [p for side in "AB" for p in (texts[side] or EMPTY_ANSWER, models.form_markdown(texts[side]))]
        return (pair, *panes, status, "")

    def give(verdict: str, pair: dict | None, request: gr.Request):
        if verdict not in VERDICTS:
            raise gr.Error(f"A verdict is one of {', '.join(VERDICTS)}.")
        if not pair:
            return pair, "Generate first, then give your verdict.", ""
        if pair["done"]:
            return pair, "This pair already has a verdict: generate a new one.", ""
        said = feedback.verdict(pair, verdict, session=getattr(request, "session_hash", None) or "")
        if said.startswith("Slow down"):
            return pair, said, ""
        pair = {**pair, "done": True}  # one verdict per pair, stored or not
        reveal = f"**A** was **{pair['names']['A']}**, **B** was **{pair['names']['B']}**."
        return pair, f"{VERDICTS[verdict]}. {said}", reveal

    title = f"{pack.native_name or pack.name} {pack.task or ''}: blind arena".strip()
    off = "" if settings.feedback else "  \n*Feedback is off: this Space has no Argilla settings.*"
    with gr.Blocks(title=title) as demo:
        gr.Markdown(
            f"# {title}\nTwo models answer the same prompt with the same seed, as **A** and **B**, their "
            f"sides drawn at random each time. Say which answer is better: the names are shown after your "
            f"verdict, which goes to the visitors' dataset.{off}"
        )
        pair = gr.State(None)  # server-side: the names never reach the browser before the verdict
        prompt = gr.Textbox(label="Prompt", lines=2, max_length=MAX_PROMPT_CHARS)
        go = gr.Button("Generate", variant="primary")
        gr.Examples(examples=[[p] for p in pack.prompts[:8]], inputs=[prompt])
        panes = []
        with gr.Row():
            for side in "AB":
                with gr.Column():
                    text = gr.Textbox(label=side, lines=5, interactive=False, elem_id=f"answer-{side}")
                    panes += [text, gr.Markdown()]
        with gr.Row():
            buttons = {v: gr.Button(label, elem_id=f"verdict-{v}") for v, label in VERDICTS.items()}
        status = gr.Markdown(elem_id="arena-status")
        reveal = gr.Markdown(elem_id="arena-reveal")
        outputs = [pair, *panes, status, reveal]
        go.click(generate, inputs=[prompt], outputs=outputs, api_name="generate")
        prompt.submit(generate, inputs=[prompt], outputs=outputs, api_visibility="private")
        choice = gr.Textbox(visible=False)  # the API's way in: /verdict takes a, b, tie or both_bad
        for v, button in buttons.items():

            def on_click(p, request: gr.Request, _v=v):
                return give(_v, p, request)

            button.click(on_click, inputs=[pair], outputs=[pair, status, reveal], api_visibility="private")
        choice.submit(give, inputs=[choice, pair], outputs=[pair, status, reveal], api_name="verdict")
    return demo


def build_side_by_side(settings: Settings) -> gr.Blocks:
    """The named side-by-side app. API names: /compare, /vote_base_good, /vote_base_bad, /vote_tuned_good,
    /vote_tuned_bad (each vote takes the prompt, the base text and the tuned text)."""
    models = Models(settings)
    feedback = Feedback(settings, models.pack)
    pack, names = models.pack, settings.names

    def compare(prompt: str):
        prompt = checked_prompt(prompt)
        out = models.compare(prompt)
        panes = [
            pane
            for label in ("base", "tuned")
            for pane in (out[label] or EMPTY_ANSWER, models.form_markdown(out[label]))
        ]
        return (prompt, *panes, "")

    title = f"{pack.native_name or pack.name} {pack.task or ''}: base vs KTO-tuned".strip()
    off = "" if settings.feedback else "  \n*Feedback is off: this Space has no Argilla settings.*"
    with gr.Blocks(title=title) as demo:
        gr.Markdown(
            f"# {title}\nThe same prompt, the same seed: **{names['base']}** on the left, "
            f"**{names['tuned']}** on the right. Vote 👍/👎 on either (👍 on one side and 👎 on the other "
            f"says which you prefer): your vote sends the text to the visitors' dataset, which the "
            f"organisers rate.{off}"
        )
        prompt = gr.Textbox(label="Prompt", lines=2, max_length=MAX_PROMPT_CHARS)
        asked = gr.Textbox(visible=False)  # the prompt the outputs answer, whatever the box says now
        go = gr.Button("Generate", variant="primary")
        gr.Examples(examples=[[p] for p in pack.prompts[:8]], inputs=[prompt])
        sides = {}
        with gr.Row():
            for label, heading in (("base", "base"), ("tuned", "tuned")):
                with gr.Column():
                    gr.Markdown(f"### {heading}: {names[label]}")
                    text = gr.Textbox(label=heading, lines=5, interactive=False)
                    check = gr.Markdown()
                    with gr.Row():
                        good, bad = gr.Button("👍"), gr.Button("👎")
                    sides[label] = (text, check, good, bad)
        status = gr.Markdown()
        go.click(
            compare,
            inputs=[prompt],
            api_name="compare",
            outputs=[asked, sides["base"][0], sides["base"][1], sides["tuned"][0], sides["tuned"][1], status],
        )
        prompt.submit(
            compare,
            inputs=[prompt],
            api_visibility="private",
            outputs=[asked, sides["base"][0], sides["base"][1], sides["tuned"][0], sides["tuned"][1], status],
        )
        pair = [asked, sides["base"][0], sides["tuned"][0]]
        for label, (_, _, good, bad) in sides.items():
            for button, vote in ((good, "good"), (bad, "bad")):

                def on_vote(p, base_text, tuned_text, request: gr.Request, _label=label, _vote=vote):
                    text = base_text if _label == "base" else tuned_text
                    return feedback.vote(
                        p,
                        text,
                        names[_label],
                        _vote,
                        side=_label,
                        compare=compare_id(p or "", base_text or "", tuned_text or ""),
                        session=getattr(request, "session_hash", None) or "",
                    )

                button.click(on_vote, inputs=pair, outputs=[status], api_name=f"vote_{label}_{vote}")
    return demo


if __name__ == "__main__":
    build(Settings.from_env()).launch()
