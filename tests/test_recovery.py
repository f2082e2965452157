"""What survives a kill, a full disk and another copy of the kit, without the Argilla server.

The local server's processes are recognised by their data dir (not by the checkout that started
them), a PID that belongs to another program is never signalled, a file the kit writes is whole or
not there, a folder swap leaves the previous folder findable, and `train_kto.py` killed after a
checkpoint resumes from it. The crash tests on the real server: tests/argilla/test_crashes.py.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from kit_testing import ROOT, run_killed, run_kit, run_script

from ktokit.annotate.argilla_local.processes import Layout, read_pid, spawn, stop_all
from ktokit.paths import atomic_file, replace_folder, settled_folder, write_json, write_jsonl

KILLED = -signal.SIGKILL


def sleeper(env: dict | None = None) -> subprocess.Popen:
    """Another program: a process of its own session that the kit did not start."""
    return subprocess.Popen(["sleep", "60"], start_new_session=True, env=env)


def test_a_pid_of_another_program_is_never_signalled_and_its_pid_file_stays(tmp_path):
    layout = Layout(tmp_path / "argilla")
    layout.run.mkdir(parents=True)
    other = sleeper()
    mimic = sleeper(
        {**os.environ, "KTOKIT_ARGILLA_DATA_DIR": str(layout.root), "KTOKIT_ARGILLA_INSTANCE": "x"}
    )
    try:
        layout.pid_file("server").write_text(f"{other.pid}\n")  # a stale file; the PID reused since
        layout.pid_file("worker").write_text(f"{mimic.pid}\n")  # this data dir's path, not its token
        layout.marks()  # the data dir's token exists
        assert read_pid(layout, "server") is None and read_pid(layout, "worker") is None
        down = run_kit("argilla", "--data-dir", str(layout.root), "down")
        assert down.returncode == 0 and "Nothing was running." in down.stderr
        assert other.poll() is None and mimic.poll() is None  # both still run
        assert layout.pid_file("server").exists() and layout.pid_file("worker").exists()
        status = run_kit("argilla", "--data-dir", str(layout.root), "status")
        assert status.stdout.splitlines()[0].endswith(": stopped")
    finally:
        other.kill()
        mimic.kill()
        other.wait()
        mimic.wait()
    assert stop_all(layout, ("server", "worker")) == []
    assert not layout.pid_file("server").exists()  # its process gone: now the file goes


def test_another_clone_recognises_and_stops_the_data_dirs_processes(tmp_path):
    """The processes of a data dir, seen from a copy of the kit in another folder (another clone, another
    install): recognised, and stopped by its `argilla down`. Stand-in processes: the real server's
    version of this is in tests/argilla/test_crashes.py."""
    layout = Layout(tmp_path / "argilla")
    for folder in (layout.run, layout.logs):
        folder.mkdir(parents=True)
    pids = {name: spawn(layout, name, ["sleep", "60"]) for name in ("server", "worker")}
    clone = tmp_path / "clone"
    shutil.copytree(ROOT / "ktokit", clone / "ktokit", ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(clone)}
    seen = subprocess.run(
        [sys.executable, "-c", "import sys, ktokit\nfrom ktokit.annotate.argilla_local.processes import *\n"
         "print(ktokit.__file__, *(read_pid(Layout(sys.argv[1]), n) for n in ('server', 'worker')))",
         str(layout.root)],
        cwd=clone, env={**os.environ, **env}, capture_output=True, text=True,
    )  # fmt: skip
    assert seen.stdout.split() == [str(clone / "ktokit" / "__init__.py"), *map(str, pids.values())]
    down = run_kit("argilla", "--data-dir", str(layout.root), "down", cwd=clone, env=env)
    assert down.returncode == 0 and "Stopped worker, server." in down.stderr, down.stderr
    for pid in pids.values():
        os.waitpid(pid, 0)  # the sleeps are this test's children: reaped here, killed by the clone
    assert not any(layout.pid_file(n).exists() for n in ("server", "worker"))


WRITER = """
import sys
from ktokit.paths import write_json
for n in range(10_000):
    write_json(sys.argv[1], {"version": n, "rows": [{"text": "haiku " * 20, "n": i} for i in range(5000)]})
"""


def test_a_file_killed_mid_write_is_the_old_one_or_the_new_one(tmp_path):
    target = tmp_path / "export_summary.json"
    write_json(target, {"version": -1})
    for delay in (0.01, 0.05, 0.2):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], cwd=ROOT)
        first = target.stat().st_mtime_ns
        while target.stat().st_mtime_ns == first:  # the writes have begun: the kill falls among them
            time.sleep(0.005)
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        data = json.loads(target.read_text())  # never a half-written file
        assert data["version"] >= 0 and len(data["rows"]) == 5000
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == [target.name]


FULL_DISK = """
import resource, signal, sys
from ktokit.console import run_command
from ktokit.paths import write_json
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails (EFBIG), as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
sys.exit(run_command(lambda: write_json(sys.argv[1], {"rows": ["haiku " * 20] * 5000})))
"""


def test_a_write_the_disk_refuses_leaves_the_old_file_and_one_line(tmp_path):
    target = tmp_path / "card.json"
    write_json(target, {"old": True})
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(target)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: File too large: {target} (nothing half-written was left: free some space and rerun)"
    ]
    assert json.loads(target.read_text()) == {"old": True}
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left either


def test_atomic_file_keeps_the_old_file_when_the_write_fails(tmp_path):
    target = tmp_path / "targets.json"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old\n" and list(tmp_path.iterdir()) == [target]
    with atomic_file(tmp_path / "secret.json", private=True) as handle:
        handle.write("{}")
    assert (tmp_path / "secret.json").stat().st_mode & 0o777 == 0o600


def test_a_folder_swap_cut_between_its_renames_leaves_the_previous_folder(tmp_path):
    final = tmp_path / "es"
    final.mkdir()
    (final / "records.json").write_text("[1]")
    new = tmp_path / ".es.incoming"
    new.mkdir()
    (new / "records.json").write_text("[1, 2]")
    cut = run_killed(
        "pathlib:Path.rename", 1, "languages", setup=f"from ktokit.paths import replace_folder as r; "
        f"r({str(new)!r}, {str(final)!r})"
    )  # fmt: skip
    assert cut.returncode == KILLED
    assert not final.exists() and (tmp_path / ".es.old" / "records.json").read_text() == "[1]"
    assert (settled_folder(final) / "records.json").read_text() == "[1]"  # what a reader finds: the old one
    assert final.is_dir() and not (tmp_path / ".es.old").exists()  # moved back into place
    replace_folder(new, final)
    assert (final / "records.json").read_text() == "[1, 2]"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["es"]


def test_an_append_after_a_line_cut_short_keeps_the_new_rows(tmp_path):
    path = tmp_path / "checkpoint.jsonl"
    row = {"generations": [], "detected_languages": []}
    path.write_text(json.dumps({"input": "a", **row}) + '\n{"input": "b", "gen')  # a run killed mid-line
    write_jsonl(path, [{"input": "c", **row}], append=True)
    from ktokit.generate.output import read_checkpoint

    assert sorted(read_checkpoint(tmp_path)) == ["a", "c"]  # b is redone; c is not lost with it


@pytest.mark.slow
def test_train_killed_after_a_checkpoint_resumes_from_it(tmp_path):
    """(e) `train_kto.py` killed right after it saved checkpoint-2: `--resume_from_checkpoint` goes on
    from there (the checkpoint is not written again) to the last step, and writes the adapter."""
    from datasets import Dataset

    from ktokit.packs.languages import load_pack

    pack = load_pack("en")
    rows = [
        {
            "prompt": pack.prompts[i],
            "completion": pack.examples[i % len(pack.examples)] if i % 2 else pack.examples[i][::-1],
            "label": bool(i % 2),
        }
        for i in range(16)
    ]
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "kto"))
    out = tmp_path / "model"
    args = ("train_kto.py", "--config", str(ROOT / "recipes" / "cpu-smoke.yaml"), "--language", "en")
    args += ("--dataset_name", str(tmp_path / "kto"), "--output_dir", str(out), "--max_steps", "6")
    args += ("--save_strategy", "steps", "--save_steps", "2", "--per_device_train_batch_size", "4")
    env = {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cut = run_killed("transformers.trainer:Trainer._save_checkpoint", 1, *args, env=env)
    assert cut.returncode == KILLED, cut.stderr[-3000:]
    checkpoint = out / "checkpoint-2"
    saved = {p.name: p.stat().st_mtime_ns for p in checkpoint.iterdir()}
    assert json.loads((checkpoint / "trainer_state.json").read_text())["global_step"] == 2
    assert not (out / "metrics.json").exists()  # the run did not finish

    resumed = run_script(*args, "--resume_from_checkpoint", str(checkpoint), env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert {p.name: p.stat().st_mtime_ns for p in checkpoint.iterdir()} == saved  # went on from it
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["global_step"] == 6 and (out / "adapter_model.safetensors").exists()
    assert [h["step"] for h in metrics["log_history"] if "loss" in h] == [2, 4, 6]
