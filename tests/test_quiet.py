"""Quiet output: a normal run prints the kit's lines and the bars of long work; `--verbose` brings back the
libraries' warnings, logs and internal progress bars (ktokit.quiet.quiet_libraries)."""

import os
import subprocess
import sys

import pytest
from kit_testing import LIBRARY_NOISE, ROOT, run_script

from ktokit.quiet import VERBOSE_ENV, take_verbose_flag

# Each library's way of making noise, one line each: hidden unless --verbose
NOISY = """
import logging, sys, warnings
from ktokit.quiet import quiet_libraries
quiet_libraries(load_transformers=True)
from datasets import Dataset
from transformers.utils import logging as transformers_logging
transformers_logging.get_logger("transformers.modeling_utils").warning("transformers Warning")
logging.getLogger("trl.trainer.kto_trainer").warning("[RANK 0] You have different amounts of desirable")
logging.getLogger("argilla.sdk").warning("argilla WARNING")
warnings.warn_explicit("a FutureWarning", FutureWarning, "x.py", 1, module="trl.trainer")
warnings.warn_explicit("User with username 'x' not found.", UserWarning, "c.py", 1, module="argilla.client")
Dataset.from_dict({"a": [1, 2]}).map(lambda row: row, desc="Map")
for _ in transformers_logging.tqdm(range(2), desc="Loading weights"):
    pass
"""
MARKERS = (
    "transformers Warning",
    "[RANK 0]",
    "argilla WARNING",
    "FutureWarning",
    "not found",
    "Map: 100%",
    "Loading weights: 100%",
)


def run_noisy(verbose: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != VERBOSE_ENV}
    env.update({VERBOSE_ENV: "1"} if verbose else {}, HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-c", NOISY], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_library_noise_is_hidden_and_verbose_brings_it_back():
    quiet = run_noisy(verbose=False)
    assert quiet.returncode == 0 and quiet.stdout + quiet.stderr == "", quiet.stderr[-3000:]
    verbose = run_noisy(verbose=True)
    assert verbose.returncode == 0, verbose.stderr[-3000:]
    assert [m for m in MARKERS if m not in verbose.stderr] == [], verbose.stderr[-3000:]


def test_every_script_takes_verbose_and_says_so_in_its_help(monkeypatch):
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    assert take_verbose_flag(["--language", "en", "--verbose"]) == (["--language", "en"], True)
    assert take_verbose_flag(["--language", "en"]) == (["--language", "en"], False)
    # what `--verbose` of `python -m ktokit` sets (and `make demo VERBOSE=1`), for the scripts it runs
    monkeypatch.setenv(VERBOSE_ENV, "1")
    assert take_verbose_flag(["--language", "en"]) == (["--language", "en"], True)
    help_text = run_script("export_kto.py", "--help", timeout=120).stdout
    assert "--verbose" in help_text and "own warnings" in help_text


@pytest.mark.slow  # builds two tiny models and generates with them: seconds, so not in the fast half
def test_a_generation_run_prints_only_the_kits_lines(tmp_path):
    """preference_gen.py on local tiny models: loading weights, saving the dataset, and their libraries'
    warnings would all show here; the kit's plan and summary must be all there is."""
    models = tmp_path / "tiny.yaml"
    models.write_text(
        "backend: transformers\nbatch_size: 2\ngeneration: {max_new_tokens: 8}\n"
        "tiny_recipe: {steps: 2, hidden_size: 32, intermediate_size: 64, num_layers: 1, num_heads: 2, "
        "num_kv_heads: 1, vocab_size: 400, batch_size: 4}\nmodels:\n"
        "  - {name: tiny-seed0, model: tiny, seed: 0}\n  - {name: tiny-seed1, model: tiny, seed: 1}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != VERBOSE_ENV}
    env.update(KTOKIT_HOME=str(tmp_path / "home"), HF_HUB_OFFLINE="1")
    args = ("--language", "en", "--models", str(models), "--sample", "2", "--output", str(tmp_path / "out"))
    result = run_script("preference_gen.py", *args, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "saved 2 rows" in result.stdout
    assert not LIBRARY_NOISE.search(result.stdout + result.stderr), result.stdout + result.stderr
