"""Service-level routes: health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from nxce import __version__
from nxce.core import db
from nxce.core.json_route import JsonRoute
from nxce.core.params import no_query
from nxce.core.problems import responses

router = APIRouter(route_class=JsonRoute, tags=["system"])


_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "The store or the search engine does not answer (the same body)",
        "content": {"application/json": {}},
    }
}


@router.get(
    "/health", dependencies=[Depends(no_query)], responses={**responses(422), **_UNAVAILABLE}
)
async def health(request: Request) -> JSONResponse:
    """200 when the store and search answer, 503 otherwise; says which of each is in use."""
    settings = request.app.state.settings
    store_ok = await db.ping(request.app.state.database)
    search = await request.app.state.search.health()
    search["stale"] = request.app.state.indexer.stale
    search["ready"] = request.app.state.indexer.ready
    ok = store_ok and search["ok"]
    body = {
        "status": "ok" if ok else "unavailable",
        "version": __version__,
        "store": "embedded" if settings.embedded else "mongodb",
        "search": search,
    }
    return JSONResponse(body, status_code=200 if ok else 503)
