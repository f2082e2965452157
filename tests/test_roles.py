"""The narrow Argilla users the Spaces get (ktokit.annotate.roles), on the real local server.

The demo Space's user adds visitors' records to the visitors' dataset and is refused everything on the
annotation dataset: reading it, adding to it, changing or deleting an annotator's answer or a record.
The dashboard's user reads every annotator's answer. Both are made once; their secrets are never shown.
"""

import stat

import httpx
import pytest
from kit_testing import sign_in

from ktokit.annotate import roles
from ktokit.annotate.credentials import ArgillaTarget
from ktokit.annotate.task import build_records, ensure_dataset, log_new_records, task_template
from ktokit.campaign.dashboard_space import dashboard_credentials
from ktokit.demo.visitors import demo_credentials
from ktokit.packs.languages import load_pack

LANG = "en"
WORKSPACE, DATASET = "roles", "haiku-roles"


@pytest.fixture(scope="module")
def annotated(client, argilla_server):
    """The annotation dataset with one record and one annotator's submitted 👍.

    Returns (dataset, record id, response id).
    """
    import argilla as rg

    pack = load_pack(LANG)
    dataset, _ = ensure_dataset(client, task_template(pack, dataset=DATASET, workspace=WORKSPACE))
    (record,) = build_records(
        [
            {
                "input": pack.prompts[0],
                "generation_model": ["m"],
                "generations": ["an old silent pond\na frog jumps into the pond\nsplash"],
            }
        ],
        pack,
    )
    log_new_records(dataset, [record])
    if client.users(username="roles-annotator") is None:
        user = rg.User(
            username="roles-annotator", password="annotator-pass-1", role="annotator", client=client
        ).create()
        client.workspaces(name=WORKSPACE).add_user(user)
    (server_record,) = [r for r in dataset.records() if r.id == record["id"]]
    record_id = str(server_record._server_id)  # the server's uuid (the kit's content id is the external id)
    annotator = sign_in(argilla_server["api_url"], "roles-annotator", "annotator-pass-1")
    answer = annotator.post(
        f"/api/v1/records/{record_id}/responses",
        json={"values": {"label": {"value": "good"}}, "status": "submitted"},
    )
    assert answer.status_code == 201, answer.text
    return dataset, record_id, answer.json()["id"]


@pytest.mark.server
def test_demo_user_adds_visitor_records_and_cannot_touch_annotators_answers(
    annotated, argilla_server, client, config_dir, capsys
):
    import argilla as rg

    dataset, record_id, response_id = annotated
    target = ArgillaTarget(
        language=LANG,
        kind="local",
        api_url=argilla_server["api_url"],
        api_key=argilla_server["api_key"],
        workspace=WORKSPACE,
        dataset=DATASET,
    )
    demo = demo_credentials(target)
    assert (demo.username, demo.role, demo.workspaces) == ("roles-demo", "admin", ["roles-visitors"])
    assert demo.api_key and demo.api_key != argilla_server["api_key"]
    path = roles.users_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = demo_credentials(target)  # a rerun reuses the user and its key
    assert again.api_key == demo.api_key
    assert [u.username for u in client.users if u.username == "roles-demo"] == ["roles-demo"]
    out, err = capsys.readouterr()
    assert demo.api_key not in out + err and demo.password not in out + err and demo.api_key not in repr(demo)

    # CAN: add a visitor's record to the visitors' dataset
    as_demo = rg.Argilla(api_url=argilla_server["api_url"], api_key=demo.api_key, timeout=60)
    visitors = as_demo.datasets(name="haiku-roles-visitors", workspace="roles-visitors")
    pack = load_pack(LANG)
    (vote,) = build_records(
        [
            {
                "input": pack.prompts[1],
                "generation_model": ["tuned"],
                "generations": ["a visitor liked this\nseven syllables go here\nfive more to the end"],
            }
        ],
        pack,
    )
    vote["metadata"].update(source="demo", visitor_vote="good", side="tuned", compare="c1")
    assert log_new_records(visitors, [vote]).added == 1
    seen = client.datasets(name="haiku-roles-visitors", workspace="roles-visitors")
    assert [r.metadata["visitor_vote"] for r in seen.records()] == ["good"]

    # CANNOT: anything on the annotation dataset
    http = httpx.Client(
        base_url=argilla_server["api_url"], headers={"X-Argilla-Api-Key": demo.api_key}, timeout=60
    )
    assert [w["name"] for w in http.get("/api/v1/me/workspaces").json()["items"]] == ["roles-visitors"]
    refused = {
        "read the dataset": http.get(f"/api/v1/datasets/{dataset.id}"),
        "read its records": http.get(f"/api/v1/records/{record_id}"),
        "delete the answer": http.delete(f"/api/v1/responses/{response_id}"),
        "change the answer": http.put(
            f"/api/v1/responses/{response_id}",
            json={"values": {"label": {"value": "bad"}}, "status": "submitted"},
        ),
        "delete the record": http.delete(f"/api/v1/records/{record_id}"),
        "delete records in bulk": http.delete(
            f"/api/v1/datasets/{dataset.id}/records", params={"ids": record_id}
        ),
        "add a record": http.post(
            f"/api/v1/datasets/{dataset.id}/records/bulk",
            json={"items": [{"fields": {"prompt": "p", "completion": "c"}}]},
        ),
        "delete the dataset": http.delete(f"/api/v1/datasets/{dataset.id}"),
    }
    assert {what: r.status_code for what, r in refused.items()} == {what: 403 for what in refused}
    (kept,) = [a for r in dataset.records(with_responses=True) for a in r.responses["label"]]
    assert (kept.value, kept.status) == ("good", "submitted")  # the annotator's answer is untouched


@pytest.mark.server
def test_dashboard_user_reads_every_answer_of_its_workspace_only(
    annotated, argilla_server, client, config_dir
):
    import argilla as rg

    target = ArgillaTarget(
        language=LANG,
        kind="local",
        api_url=argilla_server["api_url"],
        api_key=argilla_server["api_key"],
        workspace=WORKSPACE,
        dataset=DATASET,
    )
    reader = dashboard_credentials(target)
    # the workspace, its gold key's (ktokit.annotate.gold): the dashboard grades annotators on gold, and
    # the visitors' (ktokit.demo.visitors), where the demo Space's arena verdicts are
    assert (reader.username, reader.role, reader.workspaces) == (
        "roles-dashboard",
        "admin",
        [WORKSPACE, f"{WORKSPACE}-organisers", f"{WORKSPACE}-visitors"],
    )
    as_reader = rg.Argilla(api_url=argilla_server["api_url"], api_key=reader.api_key, timeout=60)
    seen = as_reader.datasets(name=DATASET, workspace=WORKSPACE)
    answers = [(a.value, a.status) for r in seen.records(with_responses=True) for a in r.responses["label"]]
    assert answers == [("good", "submitted")]  # another user's answer: an annotator would see none
    http = httpx.Client(
        base_url=argilla_server["api_url"], headers={"X-Argilla-Api-Key": reader.api_key}, timeout=60
    )
    assert sorted(w["name"] for w in http.get("/api/v1/me/workspaces").json()["items"]) == [
        WORKSPACE,
        f"{WORKSPACE}-organisers",
        f"{WORKSPACE}-visitors",
    ]
    assert (
        http.post(
            "/api/v1/users",
            json={"username": "x-y", "password": "12345678", "first_name": "x", "role": "owner"},
        ).status_code
        == 403
    )
