import os
import subprocess
import sys
from pathlib import Path

import pytest
from kit_testing import OAUTH_CLIENT_ID, SPACE_LANGUAGE

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Every server the tests start is configured like the Space: HF sign-in with a dummy OAuth app
# (set for the whole session, so a server restarted by a test keeps it).
os.environ["OAUTH2_HUGGINGFACE_CLIENT_ID"] = OAUTH_CLIENT_ID
os.environ["OAUTH2_HUGGINGFACE_CLIENT_SECRET"] = "dummy-secret"

ROOT = Path(__file__).resolve().parent.parent


def run_kit(*args: str, stdin: str = "", env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run `python -m ktokit ARGS` as a user would, capturing what they would see."""
    return subprocess.run(
        [sys.executable, "-m", "ktokit", *args], input=stdin, capture_output=True, text=True,
        cwd=cwd, env={**os.environ, **(env or {})}, timeout=300,
    )


@pytest.fixture
def kit():
    return run_kit


@pytest.fixture(scope="session")
def argilla_server(tmp_path_factory):
    """One real Argilla server (server + rq worker + Redis) for the whole session, on a free port.

    It reads the rendered Space `.oauth.yaml` from its working dir (the data dir), as the Space image
    does, so the same server also proves the Space files work. The server venv is built once into
    $KTOKIT_HOME and reused by later sessions (~1 min the first time).
    """
    from ktokit import spaces
    from ktokit.argilla_local import manager
    from ktokit.languages import load_pack

    data_dir = tmp_path_factory.mktemp("argilla")
    values = spaces.render_values(load_pack(SPACE_LANGUAGE), SPACE_LANGUAGE, f"haiku-{SPACE_LANGUAGE}", 2, "none")
    spaces.render_space(values, data_dir / "space")
    (data_dir / ".oauth.yaml").write_text((data_dir / "space" / ".oauth.yaml").read_text())
    said: list[str] = []
    creds = manager.up(data_dir, port=manager.free_port(), say=said.append)
    yield {"data_dir": data_dir, "said": said, **creds}
    manager.down(data_dir, say=said.append)


@pytest.fixture(scope="session")
def kit_server(argilla_server):
    return argilla_server


@pytest.fixture(scope="session")
def client(argilla_server):
    import argilla as rg

    return rg.Argilla(api_url=argilla_server["api_url"], api_key=argilla_server["api_key"], timeout=120)
