"""Reading JSON that clients send: one loader for statements, parameters and documents.

It refuses, with a 400 that says why, what would otherwise be stored and break later or
cost the service: a repeated key (Data 2.2), NaN and Infinity (not JSON), lone surrogates
(not UTF-8, and not storable), nesting deeper than MAX_DEPTH, objects with more than
MAX_KEYS keys, and integers too long to read.
"""

from __future__ import annotations

import json
from typing import Any

from nxce.core.errors import BadRequest

MAX_DEPTH = 64
MAX_KEYS = 2000


def _no_constants(name: str) -> Any:
    raise BadRequest(f"{name} is not a JSON number")


def _pairs(what: str) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(pairs) > MAX_KEYS:
            raise BadRequest(f"{what}: an object has {len(pairs)} properties; at most {MAX_KEYS}")
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise BadRequest(f"{what}: property {key[:80]!r} appears more than once (Data 2.2)")
            seen[key] = value
        return seen

    return hook


def check_depth_and_text(value: Any, what: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings with lone surrogates."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"{what}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            _check_text(item, what)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _check_text(key, what)
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)


def _check_text(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(
            f"{what}: a string holds a lone surrogate, which is not text (Communication 1.4: UTF-8)"
        ) from None


def loads(raw: bytes | str, what: str) -> Any:
    """Parse client JSON under the rules above; 400 naming `what` otherwise."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not UTF-8 (Communication 1.4)") from None
    try:
        value = json.loads(text, object_pairs_hook=_pairs(what), parse_constant=_no_constants)
    except json.JSONDecodeError as error:
        raise BadRequest(f"{what} is not valid JSON: {error.msg} at position {error.pos}") from None
    except RecursionError:
        raise BadRequest(f"{what}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise BadRequest(f"{what} is not valid JSON: {str(error)[:120]}") from None
    check_depth_and_text(value, what)
    return value
