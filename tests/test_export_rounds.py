"""`export_kto.py --rounds`, on the session's real local Argilla server.

One dataset holds two annotation rounds: records logged before rounds existed (no `round` metadata:
round 1), records with `round` 1 and records with `round` 2, most of them rated. Each export keeps the
records of the rounds asked for, and its summary and card say which rounds and how many rows each gave,
as counted here from what was logged; a round with no records is one line naming the rounds there are.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from ktokit.annotate.task import (
    ROUND,
    build_records,
    ensure_dataset,
    log_new_records,
    task_template,
    to_argilla_record,
)
from ktokit.packs.languages import load_pack

LANG = "fr"
DATASET = "haiku-fr-rounds"
ROUNDS = [None, None, 1, 1, 2, 2, 2, 2]  # per record: None = logged before rounds existed (round 1)
UNRATED = {1, 7}  # records nobody answered: no row, whatever their round


@pytest.fixture(scope="module")
def two_rounds(kit_server, client):
    """The task with both rounds logged and rated by the owner; (record id -> round, rated ids)."""
    import argilla as rg

    pack = load_pack(LANG)
    template = task_template(pack, min_submitted=1, dataset=DATASET)
    if ROUND not in {m["name"] for m in template.metadata}:  # the integer property create_task --round adds
        template.metadata.append({"kind": "integer", "name": ROUND, "title": "round"})
    dataset, _ = ensure_dataset(client, template)
    rows = [
        {"input": pack.prompts[i], "generation_model": ["tiny-a"], "generations": [pack.examples[i]]}
        for i in range(len(ROUNDS))
    ]
    records = build_records(rows, pack)
    assert len(records) == len(ROUNDS)
    for record in records:
        record["metadata"].pop(ROUND, None)
    # records from before rounds: logged through the SDK as an older kit did, with no round value
    dataset.records.log([to_argilla_record(r) for r, n in zip(records, ROUNDS) if n is None])
    for number in (1, 2):
        log_new_records(dataset, [r for r, n in zip(records, ROUNDS) if n == number], round_=number)
    ids = [r["id"] for r in records]
    rated = {ids[i]: ("good" if i % 2 else "bad") for i in range(len(ids)) if i not in UNRATED}
    owner = client.me
    answered = []
    for record in dataset.records(with_responses=True):
        if record.id in rated:
            record.responses.add(rg.Response("label", rated[record.id], user_id=owner.id, status="submitted"))
            answered.append(record)
    dataset.records.log(answered)
    return {rid: number or 1 for rid, number in zip(ids, ROUNDS)}, set(rated)


@pytest.fixture
def recorded(kit_server, config_dir):
    from ktokit.annotate.credentials import save_target

    target = {"kind": "local", "data_dir": str(kit_server["data_dir"]), "workspace": LANG, "dataset": DATASET}
    save_target(LANG, target)


def exported(tmp_path, rounds):
    from ktokit.export.build import ExportArguments, export_kto

    export = export_kto(
        ExportArguments(language=LANG, output_dir=str(tmp_path / f"r{rounds}"), rounds=rounds)
    )
    rows = [json.loads(line) for line in (export.folder / "train.jsonl").read_text().splitlines()]
    summary = json.loads((export.folder / "export_summary.json").read_text())
    return export, rows, summary, (export.folder / "README.md").read_text()


@pytest.mark.server
@pytest.mark.parametrize("rounds", [None, "1", "2", "2,1"])
def test_an_export_keeps_the_rounds_asked_for(two_rounds, recorded, tmp_path, rounds):
    round_of, rated = two_rounds
    wanted = {1, 2} if rounds is None else {int(n) for n in rounds.split(",")}
    expected = Counter(round_of[rid] for rid in rated if round_of[rid] in wanted)
    export, rows, summary, card = exported(tmp_path, rounds)

    assert sorted(r["record_id"] for r in rows) == sorted(rid for rid in rated if round_of[rid] in wanted)
    assert all(r["round"] == round_of[r["record_id"]] for r in rows)
    assert summary["rounds"] == sorted(expected)
    assert summary["rows_per_round"] == {str(k): n for k, n in sorted(expected.items())}
    counts = ", ".join(f"round {k}: {n} rows" for k, n in sorted(expected.items()))
    assert f"rounds       {counts}" in export.report()
    assert f"| annotation rounds | {counts} |" in card
    assert summary["records"] == sum(1 for n in round_of.values() if n in wanted)


@pytest.mark.server
def test_a_round_with_no_records_is_one_line_naming_the_rounds_there_are(
    two_rounds, recorded, tmp_path, capsys
):
    from ktokit.export.build import ExportArguments, export_kto
    from ktokit.options import run_script

    out = tmp_path / "none"
    rc = run_script(
        export_kto, ExportArguments, argv=["--language", LANG, "--rounds", "1,3", "--output_dir", str(out)]
    )
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2 and "Traceback" not in err, err
    assert lines[-1].startswith(f"error: --rounds: no records of round 3 in {LANG}/{DATASET} on "), err
    assert lines[-1].count("error:") == 1 and "its rounds are 1, 2" in lines[-1]
    assert not out.exists()
