"""Problem+json (RFC 9457) responses for every error the service returns."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from nxce.core.errors import NxceError, show_value

log = logging.getLogger("nxce")

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; `type` is a stable URN clients can switch on."""
    body = {"type": f"urn:nxce:problem:{slug}", "title": title, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


async def send_problem(
    send: Send,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """The same problem+json, sent by an ASGI middleware before any route runs."""
    response = problem(status, slug, title, detail, headers)
    start = {"type": "http.response.start", "status": status, "headers": response.raw_headers}
    await send(start)
    await send({"type": "http.response.body", "body": response.body})


# Fields whose values a validation problem never shows (the value is in the request the
# client sent; a problem can end up in logs and screenshots).
# Never echoed in a 422: id numbers, secrets, and what an app's sign-in sends (an account
# name may be an id number or a phone; refresh tokens). Names other routes use for other
# things (a course's `code`) are not listed: the account routes keep those fields free of
# checks that would echo a secret (accounts/schemas.py). `old`, `new` and `again` are the
# password change's and the pages' passwords (`POST /auth/password`, `/me/password`,
# `/activate`); no other route takes a field of those names.
SECRET_FIELDS = frozenset(
    {"id_number", "secret", "password", "account", "refresh_token", "old", "new", "again"}
)


def _field_error(error: dict[str, Any]) -> dict[str, Any]:
    location, *path = error.get("loc", ("body",))
    field = ".".join(str(p) for p in path) or str(location)
    message = error.get("msg", "invalid")
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    entry: dict[str, Any] = {"location": location, "field": field, "message": message}
    if error.get("type") == "extra_forbidden":
        entry["message"] = f"unknown {'parameter' if location == 'query' else 'field'} {field!r}"
    elif str(path[-1] if path else location) in SECRET_FIELDS:
        pass  # never echoed: a national id number, a secret
    elif error.get("type") != "missing" and "input" in error:
        entry["value"] = show_value(error["input"])
    return entry


def _validation_detail(entries: list[dict[str, Any]]) -> str:
    parts = []
    for e in entries:
        text = f"{e['field']}: {e['message']}"
        if "value" in e and "got" not in e["message"]:
            text += f", got {e['value']}"
        parts.append(text)
    return "; ".join(parts)


async def _nxce_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NxceError)
    challenge = exc.extra.pop("challenge", 'Basic realm="nxce"')
    headers = {"WWW-Authenticate": challenge} if exc.status == 401 else None
    if exc.status in (429, 503) and "retry_after" in exc.extra:
        headers = {"Retry-After": str(exc.extra.pop("retry_after"))}
    return problem(exc.status, exc.slug, exc.title, exc.detail, headers=headers, **exc.extra)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        e = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (e.get("ctx") or {}).get("error", "malformed JSON")
        position = e["loc"][1] if len(e.get("loc", ())) > 1 else "?"
        return problem(
            400,
            "malformed-json",
            "Malformed JSON",
            f"request body is not valid JSON: {reason} at position {position}",
        )
    entries = [_field_error(e) for e in errors]
    return problem(
        422, "validation-error", "Invalid input", _validation_detail(entries), errors=entries
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        return problem(
            400,
            "malformed-json",
            "Malformed JSON",
            "request body could not be read as JSON: not UTF-8, nested too deeply, "
            "or a number with too many digits",
        )
    if exc.status_code == 404:
        detail = f"no resource at {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    else:
        detail = str(exc.detail)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem(exc.status_code, slug, _title(exc.status_code), detail, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal-error", "Internal error", "the server failed; it is logged")


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install(app: FastAPI) -> None:
    """Install the problem+json handlers on `app`."""
    app.add_exception_handler(NxceError, _nxce_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


class Problem(BaseModel):
    """The error document every error response carries (application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem responses a route can give."""
    return {
        status: {
            "model": Problem,
            "description": _title(status),
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }
