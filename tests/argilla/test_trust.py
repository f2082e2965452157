"""Votes you can trust, on the session's real local Argilla server: gold, reliability, flags, the export.

create_task mixes gold into an English task; five annotators answer every record through the endpoints
the annotation UI uses: three careful (👍 when the answer has the pack's form and language, a few
slips), one clicking at random, one pressing 👍 on everything. progress must flag the two careless
ones `unreliable` with reasons and the three careful ones `ok`; the default export must give the
careful annotators' majority, with no gold record among the rows; nothing an annotator can read tells
gold apart.
"""

import json
import random

import pytest
from kit_testing import make_generations

from ktokit.annotate.create import TaskArguments, create_task, plan_task
from ktokit.annotate.gold import key_dataset, key_workspace, load_key
from ktokit.annotate.task import BAD, GOOD

LANG = "en"
PROMPTS = 20  # 40 records (a good and a broken answer per prompt) and the default 10 gold


def chance(who: str, record: dict) -> float:
    """A number in [0, 1) fixed by annotator and record: the votes do not depend on the queue's order."""
    return random.Random(f"{who}/{record['external_id']}").random()


def careful_vote(who: str, record: dict, slips: float = 0.1) -> str:
    """What the guidelines ask: 👍 for the pack's form in the pack's language; `slips` of votes wrong."""
    meta = record["metadata"]
    good = meta["form_verdict"] == "pass" and meta["detected_language"] == LANG
    return GOOD if good != (chance(who, record) < slips) else BAD


@pytest.mark.server
def test_gold_reliability_flags_and_the_export(kit_server, client, tmp_path, config_dir, annotator, unique):
    from ktokit.campaign.progress import progress_for
    from ktokit.export.build import ExportArguments, export_kto

    workspace, name = unique("trust"), "haiku-en-trust"
    args = TaskArguments(
        language=LANG,
        generations=str(make_generations(tmp_path / "gen", LANG, PROMPTS)),
        local=True,
        argilla_dir=str(kit_server["data_dir"]),
        dataset_name=name,
        workspace=workspace,
        min_submitted=5,
    )
    plan = plan_task(args)
    assert len(plan.gold) == 10 and any(
        line.startswith("gold         10 (5 good, 5 bad") for line in plan.lines()
    )
    result = create_task(plan)
    assert (result.logged.added, result.logged.gold) == (50, 10)
    again = create_task(plan_task(args))  # a rerun adds no gold twice
    assert (again.logged.added, again.logged.gold, again.logged.total) == (0, 0, 50)
    key = load_key(client, workspace, name)
    assert sorted(key) == sorted(g.id for g in plan.gold)

    people = {who: annotator(workspace) for who in ("alice", "bob", "carol", "dan", "erin")}
    dataset = client.datasets(name=name, workspace=workspace)
    queue = [item["record"] for item in people["alice"].pending(str(dataset.id), limit=100)["items"]]
    assert len(queue) == 50
    # Nothing an annotator reads tells gold apart: the same keys everywhere, ids of the same kind, no key
    shapes = {(tuple(sorted(r["metadata"])), tuple(sorted(r["fields"])), r["external_id"][:3]) for r in queue}
    assert len(shapes) == 1
    whole = people["alice"].http.get(f"/api/v1/records/{queue[0]['id']}").json()  # the full record
    assert set(whole["metadata"]) == set(queue[0]["metadata"])
    mine = people["alice"].http.get("/api/v1/me/workspaces").json()["items"]
    assert [w["name"] for w in mine] == [workspace] and key_workspace(workspace) not in str(mine)
    assert key_dataset(name) not in people["alice"].http.get("/api/v1/me/datasets").text

    # carol flags a record that is not gold (the queue's order is shuffled: its first may be gold, whose
    # flags the card does not count)
    to_flag = next(r for r in queue if r["external_id"] not in key)
    careful: dict[str, dict[str, str]] = {}
    for who, person in people.items():
        for record in queue:
            if who in ("alice", "bob", "carol"):
                vote = careful_vote(who, record)
                careful.setdefault(record["external_id"], {})[who] = vote
            else:
                vote = GOOD if who == "erin" or chance(who, record) < 0.5 else BAD
            if who == "carol" and record is to_flag:  # a flag instead of a vote: left out of the rows
                body = {"values": {"flag": {"value": "harmful"}}, "status": "discarded"}
                assert (
                    person.http.post(f"/api/v1/records/{record['id']}/responses", json=body).status_code
                    == 201
                )
                del careful[record["external_id"]]["carol"]
                continue
            assert person.submit(record["id"], vote).status_code == 201

    p = progress_for(LANG)
    board = {a["username"]: a for a in p["annotators"]}
    flags = {who: board[person.username]["flag"] for who, person in people.items()}
    assert flags == {"alice": "ok", "bob": "ok", "carol": "ok", "dan": "unreliable", "erin": "unreliable"}
    for who in ("dan", "erin"):
        a = board[people[who].username]
        assert a["why"] and a["reliable"] == 0 and a["gold_answered"] == 10
    assert any(w.startswith("👍 on 100 %") for w in board[people["erin"].username]["why"])
    for who in ("alice", "bob", "carol"):
        a = board[people[who].username]
        assert a["gold_accuracy"] >= 0.6 and a["agreement"] > 0.4 and a["reliable"] == a["submitted"]
    assert {a["username"] for a in p["annotators"][:3]} == {
        people[w].username for w in ("alice", "bob", "carol")
    }
    assert "dan" not in "".join(p.flag_lines()) and len(p.flag_lines()) == 2

    export = export_kto(ExportArguments(language=LANG, output_dir=str(tmp_path / "kto")))
    rows = export.kto["train"]
    majority = {
        rid: list(v.values()).count(GOOD) * 2 > len(v) for rid, v in careful.items() if rid not in key
    }
    flagged = to_flag["external_id"]
    assert {r["record_id"] for r in rows} == set(majority) - {flagged}  # no gold row, the flagged one out
    assert all(r["label"] == majority[r["record_id"]] for r in rows)
    s = export.summary
    assert len(s.left_out_annotators) == 2 and s.left_out_votes == 100 and s.gold == 10
    assert s.flags == {"harmful": 1} and s.alpha > s.alpha_all
    from ktokit.campaign.backup import backup  # the key is not in the dataset: backups carry it

    backup(LANG, str(tmp_path / "backups"))
    assert json.loads((tmp_path / "backups" / LANG / "ktokit-backup.json").read_text())["gold"] == key
    card = (tmp_path / "kto" / "README.md").read_text()
    assert (
        "votes of 2 annotators flagged unreliable were left out" in card and "harmful or offensive 1" in card
    )
