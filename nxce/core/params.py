"""Query-string rules every route shares: text that is UTF-8, no parameter twice, none a
route does not take, and numbers and dates written one way."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from fastapi import Request
from pydantic import BeforeValidator
from starlette.types import ASGIApp, Receive, Scope, Send

from nxce.core.errors import invalid, show_value
from nxce.core.problems import send_problem


async def single_valued(request: Request) -> None:
    """`?series=会计&series=卫生` is refused: which one was meant is unknowable."""
    counts = Counter(key for key, _ in request.query_params.multi_items())
    repeated = next((key for key, count in counts.items() if count > 1), None)
    if repeated is not None:
        raise invalid(repeated, f"given {counts[repeated]} times; give it once", location="query")


async def no_query(request: Request) -> None:
    """For routes that take no query parameters: any parameter is a mistake worth naming."""
    for key in request.query_params:
        raise invalid(key, f"unknown parameter {show_value(key)}", location="query")


def not_utf8(query_string: bytes) -> tuple[str, bytes] | None:
    """The first parameter (its name, leniently decoded, and its raw text) whose name or
    value is not UTF-8 once percent-decoded, or None. Starlette decodes such bytes as
    U+FFFD, which would be read, searched and stored as if the client had sent it."""
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                shown = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")
                return shown, pair
    return None


class Utf8Query:
    """ASGI middleware: a request whose query string is not UTF-8 text is a 400 naming the
    parameter, on every route (xAPI's Communication 1.4 asks the same of /xapi)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            bad = not_utf8(scope.get("query_string", b""))
            if bad is not None:
                name, pair = bad
                raw = pair.decode("latin-1")
                detail = f"query parameter {show_value(name)} is not UTF-8 text, got {raw[:80]!r}"
                await send_problem(send, 400, "bad-request", "Bad request", detail)
                return
        await self.app(scope, receive, send)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_DECIMAL = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,18})?")


def _written(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(f"must be {what}, got {show_value(value)}")
        return value

    return BeforeValidator(check)


# Query parameters as people write them: pydantic alone would read `?on=0` as 1970-01-01
# (a Unix time), `?year=2_022` as 2022 and `?min_hours=1e1` as 10.
IsoDate = Annotated[date, _written(_ISO_DATE, "a date written YYYY-MM-DD")]
QueryInt = Annotated[int, _written(_INTEGER, "an integer written in digits")]
QueryDecimal = Annotated[float, _written(_DECIMAL, "a number written in digits, like 2.5")]
