"""The openai backend against a real OpenAI-compatible server: `transformers serve` with a tiny model.

vLLM, TGI, llama.cpp and Ollama speak the same Chat Completions API; `transformers serve` is the one that
ships with the kit's own transformers and runs on a CPU, so the backend is tested against a real server
here, not only against the scripted one (tests/scripted_openai.py), which stays for what a real server
cannot be made to do on demand: 429 with Retry-After, 5xx, timeouts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from kit_testing import free_port
from scripted_openai import ScriptedOpenAI

from ktokit.generate import GenerationArguments, generate_responses
from ktokit.generate.pipeline import COLUMNS

pytestmark = [
    pytest.mark.slow,  # a server process and a model load: ~10 s
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211"),
]
FAST_RECIPE = dict(
    steps=3, hidden_size=32, intermediate_size=64, num_layers=1, num_heads=2, num_kv_heads=1, vocab_size=400
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`transformers serve` on a free port with the en pack's tiny model preloaded; its base URL."""
    from ktokit.generate.tiny import TinyRecipe, tiny_model

    model = tiny_model("en", 0, recipe=TinyRecipe(**FAST_RECIPE), cache_dir=tmp_path_factory.mktemp("tiny"))
    port = free_port()
    command = [str(Path(sys.executable).parent / "transformers"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--device", "cpu", str(model)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            assert proc.poll() is None, f"transformers serve exited: {log.read_text()[-2000:]}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail(f"transformers serve did not answer in 120 s: {log.read_text()[-2000:]}")
        yield {"base_url": f"http://127.0.0.1:{port}/v1", "model": str(model)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def model_set(path: Path, base_url: str, model: str) -> Path:
    """Two models of a set answered by the one served model (the server loads `model`, whatever its name)."""
    path.write_text(
        f"backend: openai\nbase_url: {base_url}\nconcurrency: 2\nbatch_size: 2\nmax_retries: 1\n"
        "generation: {max_new_tokens: 24, temperature: 0.8}\nmodels:\n"
        + "".join(f"  - {{name: {name}, model: {json.dumps(model)}}}\n" for name in ("served-a", "served-b"))
    )
    return path


def rows_of(output: Path) -> list[dict]:
    return [
        json.loads(line) for line in (output / "generations.jsonl").read_text(encoding="utf-8").splitlines()
    ]


def test_the_openai_backend_against_transformers_serve(served, tmp_path, monkeypatch):
    from ktokit.packs.languages import load_pack

    monkeypatch.chdir(tmp_path)
    pack = load_pack("en")
    models = model_set(tmp_path / "served.yaml", served["base_url"], served["model"])
    result = generate_responses(
        GenerationArguments(language="en", models=str(models), sample=3, output="out")
    )
    rows = rows_of(Path("out"))
    assert [r["input"] for r in rows] == pack.prompts[:3]
    assert list(rows[0]) == COLUMNS
    requests = [q for r in rows for q in r["requests"]]
    assert sorted(q["model"] for q in requests) == ["served-a"] * 3 + ["served-b"] * 3
    # every request answered by the server: no HTTP error, no retry, a measured latency
    assert all(q["retries"] == 0 and q["latency_s"] > 0 for q in requests)
    assert all(q["error"] in ("", "empty answer", "nothing left after cleaning") for q in requests), requests
    assert any(r["generations"] for r in rows)  # a server that answered nothing would pass the lines above
    for row in rows:
        n = len(row["generations"])
        assert len(row["form_checks"]) == len(row["detected_languages"]) == len(row["generation_model"]) == n
        assert all(c["verdict"] in ("pass", "fail") for c in row["form_checks"])
        # the exact messages sent: the pack's system prompt, then the prompt
        for sent in row["generation_prompt"]:
            assert json.loads(sent) == pack.messages(row["input"])
    assert {s for s in result.stats} == {"served-a", "served-b"}

    # the same rows, request records and form checks as against the scripted server
    with ScriptedOpenAI() as api:
        generate_responses(
            GenerationArguments(
                language="en",
                models=str(model_set(tmp_path / "s.yaml", api.base_url, "m")),
                sample=3,
                output="s",
            )
        )
    scripted = rows_of(Path("s"))
    assert [list(r) for r in scripted] == [list(r) for r in rows]
    assert {tuple(q) for r in scripted for q in r["requests"]} == {tuple(q) for q in requests}
    assert {tuple(c) for r in scripted for c in r["form_checks"]} == {
        tuple(c) for r in rows for c in r["form_checks"]
    }
