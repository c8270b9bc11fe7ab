"""Request body limits and compressed request bodies.

A body over the limit gets a 413 and never reaches a route. A body sent with
`Content-Encoding: gzip` (the mobile app on a slow network) is inflated here, and the limit
holds for what it inflates to as well, so a small bomb cannot fill memory.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nxce.core.asgi import header
from nxce.core.problems import send_problem

_METHODS_WITH_BODY = {"POST", "PUT", "PATCH", "DELETE"}
# A refused body may still be arriving: the connection closes after the answer.
_CLOSE = {"connection": "close"}


class BodyLimit:
    """ASGI middleware: read at most `max_bytes` of a request body, else answer 413.

    The body is buffered (it is at most `max_bytes`) and replayed to the app, so a
    route never sees a truncated body and nothing is written for a refused request.
    `overrides` give some paths their own limit: a string is a path prefix (`/xapi/`), a
    compiled pattern must match the whole path (one route's upload allowance); the first
    that applies wins.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        overrides: Mapping[str | re.Pattern[str], int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = dict(overrides or {})

    def limit_for(self, path: str) -> int:
        """The body limit of requests to `path`."""
        for where, limit in self.overrides.items():
            if isinstance(where, str) and path.startswith(where):
                return limit
            if isinstance(where, re.Pattern) and where.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _METHODS_WITH_BODY:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send, declared, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, None, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        encoding = header(scope, b"content-encoding")
        if encoding is not None and encoding.strip().lower() not in ("", "identity"):
            if encoding.strip().lower() not in ("gzip", "x-gzip"):  # RFC 9110 §8.4.1.3
                await send_problem(
                    send, 415, "unsupported-media-type", "Unsupported media type",
                    f"Content-Encoding must be gzip (or identity), got {encoding!r}",
                    headers=_CLOSE,
                )  # fmt: skip
                return
            inflated = _gunzip(body, limit)
            if isinstance(inflated, tuple):
                await send_problem(send, *inflated, headers=_CLOSE)
                return
            body = inflated
            scope = dict(scope)
            scope["headers"] = [
                (k, v)
                for k, v in scope["headers"]
                if k not in (b"content-encoding", b"content-length")
            ] + [(b"content-length", str(len(body)).encode())]
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, declared: int | None, limit: int) -> None:
        size = f"{declared} bytes" if declared is not None else "more than that"
        await send_problem(
            send, 413, "payload-too-large", "Request body too large",
            f"request body must be at most {limit} bytes, got {size}", headers=_CLOSE,
        )  # fmt: skip


_GZIP = 16 + zlib.MAX_WBITS  # zlib's window bits for the gzip container


def _gunzip(body: bytes, limit: int) -> bytes | tuple[int, str, str, str]:
    """The inflated body, or the problem (status, slug, title, detail) to answer."""
    inflater = zlib.decompressobj(_GZIP)
    try:
        inflated = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        return 400, "bad-request", "Bad request", f"Content-Encoding gzip: {error}"
    if len(inflated) > limit:
        detail = f"request body must be at most {limit} bytes inflated (Content-Encoding gzip)"
        return 413, "payload-too-large", "Request body too large", detail
    if not inflater.eof or inflater.unused_data:
        detail = "Content-Encoding gzip: the body is not one whole gzip stream"
        return 400, "bad-request", "Bad request", detail
    return inflated


def _content_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
