"""export_kto.py against the session's real local Argilla server.

One task is created the way create_task.py does it (ktokit.annotate.task), three annotators answer
through the endpoints the UI uses (their queue from /api/v1/me/..., answers to
/api/v1/records/{id}/responses), with a tie, drafts, discards (one carrying a value) and records
nobody rated. Every expected label below is worked out by hand from VOTES.
"""

import hashlib
import json

import pytest
from kit_testing import PENDING_QUEUE, run_script, sign_in

from ktokit.annotate.argilla_local import manager
from ktokit.annotate.task import build_records, ensure_dataset, log_new_records, task_template
from ktokit.console import KitError
from ktokit.export.aggregate import krippendorff_alpha, pairwise_agreement
from ktokit.export.build import build_export
from ktokit.export.read import connect, fetch_records
from ktokit.export.rows import split_prompts
from ktokit.export.write import CARD_FILE, CHART_FILE, write_export
from ktokit.packs.languages import load_pack

LANG = "ja"  # non-Latin text: any ASCII escaping or encoding slip shows

# completion (pack example index) -> prompt index, the models that wrote it, and the answers of
# annotators A, B, C: "good"/"bad" submitted, "draft:<v>", "discarded" (no value), "discarded:<v>", None
VOTES = {
    0: (0, ["tiny-a"], ("good", "good", "good")),
    1: (0, ["tiny-b"], ("bad", "bad", "good")),
    2: (0, ["tiny-c"], ("good", "bad", None)),  # tie
    3: (1, ["tiny-a"], ("good", "draft:good", "discarded")),  # one vote
    4: (1, ["tiny-b"], ("bad", "bad", None)),
    5: (1, ["tiny-c"], (None, None, None)),  # nobody
    6: (2, ["tiny-a", "tiny-b"], (None, "good", "good")),  # both models wrote this text
    7: (2, ["tiny-c"], (None, "draft:bad", None)),  # a draft only
    8: (3, ["tiny-a"], ("good", "good", "bad")),
    9: (3, ["tiny-b"], ("bad", "discarded:good", "bad")),  # a discard with a value is not a vote
}
UP_DOWN = {
    0: (3, 0),
    1: (1, 2),
    2: (1, 1),
    3: (1, 0),
    4: (0, 2),
    5: (0, 0),
    6: (2, 0),
    7: (0, 0),
    8: (2, 1),
    9: (0, 2),
}
MAJORITY = {0: True, 1: False, 3: True, 4: False, 6: True, 8: True, 9: False}
UNANIMOUS = {0: True, 3: True, 4: False, 6: True, 9: False}
MAJORITY_2 = {0: True, 1: False, 4: False, 6: True, 8: True, 9: False}
DPO = [(0, 1), (3, 4), (8, 9)]  # (chosen, rejected) per prompt with both labels


def order(*texts):
    return hashlib.sha256("\x1f".join(texts).encode()).hexdigest()


def queue(http, dataset_id):
    """The annotation UI's query: records still pending for me."""
    r = http.post(
        f"/api/v1/me/datasets/{dataset_id}/records/search", params={"limit": 100}, json=PENDING_QUEUE
    )
    r.raise_for_status()
    return [item["record"] for item in r.json()["items"]]


def answer(http, record_id, spec):
    status, _, value = spec.partition(":") if ":" in spec or spec == "discarded" else ("submitted", "", spec)
    body = {"status": status, "values": {"label": {"value": value}} if value else {}}
    r = http.post(f"/api/v1/records/{record_id}/responses", json=body)
    assert r.status_code == 201, r.text


def make_task(client, pack, name, workspace, votes, data_dir, api_url):
    """create_task's path (template, records from a generations layout), then the annotators' answers."""
    template = task_template(pack, min_submitted=3, dataset=name, workspace=workspace)
    rows = {}
    for ex, (p, models, _) in votes.items():
        row = rows.setdefault(p, {"input": pack.prompts[p], "generation_model": [], "generations": []})
        for model in models:
            row["generation_model"].append(model)
            row["generations"].append(pack.examples[ex])
    dataset, _ = ensure_dataset(client, template)
    log_new_records(dataset, build_records(rows.values(), pack))
    users = []
    for k in range(3):
        user = manager.add_annotator(f"{name}-{'abc'[k]}", workspace=workspace, data_dir=data_dir)
        http = sign_in(api_url, user["username"], user["password"])
        users.append({**user, "id": http.get("/api/v1/me").json()["id"]})
        mine = {rec["fields"]["completion"]: rec["id"] for rec in queue(http, dataset.id)}
        assert len(mine) == len(votes)  # every record is in every annotator's queue
        for ex, (_, _, specs) in votes.items():
            if specs[k]:
                answer(http, mine[pack.examples[ex]], specs[k])
    return dataset, users


@pytest.fixture(scope="module")
def task(argilla_server, client, tmp_path_factory):
    from ktokit.annotate.credentials import save_target

    pack = load_pack(LANG)
    config = tmp_path_factory.mktemp("config")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KTOKIT_CONFIG_DIR", str(config))
        dataset, users = make_task(
            client,
            pack,
            "haiku-ja-export",
            "ja-export",
            VOTES,
            argilla_server["data_dir"],
            argilla_server["api_url"],
        )
        save_target(
            LANG,
            {
                "kind": "local",
                "data_dir": str(argilla_server["data_dir"]),
                "workspace": "ja-export",
                "dataset": "haiku-ja-export",
            },
        )
        records = fetch_records(client, dataset, LANG)
        yield {
            "pack": pack,
            "dataset": dataset,
            "users": users,
            "records": records,
            "config": config,
            "ex": {text: i for i, text in enumerate(pack.examples)},
        }


def export(task, **kwargs):
    return build_export(task["records"], task["pack"], dataset="ja-export/haiku-ja-export", **kwargs)


def check_rows(task, rows, expected):
    pack, ex = task["pack"], task["ex"]
    assert {ex[r["completion"]]: r["label"] for r in rows} == expected
    assert len(rows) == len(expected)
    for r in rows:
        i = ex[r["completion"]]
        prompt, models, _ = VOTES[i]
        up, down = UP_DOWN[i]
        assert r == {
            "prompt": pack.prompts[prompt],
            "completion": pack.examples[i],
            "label": expected[i],
            "model": ", ".join(models),
            "language": LANG,
            "votes_up": up,
            "votes_down": down,
            "agreement": round(max(up, down) / (up + down), 4),
            "record_id": r["record_id"],
            "round": 1,  # logged without a round: round 1
        }
        assert isinstance(r["label"], bool) and r["record_id"].startswith(f"{LANG}-")
    assert [order(r["prompt"], r["completion"]) for r in rows] == sorted(
        order(r["prompt"], r["completion"]) for r in rows
    )


# ---- aggregation ----------------------------------------------------------------------------------


@pytest.mark.server
def test_records_and_answers_come_back_as_given(task):
    records = task["records"]
    assert len(records) == 10
    statuses = sorted(a.status for r in records for a in r.answers)
    assert (
        statuses.count("submitted") == 18
        and statuses.count("draft") == 2
        and statuses.count("discarded") == 2
    )
    by_ex = {task["ex"][r.completion]: r for r in records}
    assert {i: (r.votes_up, r.votes_down) for i, r in by_ex.items()} == UP_DOWN
    assert by_ex[6].models == ("tiny-a", "tiny-b")


@pytest.mark.server
def test_majority_keeps_the_expected_rows_and_leaves_ties_out(task):
    result = export(task)
    check_rows(task, result.kto["train"], MAJORITY)
    s = result.summary
    assert (s.rows, s.up, s.down, s.records, s.rated) == (7, 4, 3, 10, 8)
    assert s.left_out == {"unrated": 2, "tie": 1}


@pytest.mark.server
def test_unanimous_and_min_votes(task):
    unanimous = export(task, strategy="unanimous")
    check_rows(task, unanimous.kto["train"], UNANIMOUS)
    assert unanimous.summary.left_out == {"unrated": 2, "not_unanimous": 3}
    two = export(task, min_votes=2)
    check_rows(task, two.kto["train"], MAJORITY_2)
    assert two.summary.left_out == {"unrated": 2, "too_few_votes": 1, "tie": 1}
    with pytest.raises(
        KitError,
        match=r"no record passes the aggregation \(--strategy unanimous, --min_votes 4\): "
        r"2 unrated, 8 too few votes",
    ):
        export(task, strategy="unanimous", min_votes=4)
    with pytest.raises(KitError, match="--strategy must be one of majority, unanimous"):
        export(task, strategy="mean")


@pytest.mark.server
def test_conversational_rows_are_the_chat_the_models_saw(task):
    from transformers import AutoTokenizer
    from trl.data_utils import is_conversational, maybe_apply_chat_template

    from ktokit.generate.tiny import tiny_model

    pack = task["pack"]
    rows = export(task, conversational=True).kto["train"]
    standard = export(task).kto["train"]
    assert len(rows) == len(standard)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model(LANG, progress=False))
    for conv, plain in zip(rows, standard):
        assert conv["prompt"] == pack.messages(plain["prompt"])
        assert conv["prompt"][0] == {"role": "system", "content": pack.system_prompt}
        assert conv["completion"] == [{"role": "assistant", "content": plain["completion"]}]
        assert {k: v for k, v in conv.items() if k not in ("prompt", "completion")} == {
            k: v for k, v in plain.items() if k not in ("prompt", "completion")
        }
        assert is_conversational(conv) and not is_conversational(plain)
        text = maybe_apply_chat_template(conv, tokenizer)
        assert plain["prompt"] in text["prompt"] and plain["completion"] in text["completion"]


@pytest.mark.server
def test_dpo_pairs_for_prompts_with_both_labels(task):
    pack, ex = task["pack"], task["ex"]
    result = export(task, dpo=True)
    pairs = result.dpo["train"]
    assert sorted((ex[p["chosen"]], ex[p["rejected"]]) for p in pairs) == DPO
    for p in pairs:
        good, bad = ex[p["chosen"]], ex[p["rejected"]]
        assert p == {
            "prompt": pack.prompts[VOTES[good][0]],
            "chosen": pack.examples[good],
            "rejected": pack.examples[bad],
            "chosen_model": ", ".join(VOTES[good][1]),
            "rejected_model": ", ".join(VOTES[bad][1]),
            "language": LANG,
        }
    assert result.summary.dpo_pairs == 3
    conv = export(task, dpo=True, conversational=True).dpo["train"]
    assert [c["chosen"][0]["content"] for c in conv] == [p["chosen"] for p in pairs]
    assert all(
        c["rejected"] == [{"role": "assistant", "content": p["rejected"]}] for c, p in zip(conv, pairs)
    )


@pytest.mark.server
def test_split_is_by_prompt_and_depends_on_the_text_only(task):
    pack = task["pack"]
    result = export(task, test_size=0.5, dpo=True)
    train, test = result.kto["train"], result.kto["test"]
    assert sorted(map(json.dumps, train + test)) == sorted(map(json.dumps, export(task).kto["train"]))
    train_prompts, test_prompts = {r["prompt"] for r in train}, {r["prompt"] for r in test}
    assert train_prompts and test_prompts and not train_prompts & test_prompts
    unit = {p: int(hashlib.sha256(p.encode()).hexdigest()[:15], 16) / 16**15 for p in pack.prompts[:4]}
    below = {p for p, u in unit.items() if u < 0.5}
    if 0 < len(below) < 4:
        assert test_prompts == below
    else:  # all on one side by chance: one prompt is moved so both sides exist
        assert len(test_prompts) in (1, 3)
    assert {r["prompt"] for r in result.dpo.get("test", [])} <= test_prompts
    assert {r["prompt"] for r in result.dpo["train"]} <= train_prompts
    assert result.summary.splits == {"train": len(train), "test": len(test)}
    # with more prompts later, each of these stays on the side its text hashes to
    more = split_prompts(pack.prompts[:40], 0.5)
    assert more & set(unit) == below
    with pytest.raises(KitError, match="fraction"):
        export(task, test_size=1.5)


# ---- the card -------------------------------------------------------------------------------------


def test_agreement_statistics():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example: alpha = 0.743
    coders = [
        "1 2 3 3 2 1 4 1 2 . . .",
        "1 2 3 3 2 2 4 1 2 5 . 3",
        ". 3 3 3 2 3 4 2 2 5 1 .",
        "1 2 3 3 2 4 4 1 2 5 1 .",
    ]
    units = [[c.split()[u] for c in coders if c.split()[u] != "."] for u in range(12)]
    assert round(krippendorff_alpha(units), 3) == 0.743
    assert krippendorff_alpha([["good", "good"], ["good"]]) is None  # nothing to disagree about
    assert krippendorff_alpha([["good", "good"], ["good", "bad"]]) == 0.0  # Cohen's kappa is 0 too
    assert pairwise_agreement([["good", "good", "bad"]]) == 1 / 3


@pytest.mark.server
def test_card_shows_the_figures(task, tmp_path):
    from PIL import Image

    result = export(task, test_size=0.5, dpo=True, raw=True)
    s = result.summary
    # units with 2+ submitted votes: 0 ggg, 1 bbg, 2 gb, 4 bb, 6 gg, 8 ggb, 9 bb
    # coincidences g-g 6, b-b 5, g-b 3, b-g 3; n = 17: alpha = 1 - 16 * 6 / (9 * 8 * 2) = 1/3
    assert (s.overlap_records, s.alpha, s.pairwise_agreement) == (7, round(1 / 3, 4), round(8 / 13, 4))
    assert s.annotators == 3 and s.responses == {"submitted": 18, "draft": 2, "discarded": 2} and s.raw == 22
    assert [(m.model, m.up, m.down) for m in s.models] == [("tiny-a", 4, 0), ("tiny-b", 1, 3)]
    folder = write_export(tmp_path / "kto", result.kto, s, dpo=result.dpo, raw=result.raw)
    card = (folder / CARD_FILE).read_text()
    n_train, n_test = s.splits["train"], s.splits["test"]
    for needle in [
        "language:\n- ja",
        "# KTO preference data: Japanese (日本語)",
        "| records in Argilla | 10 |",
        "| records with a submitted vote | 8 |",
        "| left out: no submitted vote | 2 |",
        "| left out: tie (as many 👍 as 👎) | 1 |",
        f"| **KTO rows** | **7** (train {n_train}, test {n_test}) |",
        "| prompts | 4 |",
        "| 👍 desirable | 4 (57.1 %) |",
        "| 👎 undesirable | 3 (42.9 %) |",
        "| DPO pairs (config `dpo`) | 3 |",
        "| annotators (with a submitted vote) | 3 |",
        "| responses: submitted / draft / discarded | 18 / 2 / 2 |",
        "Krippendorff's alpha (nominal) is **0.333**",
        "61.5 % of annotator pairs",
        "Strategy **majority**",
        "at least 1 submitted vote.",
        "| tiny-a | 4 | 0 | 100.0 % |",
        "| tiny-b | 1 | 3 | 25.0 % |",
        f"![👍 rate per model]({CHART_FILE})",
        "python train_kto.py",
        "KTOTrainer(",
        'KTOConfig(output_dir="kto-ja")',
    ]:
        assert needle in card, needle
    assert "tiny-c" not in card  # none of its completions was exported
    chart = Image.open(folder / CHART_FILE)
    assert chart.format == "PNG" and chart.width > 600
    # two bars: blue pixels on two rows, the first (100 %) about four times as long as the second (25 %)
    rgb = chart.convert("RGB")
    lengths = [
        sum(rgb.getpixel((x, 46 + i * 34 + 17)) == (59, 130, 246) for x in range(chart.width)) for i in (0, 1)
    ]
    assert lengths[0] > 400 and abs(lengths[1] - lengths[0] / 4) <= 2


# ---- the script -----------------------------------------------------------------------------------


def run_export(*args, config, env=None):
    return run_script(
        "export_kto.py", *args, env={"KTOKIT_CONFIG_DIR": str(config), **(env or {})}, timeout=300
    )


def files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.server
def test_cli_writes_a_loadable_export_byte_for_byte_the_same(task, tmp_path, argilla_server):
    from datasets import load_from_disk

    args = ["--language", LANG, "--test_size", "0.5", "--dpo", "--raw"]
    first = run_export(*args, "--output_dir", str(tmp_path / "a"), config=task["config"])
    assert first.returncode == 0, first.stderr
    print(first.stdout)
    assert "KTO rows     7 (train " in first.stdout and "4 👍 / 3 👎, majority, min votes 1" in first.stdout
    assert "left out     2 unrated, 1 tie" in first.stdout and "DPO pairs    3" in first.stdout
    again = run_export(*args, "--output_dir", str(tmp_path / "b"), config=task["config"])
    assert again.returncode == 0, again.stderr
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert a == b  # same annotations, same bytes
    assert {
        "README.md",
        CHART_FILE,
        "train.jsonl",
        "test.jsonl",
        "dataset_dict.json",
        "dpo/train.jsonl",
        "raw/train.jsonl",
        "export_summary.json",
    } <= set(a)

    data = load_from_disk(str(tmp_path / "a"))
    assert set(data) == {"train", "test"} and data["train"].features["label"].dtype == "bool"
    jsonl = [json.loads(line) for line in (tmp_path / "a" / "train.jsonl").read_text().splitlines()]
    assert jsonl == data["train"].to_list()
    rows = {split: data[split].to_list() for split in data}
    assert sorted(task["ex"][r["completion"]] for r in rows["train"] + rows["test"]) == sorted(MAJORITY)
    for split_rows in rows.values():  # each split in the export's fixed order, every row as expected
        check_rows(
            task,
            split_rows,
            {task["ex"][r["completion"]]: MAJORITY[task["ex"][r["completion"]]] for r in split_rows},
        )

    raw = [json.loads(line) for line in (tmp_path / "a" / "raw" / "train.jsonl").read_text().splitlines()]
    assert len(raw) == 22 and len({r["annotator"] for r in raw}) == 3
    text = json.dumps(raw)
    for user in task["users"]:
        assert user["id"] not in text and user["username"] not in text
    assert {(r["status"], r["label"]) for r in raw if r["status"] != "submitted"} == {
        ("draft", "good"),
        ("draft", "bad"),
        ("discarded", None),
        ("discarded", "good"),
    }

    # rerunning replaces the folder it wrote; a folder it did not write is left alone
    assert run_export(*args, "--output_dir", str(tmp_path / "a"), config=task["config"]).returncode == 0
    assert files(tmp_path / "a") == b
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    refused = run_export("--language", LANG, "--output_dir", str(tmp_path / "mine"), config=task["config"])
    assert refused.returncode == 2 and "was not written by export_kto.py" in refused.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"

    # pushing without a token: one line, and the local export (the backup) is written first
    hub = run_export(
        "--language",
        LANG,
        "--output_dir",
        str(tmp_path / "c"),
        "--push_to_hub",
        "my-org/kto-ja",
        config=task["config"],
        env={"HF_TOKEN": "", "HF_HOME": str(tmp_path / "hf")},
    )
    assert hub.returncode == 2 and hub.stderr.strip().splitlines()[-1] == (
        "error: --push_to_hub my-org/kto-ja needs a Hugging Face token: set HF_TOKEN or run `hf auth login`"
    )
    assert (tmp_path / "c" / "train.jsonl").exists()
    # that was the old spelling (one more release): it still works, with a notice naming the new one
    assert (
        "deprecated: --push_to_hub my-org/kto-ja; write --push_to_hub --hub_model_id my-org/kto-ja"
        in hub.stderr
    )


@pytest.mark.server
def test_kto_trainer_prepares_both_forms(task, tmp_path):
    from datasets import load_from_disk
    from transformers import AutoTokenizer
    from trl import KTOConfig, KTOTrainer
    from trl.data_utils import unpair_preference_dataset

    from ktokit.generate.tiny import tiny_model

    model = str(tiny_model(LANG, progress=False))
    tokenizer = AutoTokenizer.from_pretrained(model)
    for conversational in (False, True):
        result = export(task, conversational=conversational, dpo=True, test_size=0.5)
        folder = write_export(tmp_path / f"kto-{conversational}", result.kto, result.summary, dpo=result.dpo)
        data = load_from_disk(str(folder))
        trainer = KTOTrainer(
            model=model,
            processing_class=tokenizer,
            train_dataset=data["train"],
            eval_dataset=data["test"],
            args=KTOConfig(
                output_dir=str(tmp_path / "out"),
                use_cpu=True,
                per_device_train_batch_size=2,
                report_to=[],
                dataset_num_proc=None,
            ),
        )
        prepared = trainer.train_dataset
        assert len(prepared) == len(data["train"])
        assert all(row["completion_ids"] and row["prompt_ids"] for row in prepared)
        assert [bool(x) for x in prepared["label"]] == data["train"]["label"]
        pairs = load_from_disk(str(folder / "dpo"))["train"]
        unpaired = unpair_preference_dataset(pairs)
        assert sorted(unpaired["label"]) == [False] * len(pairs) + [True] * len(pairs)


# ---- errors ---------------------------------------------------------------------------------------


@pytest.mark.server
def test_no_dataset_and_no_submitted_responses(task, client, argilla_server, monkeypatch):
    monkeypatch.setenv("KTOKIT_CONFIG_DIR", str(task["config"]))
    with pytest.raises(
        KitError, match=r"no annotation dataset recorded for 'de': run `python create_task.py"
    ):
        connect("de")
    with pytest.raises(KitError, match=r"no dataset ja-export/nope on the local Argilla server \(http://"):
        connect(LANG, dataset_name="nope")
    pack = task["pack"]
    quiet = {
        0: (0, ["tiny-a"], ("draft:good", None, None)),
        1: (0, ["tiny-b"], (None, None, None)),
        2: (1, ["tiny-a"], (None, "discarded", None)),
    }
    make_task(
        client,
        pack,
        "haiku-ja-quiet",
        "ja-export",
        quiet,
        argilla_server["data_dir"],
        argilla_server["api_url"],
    )
    quiet_client, dataset, where = connect(LANG, dataset_name="haiku-ja-quiet")
    records = fetch_records(quiet_client, dataset, LANG)
    with pytest.raises(
        KitError,
        match=r"no submitted responses yet in ja-export/haiku-ja-quiet on the local Argilla "
        r"server \(.*\): 3 records pending \(1 draft saved, not submitted\)",
    ):
        build_export(records, pack, dataset=dataset.name, where=where)


def test_unreachable_server_is_one_line(tmp_path):
    from ktokit.paths import write_private

    data_dir = tmp_path / "gone"
    data_dir.mkdir()
    write_private(
        data_dir / "credentials.json",
        {
            "api_url": f"http://127.0.0.1:{manager.free_port()}",
            "api_key": "k" * 12,
            "username": "owner",
            "password": "p" * 12,
        },
    )
    config = tmp_path / "config"
    write_private(
        config / "argilla-targets.json",
        {LANG: {"kind": "local", "data_dir": str(data_dir), "workspace": LANG, "dataset": "haiku-ja"}},
    )
    proc = run_export("--language", LANG, "--output_dir", str(tmp_path / "out"), config=config)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: cannot reach the local Argilla server (http://127.0.0.1:")
    assert "python -m ktokit argilla up" in proc.stderr and "k" * 12 not in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
