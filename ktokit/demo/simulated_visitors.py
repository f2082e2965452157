"""Simulated visitors of the demo Space's blind arena: people who prefer the answer that keeps the form.

`make demo` (and benchmarks that compare other model pairs) ends on people as well as on the form check,
without people: visitors vote through the real app over HTTP, as a browser would, with Gradio's own
client on the app's /generate and /verdict endpoints (space_template/demo/app.py). The app draws the
sides and stores each verdict in the visitors' dataset; a visitor sees only "A" and "B" until its
verdict, then reads the names the app reveals.

A simulated visitor prefers the answer that passes the pack's form check (ktokit.packs.form): A when only
A keeps the form, B when only B does, a tie when both do, "both bad" when neither does. `noise` of its
verdicts are drawn at random instead (people misread, misclick, like another answer for its own sake);
those draws come from `random.Random(seed)`, so the same answers get the same verdicts. Each visitor is a
fresh Gradio session giving at most `per_visitor` verdicts, under the app's per-session rate limit.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ktokit.console import KitError, first_line

if TYPE_CHECKING:
    from ktokit.packs.languages import LanguagePack

VERDICTS = ("a", "b", "tie", "both_bad")  # what the app's /verdict takes
STORED = "Your verdict is in the visitors' dataset"  # the app's status once a verdict is stored
REVEAL = re.compile(r"\*\*A\*\* was \*\*(?P<a>.+?)\*\*, \*\*B\*\* was \*\*(?P<b>.+?)\*\*\.")
PER_VISITOR = 5  # verdicts per visitor session: under the app's default rate limit (10 a minute)


@dataclass(frozen=True)
class BlindVote:
    """One stored verdict: what the visitor saw, what it chose and why, and the names revealed after."""

    prompt: str
    text_a: str
    text_b: str
    form_a: bool  # A's answer passes the pack's form check
    form_b: bool
    verdict: str  # a, b, tie or both_bad, as the app stored it
    noisy: bool  # a random verdict (the noise), not the form's
    model_a: str  # revealed by the app after the verdict
    model_b: str
    visitor: int  # which simulated visitor (one Gradio session each)


def form_verdict(form_a: bool, form_b: bool) -> str:
    """The verdict of a visitor who cares for the form only."""
    if form_a != form_b:
        return "a" if form_a else "b"
    return "tie" if form_a else "both_bad"


def choose(form_a: bool, form_b: bool, rng: random.Random, noise: float) -> tuple[str, bool]:
    """A visitor's verdict and whether it was a random one: the form's verdict, or `noise` of the time a
    verdict drawn from all four."""
    if rng.random() < noise:
        return rng.choice(VERDICTS), True
    return form_verdict(form_a, form_b), False


def vote_blind(
    app_url: str,
    prompts: Sequence[str],
    pack: LanguagePack,
    *,
    noise: float = 0.15,
    seed: int = 0,
    per_visitor: int = PER_VISITOR,
    progress: bool = True,
) -> list[BlindVote]:
    """Vote once per prompt through the arena app at `app_url`; returns the verdicts the app stored.

    A pair the app takes no verdict on (an empty answer gives its model away; a pair that already has a
    verdict) is skipped, so the list can be shorter than `prompts`. A verdict the app could not store
    (no Argilla settings, the server down) stops the visitors with one line."""
    from tqdm.auto import tqdm

    from ktokit.packs.form import check_form

    if not 0 <= noise <= 1:
        raise KitError(f"noise is {noise}: a share between 0 and 1")
    rng = random.Random(seed)
    votes: list[BlindVote] = []
    visitor, given, client = 0, 0, None
    for prompt in tqdm(prompts, desc="simulated visitors", unit="verdict", disable=not progress, leave=False):
        if client is None or given >= per_visitor:
            visitor, given = visitor + 1, 0
            client = _call(app_url, None)  # a new visitor: a session of its own
        text_a, _, text_b, _, status, _ = _call(app_url, client, prompt, api_name="/generate")
        if not status.startswith("Which answer is better"):  # an empty answer: no verdict on this pair
            continue
        form_a, form_b = (check_form(t, pack.form).passed for t in (text_a, text_b))
        verdict, noisy = choose(form_a, form_b, rng, noise)
        status, reveal = _call(app_url, client, verdict, api_name="/verdict")
        given += 1
        if "already has a verdict" in status:  # the same pair drawn again (same texts): counted once
            continue
        names = REVEAL.search(reveal or "")
        if STORED not in status or names is None:
            raise KitError(f"the demo Space at {app_url} did not store a verdict: {status}")
        votes.append(
            BlindVote(prompt, text_a, text_b, form_a, form_b, verdict, noisy, names["a"], names["b"], visitor)
        )
    return votes


def _call(app_url: str, client: Any, *args: str, api_name: str = "") -> Any:
    """A new Gradio session at `app_url` (no `client`), or one call of it; what the app or the network
    refuses is one line, not a traceback."""
    import httpx
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    try:
        if client is None:
            return Client(app_url, verbose=False)
        return client.predict(*args, api_name=api_name)
    except (AppError, httpx.HTTPError, OSError, ValueError) as exc:
        doing = f"calling {api_name}" if client is not None else "connecting"
        raise KitError(f"the demo Space at {app_url} failed while {doing}: {first_line(exc)}") from None
