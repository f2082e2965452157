"""A SCRIPTED stand-in of a remote OpenAI-compatible chat-completions API (HF router, vLLM, TGI...), for
what a real server cannot be made to do on demand: 429 with Retry-After, 5xx, timeouts, a set latency.

The openai backend also runs against a real server, `transformers serve` with a tiny model
(tests/test_openai_server.py); this one is for the faults, the benchmarks' fixed latency and the
scripted answers of drafting tests.

A real HTTP server on 127.0.0.1 that speaks `POST /v1/chat/completions` and `GET /v1/models`, and
can be scripted to behave like a busy remote API: answer slowly, answer 429 a few times before
succeeding, fail for good on some prompts, wrap its haiku in chatty preambles and notes, give
every model the same answer, or answer from a script (`DraftScript`: the mix of good drafts,
wrong-language drafts, duplicates and chatter a model set gives when drafting a pack). It logs every
request it receives, so tests can count what was asked.

    with ScriptedOpenAI(latency=0.1, rate_limit_first=1) as api:
        ...  # point a model set's base_url at api.base_url

Or as its own process (benchmarks): `python tests/scripted_openai.py --port 8123 --latency 0.1`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

HAIKU = [
    "Still water at dawn\nA heron lifts from the reeds\nRipples close behind",
    "Rain on the tin roof\nThe kettle begins to sing\nNobody is home",
    "Snow on the mountain\nThe old path is lost again\nOnly the wind knows",
    "Cherry blossoms fall\nOn the quiet river stones\nSpring walks out of town",
    "Moon over the bay\nA fishing boat rocks alone\nNets full of silver",
]


class DraftScript:
    """Answers of a model set asked to draft a pack: for the i-th source asked (in the order of `good`,
    which maps each source to a good draft), the first model answers by `PATTERN[i % 5]`; every other
    model repeats the first one's answer word for word. `answered` records (source, kind) of the first
    model's answers, so a test derives the counts it expects from what was answered.

    - good: the good draft;  wrapped: the good draft in talk and quotes (the cleaner removes them);
    - source: the source text itself (another language);  chatter: talk and nothing else;
    - repeat: the good draft of source i-4 again, in capitals and with other punctuation.
    """

    PATTERN = ("good", "wrapped", "source", "chatter", "repeat")
    CHATTER = "Sure! I'd be happy to help you with that."

    def __init__(self, good: dict[str, str]) -> None:
        self.good = good
        self.order = list(good)
        self.answered: list[tuple[str, str]] = []

    def __call__(self, model: str, source: str) -> str | None:
        if source not in self.good:
            return None
        i = self.order.index(source)
        kind = self.PATTERN[i % len(self.PATTERN)]
        if kind == "repeat" and i < 4:
            kind = "good"
        if not any(s == source for s, _ in self.answered):
            self.answered.append((source, kind))
        return {
            "good": self.good[source],
            "wrapped": f'Claro! Aqui está:\n\n"{self.good[source]}"',
            "source": source,
            "chatter": self.CHATTER,
            "repeat": self.good[self.order[i - 4]].upper().rstrip(".?!") + " !!",
        }[kind]


class ScriptedOpenAI:
    """Scriptable stand-in for a chat-completions server; see the module docstring."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        rate_limit_first: int = 0,
        fail_prompts: tuple[str, ...] = (),
        preamble: bool = False,
        same_answer: bool = False,
        port: int = 0,
        script: Callable[[str, str], str | None] | None = None,
    ) -> None:
        self.latency = latency
        self.rate_limit_first = rate_limit_first  # per (model, prompt): this many 429s, then success
        self.fail_prompts = fail_prompts  # prompts containing one of these always get HTTP 500
        self.preamble = preamble
        self.same_answer = same_answer
        self.script = script  # (model, prompt) -> the answer, or None for the default haiku
        self.log: list[tuple[str, str, int]] = []  # (model, prompt, status) of every request
        self._seen: Counter = Counter()
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    async def serve(self, announce: bool = False) -> None:
        """Serve on the running loop until cancelled (asyncio: cheap enough not to skew benchmarks)."""
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", self._port, backlog=1024)
        self._port = self._server.sockets[0].getsockname()[1]
        if announce:
            print(
                f"scripted OpenAI-compatible server on {self.base_url} (latency {self.latency}s)", flush=True
            )
        async with self._server:
            await self._server.serve_forever()

    def start(self) -> ScriptedOpenAI:
        """Serve from a background thread (tests)."""
        self._loop = asyncio.new_event_loop()
        self._task = self._loop.create_task(self.serve())
        self._thread = threading.Thread(target=self._run_until_stopped, daemon=True)
        self._thread.start()
        while self._server is None or not self._server.is_serving():
            time.sleep(0.01)
        return self

    def _run_until_stopped(self) -> None:
        asyncio.set_event_loop(self._loop)
        with contextlib.suppress(asyncio.CancelledError):
            self._loop.run_until_complete(self._task)
        open_connections = asyncio.all_tasks(self._loop)
        for task in open_connections:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*open_connections, return_exceptions=True))
        self._loop.close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_for(self, prompt: str, status: int | None = None) -> int:
        return sum(1 for _, p, s in self.log if p == prompt and (status is None or s == status))

    def answer(self, model: str, prompt: str) -> str:
        if self.script is not None and (scripted := self.script(model, prompt)) is not None:
            return scripted
        key = prompt if self.same_answer else f"{model}|{prompt}"
        haiku = HAIKU[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(HAIKU)]
        if self.preamble:
            return (
                f'Sure! Here\'s a haiku for "{prompt}":\n\n**Title: Morning**\n\n'
                f"{haiku}\n\nThis haiku captures a quiet moment in nature."
            )
        return haiku

    async def respond(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Status, JSON body and headers for one request (the scripted behaviour lives here)."""
        model = str(body.get("model", ""))
        messages = body.get("messages") or []
        prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        self._seen[(model, prompt)] += 1
        attempt = self._seen[(model, prompt)]
        if self.latency:
            await asyncio.sleep(self.latency)
        if any(bad in prompt for bad in self.fail_prompts):
            status, out, headers = 500, {"error": {"message": "internal error (scripted)"}}, {}
        elif attempt <= self.rate_limit_first:
            status, out, headers = (
                429,
                {"error": {"message": "rate limit reached (scripted)"}},
                {"Retry-After": "0"},
            )
        else:
            text = self.answer(model, prompt)
            status, headers = 200, {}
            out = {
                "id": f"chatcmpl-{attempt}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": len(prompt.split()),
                    "completion_tokens": len(text.split()),
                    "total_tokens": len(prompt.split()) + len(text.split()),
                },
            }
        self.log.append((model, prompt, status))
        return status, out, headers

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """HTTP/1.1 with keep-alive: enough of the protocol for httpx, curl and the openai client."""
        try:
            while True:
                request_line = await reader.readline()
                if not request_line.strip():
                    break
                method, path, _ = request_line.decode("latin-1").split(" ", 2)
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    key, _, value = line.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                raw = await reader.readexactly(int(headers.get("content-length") or 0))
                status, body, extra = await self._route(method, path.split("?")[0].rstrip("/"), raw)
                data = json.dumps(body).encode()
                head = [
                    f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
                    "Content-Type: application/json",
                    f"Content-Length: {len(data)}",
                    *(f"{k}: {v}" for k, v in extra.items()),
                ]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass  # a client that hung up (timeout test, killed run) is not the double's problem
        finally:
            writer.close()

    async def _route(self, method: str, path: str, raw: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "GET" and path == "/v1/models":
            return 200, {"object": "list", "data": []}, {}
        if method != "POST" or path != "/v1/chat/completions":
            return 404, {"error": {"message": "not found"}}, {}
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return 400, {"error": {"message": "invalid JSON"}}, {}
        return await self.respond(body)


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--preamble", action="store_true")
    cli = parser.parse_args()
    server = ScriptedOpenAI(latency=cli.latency, preamble=cli.preamble, port=cli.port)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve(announce=True))
