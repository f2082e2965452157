"""Syllable and mora counters, one per language, found by name.

A counter turns a line of text into a `Count`: the preferred count and the other valid ones
(English "fire" is 1 or 2 syllables). Counters are imported lazily: each may need its own data.
"""

from __future__ import annotations

import importlib

from ktokit.console import KitError
from ktokit.packs.counting.base import Count, Counter, WordCounter

# name -> "module:Class". A new language adds one line here and one module beside this file.
COUNTERS: dict[str, str] = {
    "en": "ktokit.packs.counting.english:EnglishCounter",
    "es": "ktokit.packs.counting.spanish:SpanishCounter",
    "fr": "ktokit.packs.counting.french:FrenchCounter",
    "de": "ktokit.packs.counting.german:GermanCounter",
    "nl": "ktokit.packs.counting.dutch:DutchCounter",
    "ja": "ktokit.packs.counting.japanese:JapaneseMoraCounter",
}

_cache: dict[str, Counter] = {}


def available_counters() -> list[str]:
    return sorted(COUNTERS)


def get_counter(name: str) -> Counter:
    """The counter registered as `name`; one clear error if there is none."""
    if name not in COUNTERS:
        raise KitError(f"unknown counter {name!r}: use one of {', '.join(available_counters())}")
    if name not in _cache:
        module_name, _, class_name = COUNTERS[name].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise KitError(
                f"counter {name!r} needs a package that is not installed ({exc.name}); "
                f"run `make setup` (or `pip install -e '.[{name}]'`)"
            ) from exc
        _cache[name] = getattr(module, class_name)()
    return _cache[name]


__all__ = ["COUNTERS", "Count", "Counter", "WordCounter", "available_counters", "get_counter"]
