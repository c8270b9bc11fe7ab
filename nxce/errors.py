"""The error base every domain raises; HTTP handling lives in `nxce.problems`.

Each error carries the HTTP status and a short slug that becomes the problem `type`.
This module imports nothing from FastAPI, so service modules stay framework-free.
"""

from __future__ import annotations

from typing import Any


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


class PayloadTooLarge(NxceError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(NxceError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(NxceError):
    status, slug, title = 422, "validation-error", "Invalid input"


class PreconditionFailed(NxceError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"
