"""One line for every bad input, everywhere: every entry script and every `python -m ktokit` command,
with a table of bad inputs (missing files, broken YAML/JSON, wrong types, an unknown language, a bad
Hub id, an unreachable server, a refused key). Each ends in one `error:` line and exit status 2, with no
traceback, before any work: nothing changes on disk (or on the server).

In this process: the commands through `ktokit.cli.main`, the scripts through `runpy` as `python
script.py` runs them (their `__main__` block), so the table stays fast.
"""

import json
import runpy
import sys
from pathlib import Path

import pytest
from kit_testing import ROOT, free_port, stand_in_adapter

CLOSED = f"http://127.0.0.1:{free_port()}"  # nothing listens there: a server that is down
MISSING = "/nonexistent/ktokit-missing"


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A user's folder: broken and odd input files, a language whose recorded server is down."""
    from ktokit.annotate.credentials import save_target
    from ktokit.paths import write_private

    (tmp_path / "broken.yaml").write_text("learning_rate: [1e-4\nbeta: 0.1\n")
    (tmp_path / "list.yaml").write_text("- learning_rate\n- beta\n")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00bad")
    stand_in_adapter(tmp_path / "adapter")
    stand_in_adapter(tmp_path / "kto-a", base="org/base-one")  # a round two on the wrong base, or served
    (tmp_path / "round2.yaml").write_text("models: [tiny, {model: tiny, adapter: kto-a}]\n")
    (tmp_path / "served.yaml").write_text(
        "backend: openai\nbase_url: http://x/v1\nmodels: [{model: org/base-one, adapter: kto-a}]\n"
    )
    (tmp_path / "backup" / "en").mkdir(parents=True)
    (tmp_path / "backup" / "en" / "ktokit-backup.json").write_text('{"format": 1, "language": ')
    monkeypatch.setenv("KTOKIT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    down = tmp_path / "argilla-down"
    write_private(down / "credentials.json", {"api_url": CLOSED, "api_key": "k" * 12, "username": "owner"})
    save_target("en", {"kind": "local", "data_dir": str(down), "workspace": "en", "dataset": "haiku-en"})
    save_target("en:review", {"kind": "local", "data_dir": str(down), "workspace": "en", "dataset": "r"})
    return tmp_path


def tree(*roots: Path) -> dict[str, tuple[int, int]]:
    """Every file under `roots` with its size and modification time: what a command must not change."""
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for root in roots
        if root.exists()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def run(argv: list[str], capsys) -> tuple[int, str]:
    """A script as `python script.py ARGS` runs it, or `python -m ktokit ARGS`; (exit status, stderr)."""
    capsys.readouterr()
    if argv[0].endswith(".py"):
        old = sys.argv
        sys.argv = [str(ROOT / argv[0]), *argv[1:]]
        try:
            runpy.run_path(str(ROOT / argv[0]), run_name="__main__")
            code = 0
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.argv = old
    else:
        from ktokit.cli import main

        code = main(argv)
    return code, capsys.readouterr().err


BROKEN, LIST, BINARY = "broken.yaml", "list.yaml", "binary.yaml"
NOT_YAML = "is not valid YAML: expected ',' or ']'"
CASES = {  # argv -> what the one line must say
    # the entry scripts: recipes, values, languages, inputs, Hub ids, servers
    "train_kto.py --config broken.yaml": NOT_YAML,
    "train_kto.py --config list.yaml": "must hold options as `key: value` lines, not list",
    "train_kto.py --config binary.yaml": "is not a UTF-8 text file",
    f"train_kto.py --config {MISSING}.yaml": f"No such file or directory: {MISSING}.yaml",
    "train_kto.py --language en --num_train_epochs many": "--num-train-epochs: invalid float value: 'many'",
    "train_kto.py --language en --use_peft maybe": "--use_peft/--use-peft: Truthy value expected",
    "train_kto.py --language xx": "no language pack 'xx'",
    f"train_kto.py --language en --dataset_name {MISSING}": f"no KTO dataset at '{MISSING}'",
    "train_kto.py --language en --push_to_hub --hub_model_id not/a/repo": "not/a/repo",
    f"train_kto.py --language en --adapter {MISSING}": "is not a LoRA adapter folder",
    "train_kto.py --language en --model_name_or_path tiny --adapter adapter": (
        "adapter 'adapter' was trained on 'some-org/some-base', not on 'tiny'"
    ),
    "train_kto.py --language en --use_peft false --adapter adapter": "it needs --use_peft true",
    "preference_gen.py --config broken.yaml": NOT_YAML,
    "preference_gen.py --language xx": "no language pack 'xx'",
    "preference_gen.py --language en --sample some": "--sample: invalid int value: 'some'",
    "preference_gen.py --language en --models no-such-set": "no-such-set",
    "create_task.py --config broken.yaml": NOT_YAML,
    "create_task.py --language xx": "no language pack 'xx'",
    "create_task.py --language en --min_submitted two": "--min-submitted: invalid int value: 'two'",
    f"create_task.py --language en --generations {MISSING}": MISSING,
    "create_task.py --language en --space 'not a space id'": "not a space id",
    "create_task.py --language en --round 0": "--round must be 1 or more",
    "create_task.py --language en --round two": "--round: invalid int value: 'two'",
    "preference_gen.py --language en --models round2.yaml": "was trained on 'org/base-one', not on 'tiny'",
    "preference_gen.py --language en --models served.yaml": "loads nothing locally: serve the adapter",
    "export_kto.py --config broken.yaml": NOT_YAML,
    "export_kto.py --language xx": "no language pack 'xx'",
    "export_kto.py --language en": f"the local Argilla server ({CLOSED})",
    "export_kto.py --language en --test_size lots": "--test-size: invalid float value: 'lots'",
    "export_kto.py --language en --rounds x": "--rounds 'x': 'x' is not a round number",
    "export_kto.py --language en --rounds 1,0": "--rounds '1,0': round numbers start at 1, got 0",
    # the commands
    "python -m ktokit validate xx": "no language pack 'xx'",
    "python -m ktokit check --language xx": "no language pack 'xx'",
    "python -m ktokit count --counter zz": "zz",
    "python -m ktokit new-language '!!' --name Bang": "is not a language code",
    "python -m ktokit tiny-model --language en --seed one": "--seed: invalid int value: 'one'",
    "python -m ktokit tiny-model --language xx": "no language pack 'xx'",
    "python -m ktokit draft-prompts --language en --from xx": "no language pack 'xx'",
    f"python -m ktokit draft-prompts --language en --topics {MISSING}.txt": MISSING,
    "python -m ktokit draft-examples --language xx": "no language pack 'xx'",
    "python -m ktokit draft-examples --language en --n few": "--n: invalid int value: 'few'",
    f"python -m ktokit review-pack --language en --drafts {MISSING}": MISSING,
    "python -m ktokit review-pack --language en --space 'not a space id'": "not a space id",
    "python -m ktokit accept-pack --language en": f"the local Argilla server ({CLOSED})",
    "python -m ktokit argilla up --port 70000": "--port 70000 is not a port number",
    "python -m ktokit argilla up --port six": "--port: invalid int value: 'six'",
    f"python -m ktokit argilla --data-dir {MISSING} add-annotator ana": "no local Argilla server set up",
    f"python -m ktokit argilla --data-dir {MISSING} reset-password ana": "no local Argilla server set up",
    f"python -m ktokit argilla --data-dir {MISSING} logs": "no logs in",
    "python -m ktokit argilla --data-dir argilla-down add-annotator ana": "is not running",
    "python -m ktokit argilla frobnicate": "invalid choice: 'frobnicate'",
    f"python -m ktokit evaluate --language en --adapter {MISSING}": MISSING,
    "python -m ktokit evaluate --language en --prompts some": "--prompts: invalid int value: 'some'",
    f"python -m ktokit demo-space --language en --adapter {MISSING}": MISSING,
    "python -m ktokit demo-space --language en --adapter adapter --space 'not a space id'": "not a space id",
    "python -m ktokit demo --language xx": "no language pack 'xx'",
    "python -m ktokit progress --language en": f"the local Argilla server ({CLOSED})",
    "python -m ktokit progress --language xx": "no annotation dataset recorded for 'xx'",
    "python -m ktokit progress --language en --min-submitted two": "invalid int value: 'two'",
    "python -m ktokit backup --language en --to backups": f"the local Argilla server ({CLOSED})",
    "python -m ktokit backup --language en --to 'not a/repo id'": "not a/repo id",
    f"python -m ktokit restore --language en --from {MISSING} --local": f"no backup folder {MISSING}",
    "python -m ktokit restore --language en --from backup --local": "cannot read",
    "python -m ktokit dashboard --language en --space 'not a space id'": "not a space id",
    "python -m ktokit dashboard --language en --backup-every often": "invalid",
    "python -m ktokit no-such-command": "invalid choice: 'no-such-command'",
}


@pytest.mark.parametrize("command", list(CASES))
def test_bad_input_is_one_error_line_and_changes_nothing(command, work, capsys):
    import shlex

    argv = shlex.split(command)
    argv = argv[3:] if argv[:3] == ["python", "-m", "ktokit"] else argv
    before = tree(work, ROOT / "languages", ROOT / "outputs")
    code, err = run(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert "Traceback" not in err
    assert lines and lines[-1].startswith("error: ") and CASES[command] in lines[-1], err
    assert sum(line.startswith("error: ") for line in lines) == 1 and "usage:" not in err
    assert tree(work, ROOT / "languages", ROOT / "outputs") == before  # nothing written, nothing changed
    assert json.loads((work / "config" / "argilla-targets.json").read_text())["en"]["data_dir"]


REFUSED = (  # the recorded server answers, but refuses the key
    "export_kto.py --language en",
    "python -m ktokit progress --language en",
    "python -m ktokit backup --language en --to backups",
    "python -m ktokit accept-pack --language en",
    "python -m ktokit argilla --data-dir refused add-annotator ana",
)


@pytest.mark.server
def test_a_refused_key_is_one_line_and_changes_nothing_on_the_server(work, argilla_server, capsys):
    import shlex

    import httpx

    from ktokit.annotate.credentials import save_target
    from ktokit.paths import write_private

    refused = work / "refused"
    creds = {"api_url": argilla_server["api_url"], "api_key": "not-the-owners-key", "username": "owner"}
    write_private(refused / "credentials.json", creds)
    save_target("en", {"kind": "local", "data_dir": str(refused), "workspace": "en", "dataset": "haiku-en"})
    save_target("en:review", {"kind": "local", "data_dir": str(refused), "workspace": "en", "dataset": "r"})
    owner = httpx.Client(
        base_url=argilla_server["api_url"], headers={"X-Argilla-Api-Key": argilla_server["api_key"]}
    )

    def server_state():
        return [
            owner.get(path).json()
            for path in ("/api/v1/me/datasets", "/api/v1/users", "/api/v1/me/workspaces")
        ]

    before, files = server_state(), tree(work)
    for command in REFUSED:
        argv = shlex.split(command)
        code, err = run(argv[3:] if argv[0] == "python" else argv, capsys)
        lines = err.strip().splitlines()
        assert code == 2 and "Traceback" not in err, err
        assert lines[-1].startswith("error: ") and sum(x.startswith("error: ") for x in lines) == 1, err
        assert "refused the API key" in lines[-1] or "Could not validate credentials" in lines[-1], err
        assert "not-the-owners-key" not in err
    assert server_state() == before and tree(work) == files
