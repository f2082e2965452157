"""A real Argilla server on this machine (no Docker, no Elasticsearch), for the kit's local target.

Later steps find the server by themselves::

    from ktokit.annotate.argilla_local import ensure_running
    creds = ensure_running()  # starts it if needed
    client = rg.Argilla(api_url=creds["api_url"], api_key=creds["api_key"])
"""

from ktokit.annotate.argilla_local.manager import (
    add_annotator,
    default_data_dir,
    down,
    ensure_running,
    local_credentials,
    logs,
    status,
    up,
)

__all__ = [
    "add_annotator",
    "default_data_dir",
    "down",
    "ensure_running",
    "local_credentials",
    "logs",
    "status",
    "up",
]
