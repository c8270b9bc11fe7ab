"""HTTP routes of search: `GET /search`, `GET /search/suggest`, admin reindex."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from nxce.core.auth import Admin, authenticate
from nxce.core.errors import BadRequest, ServiceUnavailable, Unprocessable
from nxce.core.json_route import JsonRoute
from nxce.core.params import single_valued
from nxce.core.problems import responses
from search.backend import SearchBackend, SearchQuery
from search.indexer import Indexer
from search.schemas import (
    MAX_QUERY_CHARS,
    SUGGESTIONS,
    HitRead,
    ReindexResponse,
    SearchParams,
    SearchResponse,
    SuggestionRead,
    SuggestParams,
    SuggestResponse,
)

router = APIRouter(
    route_class=JsonRoute,
    tags=["search"],
    dependencies=[Depends(single_valued)],
    responses=responses(422),
)


def _backend(request: Request) -> SearchBackend:
    """The search backend, once its index can answer; 503 while the first build runs."""
    indexer: Indexer = request.app.state.indexer
    if not indexer.ready:
        raise ServiceUnavailable(
            "the search index is being built after start; retry in a moment", retry_after=2
        )
    backend: SearchBackend = request.app.state.search
    return backend


Backend = Annotated[SearchBackend, Depends(_backend)]

# The series of a learner by id (None if none): search imports no other domain, so the
# composition root puts this on `app.state.search_learner_series`.
LearnerSeries = Callable[[str], Awaitable[str | None]]


async def _prefer_series(request: Request) -> str | None:
    """The series of the learner a learner-bound client belongs to, to rank their series
    first; None without credentials (anonymous search) or for a client bound to no
    learner. Credentials that are given must be valid: a 401 otherwise, as elsewhere."""
    if "authorization" not in request.headers:
        return None
    principal = await authenticate(request)
    if principal.learner_id is None:
        return None
    learner_series: LearnerSeries = request.app.state.search_learner_series
    return await learner_series(principal.learner_id)


PreferSeries = Annotated[str | None, Depends(_prefer_series)]


def _check_text(q: str) -> str:
    if len(q) > MAX_QUERY_CHARS:
        raise BadRequest(f"q must be at most {MAX_QUERY_CHARS} characters, got {len(q)}")
    return q


def _check_series(request: Request, series: str | None) -> None:
    known: tuple[str, ...] = request.app.state.search_series
    if series is not None and series not in known:
        raise Unprocessable(f"series: must be one of the 23 series, got {series!r}")


@router.get("/search", response_model=SearchResponse, responses=responses(400, 401, 429, 503))
async def search(
    params: Annotated[SearchParams, Query()],
    backend: Backend,
    prefer_series: PreferSeries,
    request: Request,
) -> SearchResponse:
    """Published courses matching `q` (Chinese, pinyin or initials), ranked: exact title,
    then title, pinyin, initials, series name, subject or tags, description; exact
    filters; facet counts under them. Public: no credentials needed; a learner-bound
    client's learner's series (and public courses) come first among equally relevant
    hits."""
    _check_series(request, params.series)
    query = SearchQuery(
        q=_check_text(params.q),
        category=params.category,
        series=params.series,
        subject=params.subject,
        year=params.year,
        min_hours=params.min_hours,
        max_hours=params.max_hours,
        sort=params.sort_key(),
        page=params.page,
        page_size=params.page_size,
        facets=params.facet_names(),
        prefer_series=prefer_series,
    )
    began = time.perf_counter()
    result = await backend.search(query)
    took_ms = round((time.perf_counter() - began) * 1000, 3)
    hits = [
        HitRead(**hit.document, title_highlighted=hit.title_highlighted, score=hit.score)
        for hit in result.hits
    ]
    return SearchResponse(
        hits=hits,
        total=result.total,
        page=params.page,
        page_size=params.page_size,
        facets=result.facets,
        took_ms=took_ms,
        backend=backend.name,
    )


@router.get("/search/suggest", response_model=SuggestResponse, responses=responses(400, 503))
async def suggest(params: Annotated[SuggestParams, Query()], backend: Backend) -> SuggestResponse:
    """Up to ten titles for as-you-type: titles starting with `q` first, pinyin prefixes too."""
    began = time.perf_counter()
    found = await backend.suggest(_check_text(params.q), SUGGESTIONS)
    took_ms = round((time.perf_counter() - began) * 1000, 3)
    suggestions = [SuggestionRead(**vars(s)) for s in found]
    return SuggestResponse(suggestions=suggestions, took_ms=took_ms)


@router.post(
    "/search/reindex", response_model=ReindexResponse, responses=responses(401, 403, 413, 429)
)
async def reindex(admin: Admin, request: Request) -> ReindexResponse:
    """Rebuild the index from the catalog (admin)."""
    indexer: Indexer = request.app.state.indexer
    return ReindexResponse(result=await indexer.sync(force=True))
