"""Schema checks of the kit's YAML files (language packs, model sets) with pydantic, one error line each.

pydantic reports every problem of a file at once, with its field path, over several lines; the kit
says one line: `<file>: <field>: <what is wrong>; <how to fix>`, the first problem, and how many more.
Part of the packs so that the Spaces, which vendor `ktokit/packs/`, get it too (gradio brings pydantic).
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ktokit.console import KitError

M = TypeVar("M", bound=BaseModel)
# YAML's plain scalars that are not text: `no` (Norwegian's code), `yes`, `on`, `1.0`, `2024`
QUOTE_IT = "quote it (YAML reads yes/no/on/off as booleans and bare numbers as numbers)"


class Strict(BaseModel):
    """No unknown keys (a typo is an error, not a silently ignored field), and no type coercion:
    `concurrency: "8"` is refused (as the hand-written model-set checks did), and so is `good: yes`."""

    model_config = ConfigDict(extra="forbid", strict=True)


def validate(
    model: type[M], data: object, where: str, *, doc: str = "", hints: Mapping[str, str] | None = None
) -> M:
    """`data` as `model`, or a KitError line naming `where` and the field. `hints` maps a field path
    (`form.pattern`) to how to fix it; `doc` says where the format is described (every other field)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise KitError(error_line(model, exc, where, doc=doc, hints=hints)) from None


def error_line(
    model: type[BaseModel],
    exc: ValidationError,
    where: str,
    *,
    doc: str = "",
    hints: Mapping[str, str] | None = None,
) -> str:
    """The first of pydantic's errors as one line; the others as a count (fix, rerun, see the next)."""
    errors = exc.errors()
    error = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    names = [str(p) for p in error["loc"] if not isinstance(p, int)]  # list items: the field is enough
    field = ".".join(names)
    kind, value = error["type"], error.get("input")
    hint = (hints or {}).get(field)
    blank = value is None or (isinstance(value, str) and not value.strip())
    if kind == "missing" or (kind in ("string_type", "string_too_short") and blank):
        return f"{where}: missing field '{field}'" + (f" ({hint or doc})" if hint or doc else "") + more
    if kind == "extra_forbidden":
        parent, key = ".".join(names[:-1]), names[-1]
        known = list(_model_at(model, names[:-1]).model_fields)
        found = f"{parent} has {key!r}" if parent else f"{key!r}"
        close = difflib.get_close_matches(key, known, n=1)
        typo = f"; did you mean {close[0]!r}?" if close else ""
        return f"{where}: unknown key: {found}; the keys are {', '.join(known)}{typo}{more}"
    what = _what(kind, value, error)
    fix = hint or (QUOTE_IT if kind == "string_type" and value is not None else doc)
    return f"{where}: " + (f"{field}: " if field else "") + what + (f"; {fix}" if fix else "") + more


def _what(kind: str, value: Any, error: Mapping[str, Any]) -> str:
    got, ctx = _short(value), error.get("ctx") or {}
    if kind == "greater_than_equal":
        return f"must be >= {ctx['ge']:g}, got {got}"
    if kind == "greater_than":
        return f"must be > {ctx['gt']:g}, got {got}"
    return {
        "model_type": f"expected a mapping of fields, got {type(value).__name__}",
        "dict_type": f"expected a mapping, got {type(value).__name__}",
        "list_type": f"expected a list, got {got}",
        "string_type": f"expected text, got {got}",
        "int_type": f"expected a whole number, got {got}",
        "float_type": f"expected a number, got {got}",
        "bool_type": f"expected true or false, got {got}",
        "too_short": "must not be empty",
    }.get(kind, f"{error['msg']}, got {got}")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _model_at(model: type[BaseModel], names: list[str]) -> type[BaseModel]:
    """The nested model at a field path (`review.labels`), to list the keys it knows."""
    for name in names:
        model = next(t for t in _types_in(model.model_fields[name].annotation) if _is_model(t))
    return model


def _types_in(annotation: Any) -> list[Any]:
    """`Labels | None` or `list[Entry]` and the types they are made of."""
    return [annotation, *(t for arg in typing.get_args(annotation) for t in _types_in(arg))]


def _is_model(t: Any) -> bool:
    return typing.get_origin(t) is None and isinstance(t, type) and issubclass(t, BaseModel)
