"""Query-string rules every route shares: no parameter twice, none a route does not take."""

from __future__ import annotations

from collections import Counter

from fastapi import Request

from nxce.core.errors import invalid, show_value


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
