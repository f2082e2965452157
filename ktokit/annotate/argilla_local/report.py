"""The status of a local server, as `python -m ktokit argilla status` reports it: URL, health,
processes, datasets with record counts. Never the password or the API key: only the path of the
file that holds them.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from ktokit.annotate import admin
from ktokit.annotate.argilla_local.processes import PROCESSES, Layout, read_pid
from ktokit.console import KitError
from ktokit.paths import read_json


def api_url_of(host: str, port: int) -> str:
    """The URL to call a server listening on `host` (a wildcard address is called on the loopback)."""
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"


def status_of(layout: Layout) -> dict[str, Any]:
    """Credentials, last state, PIDs, URL and health of the server in `layout` (secrets: internal use)."""
    creds = read_json(layout.credentials)
    state = read_json(layout.state)
    pids = {name: read_pid(layout, name) for name in PROCESSES}
    api_url = creds.get("api_url") or (api_url_of(state["host"], state["port"]) if state else None)
    healthy = bool(api_url and pids["server"] and admin.healthy(api_url))
    return {"creds": creds, "state": state, "pids": pids, "api_url": api_url, "healthy": healthy}


def status(data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """URL, health, processes, datasets with record counts; never the password or the API key."""
    layout = Layout(data_dir)
    now = status_of(layout)
    creds = now["creds"]
    result = {
        "data_dir": str(layout.root),
        "api_url": now["api_url"],
        "running": any(now["pids"].values()),
        "healthy": now["healthy"],
        "processes": now["pids"],
        "username": creds.get("username"),
        "credentials_file": str(layout.credentials) if creds else None,
        "datasets": [],
    }
    if now["healthy"] and creds:
        doing = "cannot list the datasets"
        with (
            contextlib.suppress(KitError),
            admin.session(now["api_url"], creds["api_key"], timeout=10) as http,
        ):
            workspaces = {w["id"]: w["name"] for w in admin.workspaces(http)}
            for ds in admin.request(http, "GET", "/api/v1/me/datasets", doing)["items"]:
                progress = admin.request(http, "GET", f"/api/v1/datasets/{ds['id']}/progress", doing)
                result["datasets"].append(
                    {
                        "name": ds["name"],
                        "workspace": workspaces.get(ds["workspace_id"], ds["workspace_id"]),
                        "status": ds["status"],
                        "records": progress.get("total", 0),
                        "completed": progress.get("completed", 0),
                    }
                )
    return result


def status_lines(info: dict[str, Any]) -> list[str]:
    """`status` as `python -m ktokit argilla status` prints it."""
    state = "healthy" if info["healthy"] else "running, not answering" if info["running"] else "stopped"
    lines = [f"Argilla ({info['data_dir']}): {state}"]
    if info["api_url"]:
        lines.append(f"  url:   {info['api_url']}")
    if info["username"]:
        lines.append(f"  owner: {info['username']}  (credentials: {info['credentials_file']})")
    lines += [
        f"  dataset {ds['workspace']}/{ds['name']}: {ds['records']} records, {ds['completed']} completed"
        for ds in info["datasets"]
    ]
    if info["healthy"] and not info["datasets"]:
        lines.append("  no datasets yet")
    return lines
