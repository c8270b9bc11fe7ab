"""The values statements are made of (Data 2.2, 4): objects, strings, numbers, IRIs,
UUIDs, language maps, extensions and timestamps, and the error a failed check raises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lrs.statements import primitives as p
from lrs.versions import XapiVersion


class StatementInvalid(ValueError):
    """A statement breaks a rule of the specification; `path` names the property."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def fail(path: str, message: str) -> StatementInvalid:
    """The error for the property at `path`; the caller raises it."""
    return StatementInvalid(path, message)


def show(value: Any) -> str:
    """`value` as a message quotes it: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "…"


class ValueChecker:
    """Walks one statement; `version` selects the rules that differ between versions."""

    def __init__(self, version: XapiVersion) -> None:
        self.version = version

    def object(
        self, value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Data 2.2: a JSON object with only the allowed keys (exact case), no nulls."""
        if not isinstance(value, dict):
            raise fail(path, f"must be a JSON object, got {show(value)} (Data 2.2)")
        for key, item in value.items():
            if key not in allowed:
                near = next((a for a in allowed if a.lower() == str(key).lower()), None)
                hint = f"; the property is {near!r} (case matters)" if near else ""
                raise fail(f"{path}.{key}", f"is not a property of this object{hint} (Data 2.2)")
            if item is None:
                raise fail(f"{path}.{key}", "must not be null (Data 2.2)")
        for key in required:
            if key not in value:
                raise fail(f"{path}.{key}", "is required")
        return value

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise fail(path, f"must be a string, got {show(value)} (Data 2.2)")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise fail(path, f"must be true or false, got {show(value)} (Data 2.2)")
        return value

    def number(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(path, f"must be a number, got {show(value)} (Data 2.2)")
        return float(value)

    def integer(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise fail(path, f"must be an integer, got {show(value)} (Data 2.2)")
        return value

    def check(self, ok: Callable[[Any], bool], value: Any, path: str, what: str) -> Any:
        if not ok(value):
            raise fail(path, f"must be {what}, got {show(value)}")
        return value

    def iri(self, value: Any, path: str) -> str:
        self.string(value, path)
        return str(self.check(p.is_iri, value, path, "an IRI with a scheme (Data 4.4)"))

    def uuid(self, value: Any, path: str) -> str:
        self.string(value, path)
        return str(self.check(p.is_uuid, value, path, "a UUID (Data 4.1)"))

    def language_map(self, value: Any, path: str) -> None:
        """Data 4.2: RFC 5646 tags as keys, strings as values."""
        if not isinstance(value, dict):
            raise fail(path, f"must be a language map object, got {show(value)} (Data 4.2)")
        for tag, text in value.items():
            if not p.is_language_tag(tag):
                raise fail(f"{path}.{tag}", "is not an RFC 5646 language tag (Data 4.2)")
            if not isinstance(text, str):
                raise fail(f"{path}.{tag}", f"must be a string, got {show(text)} (Data 4.2)")

    def extensions(self, value: Any, path: str) -> None:
        """Data 4.3: keys are IRIs; values are any JSON, null included."""
        if not isinstance(value, dict):
            raise fail(path, f"must be an object, got {show(value)} (Data 4.3)")
        for key in value:
            if not p.is_iri(key):
                raise fail(f"{path}.{key}", "extension keys must be IRIs (Data 4.3)")

    def timestamp(self, value: Any, path: str) -> None:
        self.string(value, path)
        if p.parse_timestamp(value) is None:
            raise fail(
                path,
                f"must be an ISO 8601 timestamp with a time zone, got {show(value)} (Data 4.5)",
            )
