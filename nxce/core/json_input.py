"""Reading JSON: one decoder for every body, parameter and document clients send.

It refuses, with a 400 that says why and where, what would otherwise be stored and break
later or cost the service:

- a number that is not a finite double (`1e400`, `-1e999`: Python reads them as infinity,
  which no JSON answer can carry) and the non-JSON `NaN` and `Infinity`;
- an integer beyond a signed 64-bit integer (MongoDB stores no wider integer, and no JSON
  reader on a phone reads one exactly); one rule for every body, statements and documents
  included although they are stored as JSON text;
- a repeated key (xAPI Data 2.2), lone surrogates (not UTF-8, not storable), nesting
  deeper than MAX_DEPTH, objects with more than MAX_KEYS keys, integers too long to read.

A refused number is named by its property path: `statement.result.score.raw: 1e400 is out
of range for a JSON number`. `stored` reads JSON text the service stored itself (an older
release wrote `Infinity` into statements): non-finite numbers come back as null, so every
read answers valid JSON.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from nxce.core.errors import BadRequest, show_value

MAX_DEPTH = 64
MAX_KEYS = 2000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class JsonRefused(BadRequest):
    """A body the decoder refuses. `field` is the property path of a refused value (None
    when the body as a whole is refused: not JSON, nested too deep, a repeated key)."""

    slug, title = "malformed-json", "Malformed JSON"

    def __init__(self, detail: str, *, field: str | None = None, reason: str = "") -> None:
        super().__init__(detail)
        self.field = field
        self.reason = reason or detail


class _NotFinite(float):
    """A number literal that is no finite double, kept with its text until the walk that
    knows its path names it."""

    text: str


def _marked(text: str, value: float) -> float:
    if math.isfinite(value):
        return value
    marker = _NotFinite(value)
    marker.text = text
    return marker


def _parse_float(text: str) -> float:
    return _marked(text, float(text))


def _parse_constant(name: str) -> float:
    return _marked(name, float(name))  # NaN, Infinity, -Infinity: never finite


def _pairs(what: str) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(pairs) > MAX_KEYS:
            raise JsonRefused(f"{what}: an object has {len(pairs)} properties; at most {MAX_KEYS}")
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise JsonRefused(
                    f"{what}: property {key[:80]!r} appears more than once (Data 2.2)"
                )
            seen[key] = value
        return seen

    return hook


def _step(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _NAME.fullmatch(key):
        return f"{path}.{key}" if path else key
    quoted = json.dumps(key if len(key) <= 80 else f"{key[:80]}…", ensure_ascii=False)
    return f"{path}[{quoted}]"


def _refuse(what: str, path: str, reason: str) -> JsonRefused:
    where = f"{what}.{path}" if path and not path.startswith("[") else f"{what}{path}"
    return JsonRefused(f"{where}: {reason}", field=path or None, reason=reason)


def _number_reason(item: Any) -> str | None:
    """Why a parsed number cannot be kept, or None when it can."""
    if isinstance(item, _NotFinite):
        if item.text in ("NaN", "Infinity", "-Infinity"):
            return f"{item.text} is not a JSON number"
        return f"{show_value(item.text)[1:-1]} is out of range for a JSON number"
    if type(item) is int and not INT64_MIN <= item <= INT64_MAX:
        digits = str(item)
        shown = digits if len(digits) <= 40 else f"{digits[:20]}… ({len(digits)} digits)"
        return f"{shown} is out of range: integers must fit in a signed 64-bit integer"
    return None


# Where a value sits, built only when a value is refused: (parent, key) or None for the root.
_Place = tuple[Any, str | int] | None


def _path(place: _Place) -> str:
    keys: list[str | int] = []
    while place is not None:
        place, key = place
        keys.append(key)
    path = ""
    for key in reversed(keys):
        path = _step(path, key)
    return path


def check_value(value: Any, what: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH, strings with lone surrogates and numbers the
    service cannot keep (see the module), naming the property path."""
    stack: list[tuple[Any, int, _Place]] = [(value, 1, None)]
    while stack:
        item, depth, place = stack.pop()
        if depth > MAX_DEPTH:
            raise JsonRefused(f"{what}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            _check_text(item, what, place)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _check_text(key, what, place)
                stack.append((inner, depth + 1, (place, key)))
        elif isinstance(item, list):
            stack.extend((inner, depth + 1, (place, i)) for i, inner in enumerate(item))
        elif (reason := _number_reason(item)) is not None:
            raise _refuse(what, _path(place), reason)


def _check_text(text: str, what: str, place: _Place) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(
            what, _path(place), "a string holds a lone surrogate, which is not text (UTF-8)"
        ) from None


def loads(raw: bytes | str, what: str) -> Any:
    """Parse client JSON under the rules above; JsonRefused (a 400) naming `what` and the
    property path otherwise."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise JsonRefused(f"{what} is not UTF-8 (Communication 1.4)") from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs(what),
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except json.JSONDecodeError as error:
        raise JsonRefused(
            f"{what} is not valid JSON: {error.msg} at position {error.pos}"
        ) from None
    except RecursionError:
        raise JsonRefused(f"{what}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise JsonRefused(f"{what} is not valid JSON: {str(error)[:120]}") from None
    check_value(value, what)
    return value


def _finite_or_none(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def stored(text: str | bytes) -> Any:
    """JSON text the service stored itself, with non-finite numbers (`Infinity`, `1e400`:
    an older release stored them) read as null, so that what is served is valid JSON."""
    return json.loads(text, parse_float=_finite_or_none, parse_constant=lambda _: None)


def dumps(value: Any) -> str:
    """JSON text to store: UTF-8 text, and never a non-finite number (a ValueError)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
