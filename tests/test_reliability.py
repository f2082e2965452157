"""Annotator reliability (ktokit.export.reliability) and gold answers (ktokit.annotate.gold), no server.

The votes are simulated with a seed: careful annotators vote the truth and slip on 15 % of votes,
careless ones click at random or press one button for everything. The flags must fall on the careless
ones only, and the export must then keep the careful majority's labels.
"""

import json
import random

import pytest

from ktokit.annotate.gold import GOLD_FILE, candidates, gold_records, read_gold_file
from ktokit.annotate.task import BAD, GOOD, build_records
from ktokit.console import KitError
from ktokit.export.build import build_export
from ktokit.export.read import SUBMITTED, AnnotatedRecord, Answer
from ktokit.export.reliability import CHECK, OK, UNRELIABLE, score_annotators, timing
from ktokit.packs.form import FAIL, PASS, check_form
from ktokit.packs.languages import load_pack

CAREFUL = ("alice", "bob", "carol")
CARELESS = {"dan": "random", "erin": "always-up"}


def simulate(n=60, gold=10, seed=3, noise=0.1, stamps=None):
    """Every annotator answers every record; the last `gold` records are gold. Returns records, truth."""
    rng = random.Random(seed)
    records, truth = [], {}
    for i in range(n + gold):
        good = rng.random() < 0.5
        truth[str(i)] = good
        answers = []
        for name in (*CAREFUL, *CARELESS):
            kind = CARELESS.get(name, "careful")
            vote = {
                "careful": good != (rng.random() < noise),
                "random": rng.random() < 0.5,
                "always-up": True,
            }[kind]
            when = stamps(name, i) if stamps else ""
            answers.append(Answer(name, SUBMITTED, GOOD if vote else BAD, updated_at=when))
        records.append(
            AnnotatedRecord(
                str(i),
                f"prompt {i}",
                f"completion {i}",
                ("m",),
                "en",
                answers,
                gold=(GOOD if good else BAD) if i >= n else None,
            )
        )
    return records, truth


def test_careless_annotators_are_flagged_with_reasons_and_careful_ones_are_ok():
    records, _ = simulate()
    scores = score_annotators(records)
    assert {name: s.flag for name, s in scores.items()} == {
        **dict.fromkeys(CAREFUL, OK),
        **dict.fromkeys(CARELESS, UNRELIABLE),
    }
    assert any(w.startswith("👍 on 100 % of answers") for w in scores["erin"].why)
    assert any("agreement with the others' majority" in w for w in scores["dan"].why)
    for name in CAREFUL:
        public = scores[name].public()
        assert public["gold_answered"] == 10 and public["gold_accuracy"] >= 0.7
        assert public["agreement"] > 0.5 and public["why"]


def test_too_few_answers_is_check_and_one_button_with_no_one_else_is_not_judged():
    records, _ = simulate(n=8, gold=2)
    assert {s.flag for s in score_annotators(records).values()} == {CHECK}
    alone = [
        AnnotatedRecord(str(i), "p", "c", ("m",), "en", [Answer("x", SUBMITTED, GOOD)]) for i in range(30)
    ]
    only = score_annotators(alone)["x"]
    assert only.agreement is None and only.flag == CHECK and only.others_up_rate is None


def test_flagged_answers_and_drafts_are_not_votes():
    answers = [
        Answer("a", SUBMITTED, GOOD, flag="harmful"),
        Answer("b", "discarded", None, flag="wrong_language"),
        Answer("c", "draft", BAD),
        Answer("d", SUBMITTED, BAD),
    ]
    record = AnnotatedRecord("r", "p", "c", ("m",), "en", answers)
    assert record.votes == [BAD] and record.flags == ["harmful", "wrong_language"]


def test_answers_faster_than_reading_are_a_reason_and_bulk_logging_is_not_timed():
    base = 1_700_000_000

    def stamp(seconds):
        from datetime import UTC, datetime

        return datetime.fromtimestamp(base + seconds, UTC).isoformat()

    assert timing(stamp(i * 1.5) for i in range(30)) == (29, 29)  # a click every 1.5 s
    assert timing(stamp(i * 20) for i in range(30)) == (0, 29)  # someone reading
    assert timing(stamp(i * 0.3) for i in range(30)) == (0, 0)  # a script or bulk logging: no timing
    records, _ = simulate(stamps=lambda name, i: stamp(i * (1.0 if name == "bob" else 30)))
    bob = score_annotators(records)["bob"]
    assert bob.flag == UNRELIABLE and bob.why == ["69 of 69 answers came under 3 s after the previous one"]


def test_the_default_export_leaves_the_careless_out_and_keeps_the_careful_majority():
    records, truth = simulate()
    pack = load_pack("en")
    reliable = build_export(records, pack, dataset="ws/ds")
    every = build_export(records, pack, dataset="ws/ds", annotators="all")
    careful_majority = {
        r.id: sum(a.value == GOOD for a in r.answers if a.annotator in CAREFUL) >= 2
        for r in records
        if r.gold is None
    }
    rows = reliable.kto["train"]
    assert len(rows) == 60 and {r["record_id"] for r in rows} == set(careful_majority)  # no gold row
    assert all(r["label"] == careful_majority[r["record_id"]] for r in rows)
    assert sum(r["label"] != careful_majority[r["record_id"]] for r in every.kto["train"]) > 0
    s = reliable.summary
    assert s.gold == 10 and sorted(s.left_out_annotators) == sorted(CARELESS)
    assert s.left_out_votes == 2 * 70 and s.alpha > s.alpha_all
    assert s.reliability == {"ok": 3, "unreliable": 2} and every.summary.left_out_annotators == {}
    report = "\n".join(reliable.report())
    assert "140 votes of 2 annotators left out" in report and "10 gold records (never rows)" in report
    from ktokit.export.card import dataset_card

    card = dataset_card(s)
    assert (
        "## Whose votes count" in card and "`dan`" in card and f"{s.alpha_all:.3f} with their votes" in card
    )


def test_flags_leave_the_answer_out_and_the_card_counts_them():
    pack = load_pack("en")
    records = [
        AnnotatedRecord(
            "1", "p1", "c1", ("m",), "en", [Answer("a", SUBMITTED, GOOD), Answer("b", SUBMITTED, GOOD)]
        ),
        AnnotatedRecord(
            "2",
            "p2",
            "c2",
            ("m",),
            "en",
            [Answer("a", SUBMITTED, BAD), Answer("b", "discarded", None, flag="harmful")],
        ),
        AnnotatedRecord(
            "3",
            "p3",
            "c3",
            ("m",),
            "en",
            [Answer("a", SUBMITTED, BAD), Answer("b", "discarded", None, flag="cant_judge")],
        ),
    ]
    export = build_export(records, pack, dataset="ws/ds")
    assert {r["record_id"]: r["label"] for r in export.kto["train"]} == {"1": True, "3": False}
    assert export.summary.flags == {"cant_judge": 1, "harmful": 1} and export.summary.left_out["flagged"] == 1


# ---- gold ----------------------------------------------------------------------------------------------


def task_records(pack, n_prompts=40):
    rows = [
        {"input": p, "generation_model": ["tiny-a", "tiny-b"], "generations": [f"{p} one", f"{p} two"]}
        for p in pack.prompts[:n_prompts]
    ]
    return build_records(rows, pack)


def test_gold_looks_like_any_record_and_its_labels_follow_the_pack_rule():
    pack = load_pack("en")
    records = task_records(pack)
    gold = gold_records(pack, records, None, seed=1)
    assert len(gold) == 10  # 80 records: at least ten
    assert sum(g.expected == GOOD for g in gold) == 5
    shapes = {(tuple(r), tuple(r["fields"]), tuple(r["metadata"])) for r in records}
    for g in gold:
        r = g.record
        assert (tuple(r), tuple(r["fields"]), tuple(r["metadata"])) in shapes
        assert r["id"].startswith("en-") and r["metadata"]["model"][0] in ("tiny-a", "tiny-b")
        verdict = check_form(r["fields"]["completion"], pack.form, clean=False).verdict
        assert verdict == (PASS if g.expected == GOOD else r["metadata"]["form_verdict"])
        if g.kind in ("broken", "not_a_poem"):
            assert verdict == FAIL and r["suggestion"]["value"] == BAD
    assert gold_records(pack, records, None, seed=1) == gold  # reproducible
    assert gold_records(pack, records, 0) == []


def test_more_gold_than_the_pack_allows_says_how_many(tmp_path):
    pack = load_pack("en")
    found, _ = candidates(pack, [r["fields"]["prompt"] for r in task_records(pack)])
    with pytest.raises(KitError, match=rf"--gold 500: the pack allows {len(found)} gold answers"):
        gold_records(pack, task_records(pack), 500)


def test_a_gold_file_line_the_rule_contradicts_is_named(tmp_path):
    import shutil

    folder = tmp_path / "en"
    shutil.copytree(load_pack("en").path, folder)
    lines = [
        {
            "prompt": "Write a haiku about rain.",
            "completion": "soft rain on the roof\nthe gutters sing all night long\nmorning smells of earth",
            "label": "good",
        },
        {"prompt": "Write a haiku about snow.", "completion": "snow", "label": "good"},
    ]
    (folder / GOLD_FILE).write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    pack = load_pack(folder)
    with pytest.raises(KitError, match=rf"{GOLD_FILE}:2: labelled 'good' but the pack's form rule fails it"):
        read_gold_file(pack)
    (folder / GOLD_FILE).write_text(json.dumps(lines[0]) + "\n")
    assert read_gold_file(load_pack(folder)) == [(lines[0]["prompt"], lines[0]["completion"], GOOD)]
