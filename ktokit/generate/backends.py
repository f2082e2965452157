"""distilabel LLMs the kit generates with: one for OpenAI-compatible servers, one for local models.

Both return, next to distilabel's `generations`, a `request` record per answer (the prompt as the
model saw it, latency, retries, error) so that the run can count failures instead of crashing.

Why our own HTTP client rather than distilabel's `OpenAILLM`: it needs the `openai` package (not in
the kit), retries inside the client where we cannot count retries, and raises on a failed request.
distilabel's `InferenceEndpointsLLM(model_id=...)` is broken on huggingface_hub >= 0.35 (it calls
`get_model_status`, which was removed), and with `tokenizer_id` it silently returns None generations.
HF Inference Providers speak the OpenAI chat API, so the router (`<router>/v1`, HF token as API key)
goes through `OpenAICompatibleLLM` like any other OpenAI-compatible server.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

from distilabel.models.llms.base import AsyncLLM
from distilabel.models.llms.huggingface.transformers import TransformersLLM
from pydantic import Field, PrivateAttr, SecretStr

RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}


def request_record(prompt: str, latency_s: float, retries: int = 0, error: str = "") -> dict[str, Any]:
    return {"prompt": prompt, "latency_s": round(latency_s, 4), "retries": retries, "error": error}


def render_messages(messages: list[dict[str, str]]) -> str:
    """A chat API applies its own template; what we can record is the exact message list sent."""
    return json.dumps(messages, ensure_ascii=False)


class OpenAICompatibleLLM(AsyncLLM):
    """Chat completions from HF Inference Providers (router), vLLM, TGI, llama.cpp or Ollama.

    At most `concurrency` requests are in flight; 429, 5xx, timeouts and connection errors are retried
    up to `max_retries` times with exponential backoff and jitter (or the server's `Retry-After`). A
    request that still fails yields a `None` generation and its error, never an exception.
    """

    model: str
    base_url: str
    api_key: SecretStr | None = Field(default=None, exclude=True)
    display_name: str | None = None
    concurrency: int = 8
    timeout: float = 60.0
    max_retries: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 20.0

    _client: Any = PrivateAttr(default=None)
    _semaphore: asyncio.Semaphore | None = PrivateAttr(default=None)
    _bound_loop: Any = PrivateAttr(default=None)

    @property
    def model_name(self) -> str:
        return self.display_name or self.model

    def _session(self) -> tuple[Any, asyncio.Semaphore]:
        """Client and semaphore belong to one event loop; make them on the loop that runs us."""
        import httpx

        loop = asyncio.get_running_loop()
        if self._bound_loop is not loop:
            headers = {"Authorization": f"Bearer {self.api_key.get_secret_value()}"} if self.api_key else {}
            limits = httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            )
            self._client = httpx.AsyncClient(
                base_url=self.base_url, headers=headers, timeout=self.timeout, limits=limits
            )
            self._semaphore = asyncio.Semaphore(self.concurrency)
            self._bound_loop = loop
        return self._client, self._semaphore

    async def aclose(self) -> None:
        """Close the HTTP client from the loop it belongs to (call before that loop ends)."""
        if self._client is not None and self._bound_loop is asyncio.get_running_loop():
            await self._client.aclose()
            self._client = self._bound_loop = None

    def unload(self) -> None:
        loop = self._bound_loop
        if self._client is not None and loop is not None and not loop.is_closed() and not loop.is_running():
            loop.run_until_complete(self._client.aclose())
        self._client = self._bound_loop = None
        super().unload()

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.max_backoff_s)
            except ValueError:
                pass
        return min(self.backoff_s * 2**attempt, self.max_backoff_s) * random.uniform(0.5, 1.5)

    async def agenerate(  # type: ignore[override]
        self,
        input: list[dict[str, str]],
        num_generations: int = 1,
        max_new_tokens: int = 128,
        temperature: float = 0.7,
        top_p: float = 1.0,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """One chat completion per generation; see the class docstring for retries and failures."""
        import httpx

        payload = {
            "model": self.model,
            "messages": input,
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            "top_p": top_p,
        }
        if seed is not None:
            payload["seed"] = seed
        prompt = render_messages(input)
        client, semaphore = self._session()
        texts, records, in_tokens, out_tokens = [], [], [], []
        for _ in range(num_generations):
            text, error, retries, usage = None, "", 0, {}
            async with semaphore:
                start = time.perf_counter()
                for attempt in range(self.max_retries + 1):
                    retry_after = None
                    try:
                        response = await client.post("/chat/completions", json=payload)
                    except httpx.TimeoutException:
                        error = f"timeout after {self.timeout:g}s"
                    except httpx.TransportError as exc:
                        error = f"connection error: {type(exc).__name__}"
                    else:
                        if response.status_code == 200:
                            text, error, usage = self._parse(response)
                            break
                        error = f"HTTP {response.status_code}: {response.text[:200].strip()}"
                        if response.status_code not in RETRY_STATUSES:
                            break
                        retry_after = response.headers.get("retry-after")
                    if attempt == self.max_retries:
                        break
                    retries += 1
                    await asyncio.sleep(self._delay(attempt, retry_after))
                latency = time.perf_counter() - start
            texts.append(text)
            records.append(request_record(prompt, latency, retries, "" if text is not None else error))
            in_tokens.append(usage.get("prompt_tokens", 0))
            out_tokens.append(usage.get("completion_tokens", 0))
        return {
            "generations": texts,
            "statistics": {"input_tokens": in_tokens, "output_tokens": out_tokens},
            "request": records,
        }

    @staticmethod
    def _parse(response: Any) -> tuple[str | None, str, dict]:
        try:
            body = response.json()
            content = body["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            return None, f"malformed answer: {response.text[:200].strip()}", {}
        if not isinstance(content, str) or not content.strip():
            return None, "empty answer", body.get("usage") or {}
        return content, "", body.get("usage") or {}


class LocalTransformersLLM(TransformersLLM):
    """distilabel's transformers LLM, timed and made failure-safe like the HTTP one; with `adapter`, the
    base model with a LoRA adapter merged in (the tuned model of an earlier round).

    The adapter is a path, not a loaded model, so the LLM stays serialisable: distilabel's runners and
    Ray's actors rebuild it from its fields and `load()` it where the step runs. distilabel 1.5.3's
    TransformersLLM has no adapter option; the kit merges the adapter into the pipeline's model after
    distilabel loads the base (merged weights generate as fast as the base, and the pipeline keeps the
    base's own model class).
    """

    display_name: str | None = None
    adapter: str | None = None

    @property
    def model_name(self) -> str:
        return self.display_name or self.model

    def load(self) -> None:
        super().load()
        if self.adapter:
            from peft import PeftModel

            pipe = self._pipeline
            pipe.model = PeftModel.from_pretrained(pipe.model, self.adapter).merge_and_unload()
            pipe.model.eval()

    def generate(  # type: ignore[override]
        self,
        inputs: list[list[dict[str, str]]],
        num_generations: int = 1,
        max_new_tokens: int = 128,
        temperature: float = 0.7,
        repetition_penalty: float = 1.1,
        top_p: float = 1.0,
        top_k: int = 0,
        do_sample: bool = True,
    ) -> list[dict[str, Any]]:
        """One batch through the transformers pipeline; latency is the batch's wall time."""
        prompts = [self.prepare_input(input) for input in inputs]
        start = time.perf_counter()
        try:
            outputs = super().generate(
                inputs,
                num_generations=num_generations,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                repetition_penalty=repetition_penalty,
                top_p=top_p,
                top_k=top_k,
                do_sample=do_sample,
            )
            error = ""
        except Exception as exc:  # noqa: BLE001 - a crashing batch fails its prompts, not the run
            outputs = [{"generations": [None] * num_generations, "statistics": {}} for _ in inputs]
            error = f"{type(exc).__name__}: {exc}"[:300]
        latency = time.perf_counter() - start
        for prompt, output in zip(prompts, outputs):
            output["request"] = [request_record(prompt, latency, 0, error)] * len(output["generations"])
        return outputs
