"""Fixtures every test module may use; the helpers they share are in kit_testing.py.

The suite has two halves. Tests that need the local Argilla server carry `@pytest.mark.server` (the
collection below refuses one that uses the server without the mark); tests that train a model or run
a whole pipeline for tens of seconds carry `@pytest.mark.slow`, and count as the slow half too. So
`pytest -m "not server"` is the fast half (under a minute), and `pytest` (what `make test` runs) is all.
"""

import os
from types import SimpleNamespace

import pytest
from kit_testing import OAUTH_CLIENT_ID, SPACE_LANGUAGE, RecordingHfApi, run_kit

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Every server the tests start is configured like the Space: HF sign-in with a dummy OAuth app
# (set for the whole session, so a server restarted by a test keeps it).
os.environ["OAUTH2_HUGGINGFACE_CLIENT_ID"] = OAUTH_CLIENT_ID
os.environ["OAUTH2_HUGGINGFACE_CLIENT_SECRET"] = "dummy-secret"

SERVER_FIXTURES = {"argilla_server", "kit_server", "client"}


@pytest.hookimpl(tryfirst=True)  # before -m deselects: the marks must be set by then
def pytest_collection_modifyitems(config, items):
    """A test that starts the local server must say so, and a slow one is in the slow half:
    `-m "not server"` has to leave both out."""
    unmarked = [
        item.nodeid
        for item in items
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("server")
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests using the Argilla server without @pytest.mark.server: " + ", ".join(unmarked)
        )
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("server"):
            item.add_marker(pytest.mark.server)


@pytest.fixture
def kit():
    return run_kit


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    """Where credentials and recorded targets go, private to the test."""
    path = tmp_path / "config"
    monkeypatch.setenv("KTOKIT_CONFIG_DIR", str(path))
    return path


@pytest.fixture
def hub(monkeypatch):
    """The kit's Hub client is a `RecordingHfApi` (set `hub.api` to answer otherwise); a token is set."""
    from ktokit import hub as kit_hub

    current = SimpleNamespace(api=RecordingHfApi())
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token_for_tests")
    monkeypatch.setattr(kit_hub, "hf_api", lambda why: current.api)
    return current


@pytest.fixture(scope="session")
def argilla_server(tmp_path_factory):
    """One real Argilla server (server + rq worker + Redis) for the whole session, on a free port.

    It reads the rendered Space `.oauth.yaml` from its working dir (the data dir), as the Space image
    does, so the same server also proves the Space files work. The server venv is built once into
    $KTOKIT_HOME and reused by later sessions (~1 min the first time).
    """
    from ktokit.annotate import space
    from ktokit.annotate.argilla_local import manager
    from ktokit.packs.languages import load_pack

    data_dir = tmp_path_factory.mktemp("argilla")
    values = space.render_values(
        load_pack(SPACE_LANGUAGE), SPACE_LANGUAGE, f"haiku-{SPACE_LANGUAGE}", 2, "none"
    )
    space.render_space(values, data_dir / "space")
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
