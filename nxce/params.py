"""Query-string rules every route shares: no parameter twice, none a route does not take."""

from __future__ import annotations

from collections import Counter

from fastapi import Request

from nxce.errors import Unprocessable, show_value


def _problem(name: str, message: str) -> Unprocessable:
    entry = {"location": "query", "field": name, "message": message}
    return Unprocessable(f"{name}: {message}", errors=[entry])


async def single_valued(request: Request) -> None:
    """`?series=会计&series=卫生` is refused: which one was meant is unknowable."""
    counts = Counter(key for key, _ in request.query_params.multi_items())
    repeated = next((key for key, count in counts.items() if count > 1), None)
    if repeated is not None:
        raise _problem(repeated, f"given {counts[repeated]} times; give it once")


async def no_query(request: Request) -> None:
    """For routes that take no query parameters: any parameter is a mistake worth naming."""
    for key in request.query_params:
        raise _problem(key, f"unknown parameter {show_value(key)}")
