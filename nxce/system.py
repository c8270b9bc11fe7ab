"""Service-level routes: health."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from nxce import __version__
from nxce.core import db
from nxce.core.json_route import JsonRoute
from nxce.core.params import no_query

router = APIRouter(route_class=JsonRoute, tags=["system"])


@router.get("/health", dependencies=[Depends(no_query)])
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
