"""The Hub layer: one repo-id check (refused in one line before any work, in every command that takes one),
TRL's spelling of the Hub options with the old spellings kept for a release, Hub errors, card headers."""

from __future__ import annotations

import re

import httpx
import pytest
import yaml
from kit_testing import ROOT, assert_one_error_line, run_script

from ktokit.console import KitError
from ktokit.hub import (
    card_header,
    check_repo_id,
    hub_aliases,
    hub_error,
    is_hub_failure,
    is_hub_id,
    is_hub_target,
)

# Ids the Hub refuses; huggingface_hub's validate_repo_id refuses them too, the old kit rules did not all.
REFUSED = ["org/foo--bar", "org/foo.git", "org/foo.", "org/.foo", "org/foo..bar", "foo", "a/b/c", "", "/x"]
REFUSED += ["org/foo bar", "org/café", "org/" + "x" * 97, "o" * 97 + "/x"]
ACCEPTED = ["my-org/haiku-es", "Kit-Community/haiku_ja.v2", "org/" + "x" * 96, "a/b"]


@pytest.mark.parametrize("repo_id", REFUSED)
def test_ids_the_hub_refuses_are_one_line(repo_id):
    with pytest.raises(KitError, match="ORG/NAME") as error:
        check_repo_id(repo_id, "--hub_model_id")
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"--hub_model_id {repo_id!r} is not a repo id")
    assert not is_hub_id(repo_id)


@pytest.mark.parametrize("repo_id", ACCEPTED)
def test_ids_the_hub_accepts_pass(repo_id):
    assert check_repo_id(repo_id) == repo_id and is_hub_id(repo_id)


def test_the_reason_is_said_in_plain_words():
    reasons = {
        "org/foo--bar": "'--' and '..' are not allowed",
        "org/foo.git": "cannot end in '.git'",
        "org/foo.": "cannot start or end with '-' or '.'",
        "foo": "exactly one '/'",
        "org/foo bar": "' ' is not allowed",
        "org/" + "x" * 97: "at most 96 characters",
    }
    for repo_id, reason in reasons.items():
        with pytest.raises(KitError, match=reason.replace(".", r"\.").replace("'", ".")):
            check_repo_id(repo_id)
    # TRL's hub_model_id may be a bare NAME (the user's own namespace); its rules still hold
    assert check_repo_id("haiku-kto", "--hub_model_id", bare_name=True) == "haiku-kto"
    with pytest.raises(KitError, match="'--' and '..'"):
        check_repo_id("haiku--kto", "--hub_model_id", bare_name=True)


def test_folder_or_hub_repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert is_hub_target("my-org/backups")
    assert not is_hub_target("./my-org/backups") and not is_hub_target("backups")
    assert not is_hub_target(str(tmp_path / "x")) and not is_hub_target("a/b/c")
    (tmp_path / "my-org" / "backups").mkdir(parents=True)
    assert not is_hub_target("my-org/backups")  # a folder of that name here wins
    local = r"\(or \./my-org/x--y for a new local folder\)"
    with pytest.raises(KitError, match=r"--from 'my-org/x--y' .*" + local):
        is_hub_target("my-org/x--y", "--from")


def test_backup_refuses_a_bad_repo_before_reading_the_server(tmp_path, monkeypatch):
    from ktokit.campaign.backup import backup

    monkeypatch.setenv("KTOKIT_CONFIG_DIR", str(tmp_path / "config"))  # no server recorded anywhere
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KitError, match="--to 'my-org/kto.git' is not a repo id"):
        backup("ja", "my-org/kto.git")


@pytest.mark.parametrize(
    "args",
    [
        ["dashboard", "--language", "ja", "--space", "org/foo--bar", "--dry-run"],
        ["demo-space", "--language", "ja", "--adapter", "nowhere", "--space", "org/foo.git", "--dry-run"],
        ["restore", "--language", "ja", "--from", "nowhere", "--space", "org/foo."],
    ],
)
def test_kit_commands_refuse_a_bad_space_first(args, capsys):
    from ktokit.cli import main as kit

    assert kit(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --space 'org/foo") and "ORG/NAME" in err[0]


# ---- each entry script refuses a bad repo id before any work -------------------------------------------


@pytest.mark.parametrize(
    "script, args",
    [
        ("preference_gen.py", ["--language", "en", "--sample", "1"]),
        ("export_kto.py", ["--language", "en"]),
        ("create_task.py", ["--language", "en", "--dry_run"]),
    ],
)
def test_scripts_refuse_a_bad_repo_id_before_any_work(script, args, tmp_path):
    flags = ["--space", "org/foo--bar"] if script == "create_task.py" else ["--push_to_hub"]
    flags += [] if script == "create_task.py" else ["--hub_model_id", "org/foo--bar"]
    env = {"KTOKIT_CONFIG_DIR": str(tmp_path / "config"), "HF_TOKEN": "", "HF_HOME": str(tmp_path / "hf")}
    proc = run_script(script, *args, *flags, env=env, cwd=tmp_path, timeout=300)
    refused = "'org/foo--bar' is not a repo id the Hub accepts: '--' and '..' are not allowed"
    assert_one_error_line(proc, refused)
    assert proc.stdout == "" and not any(tmp_path.glob("outputs"))  # no plan, no generation, no export


def test_train_refuses_a_bad_repo_id_before_loading_anything(tmp_path, capsys):
    from ktokit.train.run import main as train_main

    missing = tmp_path / "no-such-dataset"
    argv = ["--model_name_or_path", "tiny", "--language", "ja", "--dataset_name", str(missing)]
    argv += ["--output_dir", str(tmp_path / "out"), "--push_to_hub", "--hub_model_id", "me/kto.git"]
    assert train_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "error: --hub_model_id 'me/kto.git' is not a repo id the Hub accepts: it cannot end in '.git'; "
        "write ORG/NAME with letters, digits, '-', '_' and '.', e.g. my-org/haiku-es"
    )
    assert not (tmp_path / "out").exists()


# ---- TRL's spelling of the Hub options; the old one for one more release ----------------------------------


def parse(classes, argv, **defaults):
    from trl import TrlParser

    parser = TrlParser(classes)
    parser.set_defaults(**defaults)
    return parser.parse_args_and_config(hub_aliases(argv))


def test_old_spellings_still_work_with_a_notice(capsys):
    from ktokit.export.build import ExportArguments
    from ktokit.generate import GenerationArguments

    for classes in ([GenerationArguments], [ExportArguments]):
        (new,) = parse(classes, ["--language", "en", "--push_to_hub", "--hub_model_id", "me/x"])
        assert (new.push_to_hub, new.hub_model_id, new.hub_private_repo) == (True, "me/x", False)
        assert capsys.readouterr().err == ""  # the new spelling: no notice
        for old in (["--push_to_hub", "me/x", "--private"], ["--push-to-hub=me/x", "--private", "true"]):
            (args,) = parse(classes, ["--language", "en", *old])
            assert (args.push_to_hub, args.hub_model_id, args.hub_private_repo) == (True, "me/x", True)
            notes = capsys.readouterr().err.splitlines()
            assert len(notes) == 2 and all(n.startswith("deprecated: ") for n in notes)
            assert notes[0].endswith(
                "; write --push_to_hub --hub_model_id me/x (the old spelling stops "
                "working in the next release)"
            )
            assert "write --hub_private_repo" in notes[1]


def test_train_old_spellings_reach_trls_options(capsys):
    from ktokit.train.arguments import argument_classes, parser_defaults

    argv = ["--output_dir", "out", "--hub_repo", "me/kto", "--hub_private"]
    _, _, training, _ = parse(argument_classes(), argv, **parser_defaults())
    assert (training.push_to_hub, training.hub_model_id, training.hub_private_repo) == (True, "me/kto", True)
    err = capsys.readouterr().err
    assert "deprecated: --hub_repo me/kto; write --push_to_hub --hub_model_id me/kto" in err
    assert "deprecated: --hub_private; write --hub_private_repo" in err


def test_old_keys_of_a_config_file_still_work(tmp_path, capsys):
    from ktokit.generate import GenerationArguments

    config = tmp_path / "gen.yaml"
    config.write_text("language: en\npush_to_hub: me/gen\nprivate: true\nsample: 2\n")
    (args,) = parse([GenerationArguments], ["--config", str(config)])
    assert (args.push_to_hub, args.hub_model_id, args.hub_private_repo) == (True, "me/gen", True)
    assert args.sample == 2  # the other keys are read as they are
    err = capsys.readouterr().err
    assert f"deprecated: `push_to_hub: me/gen` in {config}" in err and "`hub_model_id: me/gen`" in err
    assert yaml.safe_load(config.read_text())["push_to_hub"] == "me/gen"  # the user's file is left alone
    new = tmp_path / "new.yaml"
    new.write_text("language: en\npush_to_hub: true\nhub_model_id: me/gen\n")
    assert hub_aliases(["--config", str(new)]) == ["--config", str(new)]  # nothing to translate


# ---- Hub errors and dataset cards -------------------------------------------------------------------------


def test_hub_errors_are_recognised_by_class_and_said_in_one_line(monkeypatch):
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled, RepositoryNotFoundError

    monkeypatch.setenv("HF_TOKEN", "hf_NotARealToken123")
    request = httpx.Request("POST", "https://huggingface.co/api/repos/create")
    refused = HfHubHTTPError(
        "403 Forbidden: hf_NotARealToken123 cannot write\nmore", response=httpx.Response(403, request=request)
    )
    missing = RepositoryNotFoundError("404: no repo", response=httpx.Response(404, request=request))
    for exc in (refused, missing, OfflineModeIsEnabled("offline")):
        assert is_hub_failure(exc)
    assert not is_hub_failure(ValueError("a bug of ours")) and not is_hub_failure(KeyError("x"))
    line = str(hub_error("pushing to me/x", refused))
    assert "\n" not in line and "(HTTP 403)" in line and "write access" in line
    assert "hf_NotARealToken123" not in line and "***" in line


def test_card_headers_are_written_by_huggingface_hub():
    header = card_header(language=["no"], tags=["kto"], pretty_name="KTO Norsk: bokmål (no/x)")
    assert header.startswith("---\nlanguage:\n- 'no'\ntags:\n- kto\n") and header.endswith("\n---")
    assert yaml.safe_load(header.strip("-\n")) == {
        "language": ["no"],
        "tags": ["kto"],
        "pretty_name": "KTO Norsk: bokmål (no/x)",
    }


def test_docs_spell_the_hub_options_as_trl_does():
    """One flag style: the old spellings are named once (docs/train.md), never used."""
    old = re.compile(r"--push[-_]to[-_]hub[ =](?!-)|--hub[-_]repo\b|--hub[-_]private\b(?![-_]repo)")
    scripts = [ROOT / name for name in ("preference_gen.py", "export_kto.py", "train_kto.py")]
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *scripts]:
        text = path.read_text(encoding="utf-8")
        if path.name == "train.md":
            text = re.sub(r"The old spellings \(.*?naming the new spelling\.", "", text, flags=re.S)
        assert not old.findall(text), (path.name, old.findall(text))
