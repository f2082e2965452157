"""`preference_gen.py --runner ray`: distilabel's Ray pipeline on a real local Ray cluster.

The cluster is started as a campaign starts one (`ray start --head`, two worker CPUs) and the run joins it
with `--ray_address`; it gives the rows of the in-process runner, and a run stopped halfway resumes with
only what is missing. Ray is an optional extra: without it, one line says how to add it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from kit_testing import assert_one_error_line, free_port, run_script, script_command
from scripted_openai import ScriptedOpenAI

from ktokit.console import KitError
from ktokit.generate import GenerationArguments, generate_responses

pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211")
SAMPLE = 6


def model_set(path: Path, base_url: str, **extra: str) -> Path:
    """Two models, batches of two prompts, one request at a time: a run long enough to stop halfway."""
    lines = [f"backend: openai\nbase_url: {base_url}\nconcurrency: 1\nbatch_size: 2\nmax_retries: 0"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    lines += ["models:", "  - {model: org/model-a, replicas: 1, cpus: 1}", "  - model: org/model-b"]
    path.write_text("\n".join(lines) + "\n")
    return path


def rows_of(output: Path) -> list[dict]:
    return [
        json.loads(line) for line in (output / "generations.jsonl").read_text(encoding="utf-8").splitlines()
    ]


def checkpoint_inputs(output: Path) -> list[str]:
    path = output / "checkpoint.jsonl"
    return [json.loads(line)["input"] for line in path.read_text().splitlines()] if path.is_file() else []


@pytest.fixture(scope="module")
def ray_cluster():
    """`ray start --head --num-cpus 2` in a temp dir of its own, stopped after by the ids of its processes
    (never `ray stop`, which stops every Ray on the machine)."""
    pytest.importorskip("ray", reason="the ray extra is not installed: pip install -e .[ray]")
    import psutil

    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    port = free_port()
    ray = str(Path(sys.executable).parent / "ray")
    command = [
        ray,
        "start",
        "--head",
        "--num-cpus",
        "2",
        "--port",
        str(port),
        "--node-ip-address",
        "127.0.0.1",
    ]
    command += ["--temp-dir", temp, "--include-dashboard", "false", "--disable-usage-stats"]
    started = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr[-2000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        mine = [
            p
            for p in psutil.process_iter(["cmdline"])
            if p.pid != os.getpid() and any(temp in arg for arg in p.info["cmdline"] or ())
        ]
        everything = {p.pid: p for p in mine + [c for p in mine for c in p.children(recursive=True)]}
        for proc in everything.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
        _, alive = psutil.wait_procs(list(everything.values()), timeout=3)
        for proc in alive:
            proc.kill()


def test_without_ray_the_runner_says_how_to_add_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as it does without the extra
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        KitError, match=r"^--runner ray needs Ray, an optional extra of the kit: pip install -e \.\[ray\]$"
    ):
        generate_responses(GenerationArguments(language="en", models="offline", sample=1, runner="ray"))
    with pytest.raises(KitError, match="use it with --runner ray"):
        GenerationArguments(language="en", runner="distilabel", ray_address="127.0.0.1:6379")
    proc = run_script("preference_gen.py", "--language", "en", "--runner", "sideways", "--dry-run")
    assert_one_error_line(proc, "unknown runner 'sideways'")


@pytest.mark.slow
def test_a_ray_cluster_gives_the_in_process_rows_and_resumes_what_is_missing(
    ray_cluster, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    api = ScriptedOpenAI(latency=0.3).start()
    try:
        generate_responses(
            GenerationArguments(
                language="en",
                models=str(model_set(tmp_path / "m.yaml", api.base_url)),
                sample=SAMPLE,
                output="local",
            )
        )
        # the model set asks for Ray (`runner: ray`); the command line names the cluster to join
        models = model_set(tmp_path / "ray.yaml", api.base_url, runner="ray")
        command = script_command(
            "preference_gen.py", "--language", "en", "--models", str(models), "--sample", str(SAMPLE),
            "--output", "ray", "--ray_address", ray_cluster,
        )  # fmt: skip
        proc = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.time() + 180
        while time.time() < deadline and proc.poll() is None and not checkpoint_inputs(tmp_path / "ray"):
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # the machine that ran the command is gone; its actors go with it
        proc.wait()
        time.sleep(2)  # the actors of the killed run die with it: nothing more is written after this
        first = checkpoint_inputs(tmp_path / "ray")
        assert 2 <= len(first) < SAMPLE, f"the run should have been stopped halfway: {first}"
        asked_before = len(api.log)
        rerun = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    finally:
        api.stop()
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"runner:    ray (Ray: {ray_cluster})" in rerun.stderr
    assert f"{len(first)} done earlier and skipped" in rerun.stdout
    assert not {prompt for _, prompt, _ in api.log[asked_before:]} & set(first)  # only what was missing
    local, ray = rows_of(tmp_path / "local"), rows_of(tmp_path / "ray")
    strip = lambda rows: [{k: v for k, v in r.items() if k != "requests"} for r in rows]  # noqa: E731
    assert len(ray) == len(local) == SAMPLE and [list(r) for r in ray] == [list(r) for r in local]
    assert strip(ray) == strip(local)
    assert all(r["generations"] for r in ray)  # two runs that generated nothing would compare equal too
