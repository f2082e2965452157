"""Wrong-language answers through the main flow, on the session's real local Argilla server.

A dataset made by a kit without the language check (no `detected_language` metadata) is annotated,
then create_task.py is rerun on generations that predate the check too: the metadata is added to
the dataset and its records without duplicating a record or touching an answer, and
`export_kto.py --drop-wrong-language` leaves the English answers out of a Spanish export and counts
them in the summary and the card.
"""

from __future__ import annotations

import json

import pytest
from kit_testing import run_script

from ktokit.annotate.task import (
    DETECTED_LANGUAGE,
    build_records,
    ensure_dataset,
    log_new_records,
    task_template,
)
from ktokit.packs.languages import load_pack
from ktokit.paths import write_jsonl

LANG = "es"
PROMPTS = 4


def old_generations(path):
    """preference_gen.py's layout before the check: per prompt a Spanish answer and an English one."""
    es, en = load_pack(LANG), load_pack("en")
    rows = [
        {
            "input": es.prompts[i],
            "generation_model": ["tiny-a", "tiny-b"],
            "language": LANG,
            "generations": [es.examples[i], en.examples[i]],
        }
        for i in range(PROMPTS)
    ]
    return write_jsonl(path, rows)


def test_a_checkpoint_from_before_the_check_gets_its_languages(tmp_path):
    from ktokit.generate.output import CHECKPOINT, read_checkpoint

    es, en = load_pack(LANG), load_pack("en")
    row = {"input": es.prompts[0], "language": LANG, "generations": [es.examples[0], en.examples[0]]}
    write_jsonl(tmp_path / CHECKPOINT, [row])
    assert read_checkpoint(tmp_path)[es.prompts[0]]["detected_languages"] == [LANG, "en"]


@pytest.mark.server
def test_old_dataset_gets_the_metadata_and_the_export_drops_wrong_language(
    kit_server, client, tmp_path, config_dir
):
    import argilla as rg

    pack, english = load_pack(LANG), load_pack("en")
    generations = old_generations(tmp_path / "generations.jsonl")
    name = "haiku-es-language"
    old = task_template(pack, min_submitted=1, dataset=name)
    old.metadata = [m for m in old.metadata if m["name"] != DETECTED_LANGUAGE]
    records = build_records((json.loads(line) for line in generations.read_text().splitlines()), pack)
    for record in records:
        del record["metadata"][DETECTED_LANGUAGE]
    dataset, _ = ensure_dataset(client, old)
    assert log_new_records(dataset, records).added == 2 * PROMPTS
    owner = client.me
    rated = list(dataset.records(with_responses=True))
    for record in rated:  # every answer rated 👍, the English ones too
        record.responses.add(rg.Response("label", "good", user_id=owner.id, status="submitted"))
    dataset.records.log(rated)

    args = [
        "--language",
        LANG,
        "--generations",
        str(generations),
        "--local",
        "--argilla_dir",
        str(kit_server["data_dir"]),
        "--dataset_name",
        name,
        "--min_submitted",
        "1",
        "--gold",
        "0",
    ]
    proc = run_script("create_task.py", *args)
    assert proc.returncode == 0, proc.stderr
    assert f"{PROMPTS} not in Spanish" in proc.stdout
    assert (
        f"0 records added, {2 * PROMPTS} already there; {2 * PROMPTS} in the dataset "
        f"({2 * PROMPTS} given the metadata they lacked)"
    ) in proc.stdout
    again = client.datasets(name=name, workspace=LANG)
    assert DETECTED_LANGUAGE in {m.name for m in again.settings.metadata}
    after = list(again.records(with_responses=True))
    assert len(after) == 2 * PROMPTS
    english_texts = set(english.examples[:PROMPTS])
    for record in after:
        assert record.metadata[DETECTED_LANGUAGE] == (
            "en" if record.fields["completion"] in english_texts else LANG
        )
        assert [(a.value, a.status) for a in record.responses["label"]] == [("good", "submitted")]

    # what an organiser's filter in the UI asks: the answers in another language
    search = {
        "query": {},
        "filters": {
            "and": [
                {
                    "type": "terms",
                    "values": ["en"],
                    "scope": {"entity": "metadata", "metadata_property": DETECTED_LANGUAGE},
                }
            ]
        },
    }
    found = client.http_client.post(
        f"/api/v1/me/datasets/{again.id}/records/search", params={"limit": 50}, json=search
    )
    assert found.status_code == 200, found.text
    assert sorted(i["record"]["fields"]["completion"] for i in found.json()["items"]) == sorted(english_texts)

    rerun = run_script("create_task.py", *args)
    assert f"0 records added, {2 * PROMPTS} already there; {2 * PROMPTS} in the dataset\n" in rerun.stdout

    kept = run_script("export_kto.py", "--language", LANG, "--output_dir", str(tmp_path / "all"))
    assert kept.returncode == 0, kept.stderr
    assert f"language     {PROMPTS} records not in the pack's language: kept" in kept.stdout
    dropped = run_script(
        "export_kto.py", "--language", LANG, "--output_dir", str(tmp_path / "es"), "--drop-wrong-language"
    )
    assert dropped.returncode == 0, dropped.stderr
    assert f"left out     {PROMPTS} wrong language" in dropped.stdout
    rows = [json.loads(line) for line in (tmp_path / "es" / "train.jsonl").read_text().splitlines()]
    assert sorted(r["completion"] for r in rows) == sorted(pack.examples[:PROMPTS])
    summary = json.loads((tmp_path / "es" / "export_summary.json").read_text())
    assert summary["left_out"] == {"wrong_language": PROMPTS} and summary["other_language"] == PROMPTS
    card = (tmp_path / "es" / "README.md").read_text()
    assert f"| left out: not in the pack's language (--drop-wrong-language) | {PROMPTS} |" in card
    assert f"| records not in the pack's language (detected) | {PROMPTS} (left out) |" in card
