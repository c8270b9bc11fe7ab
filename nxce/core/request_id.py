"""A request id on every answer and every log line of the request.

The caller's `X-Request-ID` is kept when it is sane (1 to 64 characters of
`[A-Za-z0-9._-]`: nothing that could forge a log line or carry a learner's data at
length), else a new one is made (32 hex digits); the answer names it in `X-Request-ID`.
While the request runs, a context variable holds it, and `RequestIdFilter` puts it on every
log record (`-` outside a request).
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")
NONE = "-"

current: ContextVar[str] = ContextVar("nxce_request_id", default=NONE)


def chosen(given: str | None) -> str:
    """The caller's id when it is sane, else a new one."""
    if given is not None and SANE.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestId:
    """Outermost middleware: chooses the request's id, holds it while the request runs, and
    names it on the answer (a refusal by any inner middleware included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).getlist(HEADER)
        request_id = chosen(given[0] if len(given) == 1 else None)
        token = current.set(request_id)

        async def naming(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, naming)
        finally:
            current.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on each record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get()
        return True
