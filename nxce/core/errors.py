"""The error base every domain raises; HTTP handling lives in `nxce.problems`.

Each error carries the HTTP status and a short slug that becomes the problem `type`.
This module imports nothing from FastAPI, so service modules stay framework-free.
"""

from __future__ import annotations

import json
from typing import Any

_MAX_VALUE_CHARS = 80


def show_value(value: Any) -> str:
    """A short, safe rendering of a bad value for an error message."""
    if isinstance(value, str | bytes) and len(value) > _MAX_VALUE_CHARS:
        return f"{value[:_MAX_VALUE_CHARS]!r}… ({len(value)} characters)"
    if isinstance(value, str):
        text = repr(value)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > _MAX_VALUE_CHARS:
        return f"{text[:_MAX_VALUE_CHARS]}… ({len(text)} characters)"
    return text


class NxceError(Exception):
    """An error the client can act on; `status` is its HTTP status."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(NxceError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(NxceError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(NxceError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(NxceError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(NxceError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(NxceError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(NxceError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(NxceError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(NxceError):
    status, slug, title = 422, "validation-error", "Invalid input"


class TooManyRequests(NxceError):
    status, slug, title = 429, "too-many-requests", "Too many requests"


class ServiceUnavailable(NxceError):
    status, slug, title = 503, "unavailable", "Service unavailable"


def invalid(
    field: str, message: str, value: Any = None, *, location: str = "body"
) -> Unprocessable:
    """A 422 about one field, shaped like the request validation errors."""
    entry: dict[str, Any] = {"location": location, "field": field, "message": message}
    detail = f"{field}: {message}"
    if value is not None:
        entry["value"] = show_value(value)
        detail += f", got {entry['value']}"
    return Unprocessable(detail, errors=[entry])
