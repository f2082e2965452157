"""Helpers for the tests of the local Argilla server (the server itself: `argilla_server` in
tests/conftest.py, one for the whole session)."""

import uuid

import httpx
import pytest
from kit_testing import PENDING_QUEUE, sign_in

from ktokit.annotate.argilla_local import manager


class Annotator:
    """A user working through the endpoints the annotation UI uses (bearer token, /api/v1/me/...)."""

    def __init__(self, api_url: str, username: str, password: str):
        self.username = username
        self.http = sign_in(api_url, username, password)
        self.id = self.http.get("/api/v1/me").json()["id"]

    def pending(self, dataset_id: str, limit: int = 10) -> dict:
        """The UI's queue query: my response is pending and the record is not completed."""
        r = self.http.post(
            f"/api/v1/me/datasets/{dataset_id}/records/search", params={"limit": limit}, json=PENDING_QUEUE
        )
        r.raise_for_status()
        return r.json()

    def submit(self, record_id: str, label: str, question: str = "label") -> httpx.Response:
        return self.http.post(
            f"/api/v1/records/{record_id}/responses",
            json={"values": {question: {"value": label}}, "status": "submitted"},
        )


@pytest.fixture
def unique():
    """A fresh name, so tests sharing the session's server never collide."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def annotator(argilla_server, unique):
    """Factory: a new annotator account in `workspace`, signed in like the UI."""

    def make(workspace: str) -> Annotator:
        user = manager.add_annotator(unique("ann"), workspace=workspace, data_dir=argilla_server["data_dir"])
        return Annotator(argilla_server["api_url"], user["username"], user["password"])

    return make


@pytest.fixture
def haiku_dataset(client, unique):
    """Factory: a published dataset shaped like the kit's (prompt, completion, 👍/👎 label)."""
    import argilla as rg

    def make(
        n: int, workspace: str | None = None, min_submitted: int = 1, vectors: bool = False
    ) -> rg.Dataset:
        if workspace is None:
            workspace = rg.Workspace(name=unique("ws"), client=client).create().name
        settings = rg.Settings(
            fields=[
                rg.TextField(name="prompt", client=client),
                rg.TextField(name="completion", client=client),
            ],
            questions=[rg.LabelQuestion(name="label", labels={"good": "👍", "bad": "👎"}, client=client)],
            metadata=[
                rg.TermsMetadataProperty(name="model", client=client),
                rg.IntegerMetadataProperty(name="length", client=client),
            ],
            vectors=[rg.VectorField(name="emb", dimensions=3)] if vectors else [],
            distribution=rg.TaskDistribution(min_submitted=min_submitted),
        )
        dataset = rg.Dataset(
            name=unique("ds"), workspace=workspace, settings=settings, client=client
        ).create()
        records = [
            rg.Record(
                fields={
                    "prompt": f"prompt {i} about {'autumn' if i % 2 else 'winter'}",
                    "completion": f"haiku {i}",
                },
                metadata={"model": f"m{i % 3}", "length": i},
                suggestions=[
                    rg.Suggestion("label", "good" if i % 4 else "bad", score=0.5 + i / (4 * n), agent="form")
                ],
                vectors={"emb": [1.0, float(i), 0.0]} if vectors else {},
                id=f"r{i}",
            )
            for i in range(n)
        ]
        if records:
            dataset.records.log(records)
        return dataset

    return make
