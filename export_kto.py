"""Export the submitted 👍/👎 responses of a language's Argilla dataset as a KTO dataset (TRL's format).

    python export_kto.py --language es                                   # outputs/es/kto
    python export_kto.py --language es --strategy unanimous --min_votes 2 --test_size 0.1 --dpo --raw
    python export_kto.py --language es --conversational --push_to_hub my-org/haiku-kto-es --private
    python export_kto.py --config export.yaml                            # the same flags as YAML keys

The server and dataset are the ones `create_task.py` recorded. Only submitted responses count;
each record gets one label (`--strategy majority|unanimous`, ties left out, `--min_votes`). Writes
a `load_from_disk` folder plus JSONL per split, `dpo/` with --dpo, `raw/` with --raw, a dataset card
(README.md) with its chart, and export_summary.json. The same annotations give the same bytes.
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path

from ktokit.entry import run_script


@dataclass
class ExportArguments:
    language: str = field(metadata={"help": "Language pack code, e.g. `es`: the dataset create_task.py made for it."})
    strategy: str = field(
        default="majority",
        metadata={"help": "How votes become one label: `majority` (ties left out) or `unanimous` "
                          "(any disagreement left out).", "choices": ["majority", "unanimous"]},
    )
    min_votes: int = field(default=1, metadata={"help": "Submitted votes a record needs to be exported."})
    conversational: bool = field(
        default=False,
        metadata={"help": "Conversational rows (lists of messages, the pack's system prompt included) "
                          "instead of standard text rows."},
    )
    dpo: bool = field(default=False, metadata={"help": "Also write DPO pairs (prompt, chosen, rejected) to <output_dir>/dpo."})
    test_size: float = field(
        default=0.0,
        metadata={"help": "Fraction of prompts in a test split, chosen by a hash of the prompt "
                          "(deterministic; no prompt on both sides). 0: train only."},
    )
    raw: bool = field(
        default=False,
        metadata={"help": "Also save every response (drafts and discards too, annotators pseudonymised) "
                          "to <output_dir>/raw: a backup of the community's work."},
    )
    output_dir: str | None = field(default=None, metadata={"help": "Where to write (default: outputs/<language>/kto)."})
    push_to_hub: str | None = field(default=None, metadata={"help": "Also push to this Hub dataset repo ORG/NAME."})
    private: bool = field(default=False, metadata={"help": "Create the Hub repo as private."})
    dataset_name: str | None = field(default=None, metadata={"help": "Argilla dataset (default: the one create_task.py recorded)."})
    workspace: str | None = field(default=None, metadata={"help": "Argilla workspace (default: the one create_task.py recorded)."})


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(args: ExportArguments) -> Path:
    from ktokit.export import build_export, connect, fetch_records, push_export, write_export
    from ktokit.languages import load_pack

    # The language pack (names, system prompt) and the dataset create_task.py recorded for it
    pack = load_pack(args.language)
    client, dataset, where = connect(pack.code, args.dataset_name, args.workspace)
    log(f"reading {where}")

    # Every record with its responses, then one label per record
    records = fetch_records(client, dataset, pack.code)
    export = build_export(records, pack, dataset=f"{dataset.workspace.name}/{dataset.name}", strategy=args.strategy,
                          min_votes=args.min_votes, conversational=args.conversational, dpo=args.dpo,
                          test_size=args.test_size, raw=args.raw, where=where)
    s = export.summary
    print(f"records      {s.records} ({s.rated} with a submitted vote); responses "
          + ", ".join(f"{n} {k}" for k, n in s.responses.items()) + f"; {s.annotators} annotators")
    print(f"KTO rows     {s.rows} ({', '.join(f'{k} {n}' for k, n in s.splits.items())}): "
          f"{s.up} 👍 / {s.down} 👎, {s.strategy}, min votes {s.min_votes}, {s.form} form")
    if s.left_out:
        left_out = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in s.left_out.items())
        print(f"left out     {left_out}")
    alpha = "n/a" if s.alpha is None else f"{s.alpha:.3f}"
    print(f"agreement    Krippendorff's alpha {alpha} on {s.overlap_records} records with 2+ votes")
    if s.dpo_pairs is not None:
        print(f"DPO pairs    {s.dpo_pairs}")

    # Write locally (always: it is the backup), then push if asked
    folder = write_export(args.output_dir or Path("outputs") / pack.code / "kto", export.kto, s,
                          dpo=export.dpo, raw=export.raw)
    print(f"wrote        {folder}/ (load_from_disk, {', '.join(f'{k}.jsonl' for k in export.kto)}, README.md)")
    if args.push_to_hub:
        url = push_export(folder, args.push_to_hub, private=args.private)
        print(f"pushed       {url}")
    return folder


if __name__ == "__main__":
    import datasets

    datasets.disable_progress_bars()  # the script prints its own summary
    run_script(main, ExportArguments)
