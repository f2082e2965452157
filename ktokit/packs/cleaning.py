"""Turn a raw model response into the text it was asked for.

Chat models wrap a short text in talk: "Sure! Here's a haiku:", a Markdown title, quotes, numbering,
syllable counts in brackets, a trailing "This haiku evokes...". The cleaner removes the wrapping by
its shape, not by the words used, so it works in any language; a short list of common openers in
the shipped languages catches preambles that do not end with a colon.
"""

from __future__ import annotations

import re

# Openers seen in real answers; only used on a line that also looks like talk (see _is_preamble).
_OPENERS = re.compile(
    r"^\W*(sure|certainly|of course|absolutely|here(?:'s| is| are)|okay|ok\b|alright|"
    r"claro|por supuesto|aquí|aqui|vale|"
    r"bien sûr|voici|voilà|d'accord|"
    r"natürlich|klar|gerne|hier (?:ist|sind|is)|"
    r"zeker|natuurlijk|prima|"
    r"もちろん|はい|以下|こちら)",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^\s*```.*$", re.MULTILINE)
_HEADING = re.compile(
    r"^\s*(#{1,6}\s+.*|\*\*[^*]+\*\*:?|__[^_]+__:?|(title|titre|título|titel|タイトル)\s*[:：].*)$",
    re.IGNORECASE,
)
_NUMBERING = re.compile(r"^\s*(?:(?:\d+|[ivx]+)[.)]\s+|[-*•·–]\s+|>\s*)", re.IGNORECASE)
_COUNT_NOTE = re.compile(
    r"\s*(?:[(\[]\s*\d+(?:\s*[a-zà-ÿぁ-んァ-ン音]+)?\s*[)\]]|[-–—:]\s*\d+\s+(?:syllables?|sílabas?|syllabes?|silben?|lettergrepen?|音)\b\.?)\s*$",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"(\*\*|__|\*|`|~~)")
_QUOTES = "\"'“”«»„‘’「」『』"
_PROSE_HINT = re.compile(
    r"haiku|syllab|sílab|silbe|lettergreep|音節|this poem|ce poème|este poema", re.IGNORECASE
)


def _strip_line(line: str) -> str:
    line = _NUMBERING.sub("", line)
    line = _COUNT_NOTE.sub("", line)
    line = _MARKUP.sub("", line)
    line = line.strip().rstrip("/|").strip()
    return line


def _unquote(text: str) -> str:
    text = text.strip()
    while len(text) > 1 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def _is_preamble(line: str) -> bool:
    stripped = line.strip()
    return stripped.endswith((":", "：")) or bool(
        _OPENERS.match(stripped) and len(stripped) > 12 and stripped[-1] in ".!:：。！"
    )


def _is_title(line: str) -> bool:
    return bool(_HEADING.match(line))


def _looks_like_prose(line: str, typical: float) -> bool:
    return bool(_PROSE_HINT.search(line)) or (typical > 0 and len(line) > 2.2 * typical and len(line) > 50)


def _blocks(text: str) -> list[list[str]]:
    blocks, current = [], []
    for line in text.split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def clean_response(raw: str | None, expected_lines: int | None = None) -> str:
    """The text a model meant as its answer, one line per line; "" if nothing is left.

    `expected_lines` (from the pack's form rule) helps pick the poem out of a longer answer.
    """
    if not raw:
        return ""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _FENCE.sub("", text)
    blocks = _blocks(text)
    # Drop leading talk: whole preamble/title blocks, then a preamble/title line heading a block.
    while len(blocks) > 1 and all(_is_preamble(ln) or _is_title(ln) for ln in blocks[0]):
        blocks.pop(0)
    if blocks:
        first = blocks[0]
        while len(first) > 1 and (_is_preamble(first[0]) or _is_title(first[0])):
            first.pop(0)
    blocks = [[s for ln in b if (s := _strip_line(_unquote(ln)))] for b in blocks]
    blocks = [b for b in blocks if b]
    if not blocks:
        return ""
    # A poem written with a blank line between its lines.
    if expected_lines and len(blocks) >= expected_lines and all(len(b) == 1 for b in blocks[:expected_lines]):
        poem = [b[0] for b in blocks[:expected_lines]]
    elif expected_lines:
        poem = next((b for b in blocks if len(b) == expected_lines), None) or blocks[0]
    else:
        poem = next((b for b in blocks if len(b) > 1), blocks[0])
    # Trailing explanation in the same block.
    if expected_lines and len(poem) > expected_lines:
        typical = sum(len(ln) for ln in poem[:expected_lines]) / expected_lines
        while len(poem) > expected_lines and _looks_like_prose(poem[-1], typical):
            poem = poem[:-1]
    # Quotes around the whole poem rather than around each line.
    if poem[0][0] in _QUOTES and poem[-1][-1] in _QUOTES:
        poem = [poem[0][1:].strip(), *poem[1:-1], poem[-1][:-1].strip()] if len(poem) > 1 else poem
    return "\n".join(_unquote(ln) for ln in poem if ln)


def is_talk(text: str) -> bool:
    """Is a (cleaned) answer nothing but talk ("Sure! Here's a haiku:", "Of course, happy to help.")?

    The cleaner keeps a lone line even when it looks like a preamble, since it may be the answer; the
    drafting commands use this to drop such answers as chatter rather than as drafts.
    """
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return bool(lines) and all(_is_preamble(ln) for ln in lines)
