"""Small helpers for the service's ASGI middlewares."""

from __future__ import annotations

from starlette.types import Scope


def headers(scope: Scope, name: bytes) -> list[str]:
    """Every value of a request header (`name` in lower case), in order."""
    return [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (`name` in lower case), or None."""
    found = headers(scope, name)
    return found[0] if found else None
