"""`GET /admin-log`: the administrative log as JSON, for admins (HTTP Basic as the rest of
the API): the lines the page `/admin/log` shows, with the same filters — `by` (client
key), `area`, `target` (the record), `since` and `until` (days, China Standard Time, both
included) — newest first, `limit` lines (at most 500) and `more`, the address of the
next page (a `before` cursor), or "" after the last."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from nxce.core.admin_log import MAX_LIMIT, Area
from nxce.core.admin_log_query import PARAMETERS, BadFilter, page, parse
from nxce.core.auth import Admin
from nxce.core.errors import invalid
from nxce.core.json_route import JsonRoute
from nxce.core.params import single_valued
from nxce.core.problems import responses

router = APIRouter(route_class=JsonRoute, tags=["admin"])
KNOWN = frozenset((*PARAMETERS, "limit"))


class AdminLogLine(BaseModel):
    at: datetime
    by: str = Field(description="The key of the client that acted.")
    area: Area
    action: str = Field(description="A short key, e.g. `course.updated`.")
    target: str = Field(description="The record: a course code, base id, client key, learner id…")
    summary: str = Field(description="One line in Chinese.")
    detail: dict[str, Any] = Field(description="Changed fields (from → to), counts, reasons.")


class AdminLogPage(BaseModel):
    lines: list[AdminLogLine]
    more: str = Field(description="The next page's address, or empty after the last.")


async def _known(request: Request) -> None:
    for key in request.query_params:
        if key not in KNOWN:
            known = ", ".join(sorted(KNOWN))
            raise invalid(key, f"unknown parameter (known: {known})", key, location="query")


@router.get(
    "/admin-log",
    response_model=AdminLogPage,
    dependencies=[Depends(single_valued), Depends(_known)],
    responses=responses(401, 403, 422, 429),
)
async def admin_log(
    _: Admin,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> AdminLogPage:
    """The administrative log (admin), newest first: every administrative write and
    sensitive read. Only ever appended to."""
    params = {name: request.query_params.get(name, "") for name in PARAMETERS}
    try:
        filters = parse(params)
    except BadFilter as bad:
        raise invalid(bad.field, bad.message, bad.value, location="query") from None
    lines, more = await page(filters, limit=limit)
    next_page = ""
    if more:
        query = {**filters.query(without_cursor=True), "limit": str(limit), "before": more}
        next_page = "/admin-log?" + urlencode(query)
    return AdminLogPage(
        lines=[
            AdminLogLine(
                at=line.at,
                by=line.by,
                area=line.area,
                action=line.action,
                target=line.target,
                summary=line.summary,
                detail=line.detail,
            )
            for line in lines
        ],
        more=next_page,
    )
