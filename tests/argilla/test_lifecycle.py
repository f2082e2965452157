"""up / down / status / logs / add-annotator, restarts, crashes, and secrets staying secret."""

import json
import os
import signal
import socket
import stat
import subprocess
import time

import pytest
from kit_testing import run_kit

from ktokit.annotate.argilla_local import ensure_running, local_credentials, manager
from ktokit.console import KitError


def cli(*args: str) -> subprocess.CompletedProcess:
    return run_kit("argilla", *args)


@pytest.mark.server
def test_up_twice_is_safe(argilla_server):
    before = manager.status(argilla_server["data_dir"])["processes"]
    t = time.monotonic()
    creds = manager.up(argilla_server["data_dir"], say=lambda _: None)
    assert time.monotonic() - t < 3
    assert creds["api_key"] == argilla_server["api_key"]
    assert manager.status(argilla_server["data_dir"])["processes"] == before


@pytest.mark.server
def test_restart_and_crash_keep_everything(haiku_dataset, annotator, argilla_server, client):
    data_dir = argilla_server["data_dir"]
    ds = haiku_dataset(5)
    carol = annotator(ds.workspace.name)
    record = carol.pending(str(ds.id))["items"][0]["record"]
    assert carol.submit(record["id"], "good").status_code == 201

    manager.down(data_dir, say=lambda _: None)
    info = manager.status(data_dir)
    assert not info["running"] and not info["healthy"]
    assert not any(info["processes"].values())
    assert ensure_running(data_dir)["api_key"] == argilla_server["api_key"]
    assert manager.status(data_dir)["healthy"]

    assert carol.http.get("/api/v1/me").status_code == 200  # her UI session survived the restart
    assert carol.pending(str(ds.id))["total"] == 4
    assert client.datasets(name=ds.name, workspace=ds.workspace.name).progress()["completed"] == 1

    os.kill(manager.status(data_dir)["processes"]["server"], signal.SIGKILL)  # a crash
    time.sleep(0.5)
    assert not manager.status(data_dir)["healthy"]
    ensure_running(data_dir)
    again = client.datasets(name=ds.name, workspace=ds.workspace.name)
    records = list(again.records(with_responses=True))
    assert len(records) == 5
    assert [r.responses["label"][0].value for r in records if r.responses["label"]] == ["good"]


@pytest.mark.server
def test_status_json_and_logs_never_show_secrets(argilla_server, haiku_dataset):
    ds = haiku_dataset(3)
    data_dir = str(argilla_server["data_dir"])
    secrets_ = (argilla_server["api_key"], argilla_server["password"])

    status = cli("--data-dir", data_dir, "status", "--json")
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["healthy"] and info["api_url"] == argilla_server["api_url"]
    assert info["credentials_file"] == str(argilla_server["data_dir"] / "credentials.json")
    assert {
        "name": ds.name,
        "workspace": ds.workspace.name,
        "status": "ready",
        "records": 3,
        "completed": 0,
    } in info["datasets"]
    human = cli("--data-dir", data_dir, "status")
    assert f"{ds.workspace.name}/{ds.name}: 3 records" in human.stdout
    logs = cli("--data-dir", data_dir, "logs", "-n", "500")
    assert "Uvicorn running" in logs.stdout

    printed = status.stdout + status.stderr + human.stdout + human.stderr + logs.stdout + logs.stderr
    printed += "\n".join(argilla_server["said"])
    printed += "".join(p.read_text(errors="replace") for p in (argilla_server["data_dir"] / "logs").iterdir())
    for secret in secrets_:
        assert secret not in printed

    creds_file = argilla_server["data_dir"] / "credentials.json"
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    creds = json.loads(creds_file.read_text())
    assert {"api_url", "api_key", "username", "password"} <= set(creds)
    assert len(creds["api_key"]) >= 8 and len(creds["password"]) >= 8
    assert local_credentials(argilla_server["data_dir"]) == creds


@pytest.mark.server
def test_add_annotator_prints_password_once(argilla_server):
    data_dir = str(argilla_server["data_dir"])
    out = cli("--data-dir", data_dir, "add-annotator", "dora", "--workspace", "es")
    assert out.returncode == 0, out.stderr
    password = out.stdout.split("password:")[1].split()[0]
    assert len(password) >= 8
    assert all(
        password not in p.read_text(errors="replace") for p in argilla_server["data_dir"].rglob("*.json")
    )
    again = cli("--data-dir", data_dir, "add-annotator", "dora")
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        "error: cannot add annotator 'dora': User username `dora` is not unique"
    ]


def test_user_errors_are_one_line(tmp_path):
    with pytest.raises(KitError, match="no local Argilla server set up in .*argilla up"):
        local_credentials(tmp_path / "nothing")
    with pytest.raises(KitError, match="no local Argilla server set up"):
        manager.add_annotator("eve", data_dir=tmp_path / "nothing")
    assert cli("--data-dir", str(tmp_path / "nothing"), "status").stdout.strip().endswith("stopped")
    bad = cli("--data-dir", str(tmp_path / "x"), "up", "--port", "70000")
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --port 70000 is not a port number (1-65535)"


def test_busy_port_and_lan_warning(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        said: list[str] = []
        with pytest.raises(KitError, match=f"port {port} .* in use"):
            manager.up(tmp_path / "lan", port=port, host="0.0.0.0", say=said.append)
    assert len(said) == 1 and said[0].startswith("warning: --host 0.0.0.0 makes the server reachable")
