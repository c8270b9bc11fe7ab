"""The Meilisearch backend (production), over the official client without blocking.

Index settings are set from code. Documents carry, besides the course, the pinyin and
initials of each title word (`gouqi`, `gq`) so pinyin queries work; Meilisearch matches
them as words and by prefix, where the embedded backend also matches across words.
Writes wait for their task, so a caller reads its own writes.

Popularity (distinct learners who completed a course) is a document attribute, updated
by partial document updates, and the custom ranking rule `popularity:desc` after the
relevance rules orders equally relevant hits by it. A learner's series (`prefer_series`)
is a federated search (Meilisearch 1.11) of two complementary halves, the learner's series
and public courses weighted PREFERRED_WEIGHT, the rest 1.0, merged by weighted score.
Typos: one from five letters on (`gouqu` finds 枸杞's `gouqi`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError

from search import text
from search.backend import SearchDocument, SearchHit, SearchQuery, SearchResult, Suggestion
from search.highlight import highlight, highlight_terms, terms

TASK_TIMEOUT_MS = 60_000
BATCH = 1000
SEARCHABLE = ["title", "title_pinyin", "title_initials", "subject", "tags", "description"]
FILTERABLE = ["category", "series", "subject", "year", "hours", "status"]
SORTABLE = ["hours", "year", "code"]
RETRIEVED = list(SearchDocument.__annotations__)
PREFERRED_WEIGHT = 1.1  # the learner's series first among about equally relevant hits
RANKING_RULES = [
    "words",
    "typo",
    "proximity",
    "attribute",
    "sort",
    "exactness",
    "popularity:desc",
]


def settings() -> dict[str, Any]:
    """The index settings, from code."""
    return {
        "searchableAttributes": SEARCHABLE,
        "filterableAttributes": FILTERABLE,
        "sortableAttributes": SORTABLE,
        "displayedAttributes": ["*"],
        "rankingRules": RANKING_RULES,
        # One typo from five letters on (`gouqu` finds 枸杞 through `gouqi`), two from nine.
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
        "synonyms": {k: list(v) for k, v in text.SYNONYMS.items()},
        "faceting": {"maxValuesPerFacet": 1000},
        "pagination": {"maxTotalHits": 1_000_000},
    }


def meili_document(document: SearchDocument, popularity: int | None = None) -> dict[str, Any]:
    """A course as Meilisearch stores it: the course plus title pinyin and initials (and
    its popularity when given; a partial update keeps the stored one otherwise)."""
    spelled = text.word_pinyin(document["title"])
    stored: dict[str, Any] = {
        **document,
        "status": "published",
        "title_pinyin": " ".join(p for p, _ in spelled),
        "title_initials": " ".join(i for _, i in spelled),
    }
    if popularity is not None:
        stored["popularity"] = popularity
    return stored


def _quoted(value: str) -> str:
    """A string literal of Meilisearch's filter language; input can never become syntax."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_expression(query: SearchQuery) -> str | None:
    """The filter of `query` in Meilisearch's syntax (values quoted and escaped)."""
    parts = ['status = "published"']
    for name in ("category", "series", "subject"):
        value = getattr(query, name)
        if value is not None:
            parts.append(f"{name} = {_quoted(value)}")
    if query.year is not None:
        parts.append(f"year = {int(query.year)}")
    if query.min_hours is not None:
        parts.append(f"hours >= {float(query.min_hours)!r}")
    if query.max_hours is not None:
        parts.append(f"hours <= {float(query.max_hours)!r}")
    return " AND ".join(parts)


def search_params(query: SearchQuery) -> dict[str, Any]:
    """The body of Meilisearch's search request for `query`."""
    params: dict[str, Any] = {
        "filter": filter_expression(query),
        "page": query.page,
        "hitsPerPage": query.page_size,
        "attributesToRetrieve": RETRIEVED,
        "showRankingScore": True,
    }
    if query.facets:
        params["facets"] = list(query.facets)
    if query.sort is not None:
        params["sort"] = [f"{query.sort[0]}:{query.sort[1]}"]
    elif not query.q.strip():
        params["sort"] = ["code:asc"]
    return params


def _preferred(series: str) -> str:
    return f'(series = {_quoted(series)} OR category = "public")'


def federated_search(query: SearchQuery, uid: str) -> dict[str, Any]:
    """The multi-search body that ranks `query.prefer_series` (and public courses) first:
    the same query over two complementary filters, the preferred half weighted up."""
    assert query.prefer_series is not None
    base = filter_expression(query)
    preferred = _preferred(query.prefer_series)
    common = {
        "indexUid": uid,
        "q": query.q.strip(),
        "attributesToRetrieve": RETRIEVED,
        "showRankingScore": True,
    }
    federation: dict[str, Any] = {
        "offset": (query.page - 1) * query.page_size,
        "limit": query.page_size,
    }
    if query.facets:
        federation["facetsByIndex"] = {uid: list(query.facets)}
        federation["mergeFacets"] = {"maxValuesPerFacet": 1000}
    return {
        "queries": [
            {
                **common,
                "filter": f"{base} AND {preferred}",
                "federationOptions": {"weight": PREFERRED_WEIGHT},
            },
            {**common, "filter": f"{base} AND NOT {preferred}"},
        ],
        "federation": federation,
    }


def result_from(answer: Mapping[str, Any], query: SearchQuery) -> SearchResult:
    """Our result from Meilisearch's answer."""
    query_terms = highlight_terms(query.q)
    hits = []
    for raw in answer.get("hits", []):
        document: SearchDocument = {k: raw.get(k) for k in RETRIEVED}  # type: ignore[assignment]
        score = raw.get("_rankingScore") if query.q.strip() and query.sort is None else None
        hits.append(SearchHit(document, highlight(document["title"], query_terms), score))
    distribution = answer.get("facetDistribution") or {}
    facets = {
        name: {str(k): int(v) for k, v in distribution.get(name, {}).items()}
        for name in query.facets
    }
    total = answer.get("totalHits", answer.get("estimatedTotalHits", 0))  # federated: estimate
    return SearchResult(hits=hits, total=int(total), facets=facets)


class MeiliBackend:
    """Meilisearch at `url`; the index `uid` holds published courses keyed by code."""

    name = "meilisearch"

    def __init__(self, url: str, key: str | None, uid: str = "courses", client: Any = None) -> None:
        self.url = url
        self.uid = uid
        self.meta_uid = f"{uid}_meta"
        self.client = client or meilisearch.Client(url, key, timeout=10)
        # The last popularity pushed, so that a rebuild (a fresh index) starts with it.
        self._popularity: dict[str, int] = {}

    async def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(function, *args, **kwargs)

    async def _wait(self, task: Any) -> None:
        done = await self._call(self.client.wait_for_task, task.task_uid, TASK_TIMEOUT_MS)
        if getattr(done, "status", "succeeded") != "succeeded":
            raise RuntimeError(f"Meilisearch task {task.task_uid} {done.status}: {done.error}")

    async def _ensure_index(self, uid: str) -> None:
        try:
            await self._call(self.client.get_index, uid)
        except MeilisearchApiError as error:
            if getattr(error, "code", None) != "index_not_found":
                raise
            await self._wait(
                await self._call(self.client.create_index, uid, {"primaryKey": "code"})
            )

    async def open(self) -> None:
        await self._ensure_index(self.uid)
        index = self.client.index(self.uid)
        await self._wait(await self._call(index.update_settings, settings()))

    async def close(self) -> None:
        return None

    async def index(self, documents: Sequence[SearchDocument]) -> None:
        """Partial updates: a course's stored popularity stays."""
        index = self.client.index(self.uid)
        for start in range(0, len(documents), BATCH):
            batch = [meili_document(d) for d in documents[start : start + BATCH]]
            await self._wait(await self._call(index.update_documents, batch, "code"))

    async def set_popularity(self, counts: Mapping[str, int]) -> None:
        """Partial updates of `popularity` only (a code not indexed yet gets a document
        without `status`, which the published filter never returns, until it is indexed)."""
        clean = {code: max(int(n), 0) for code, n in counts.items()}
        self._popularity.update(clean)
        changes = [{"code": code, "popularity": n} for code, n in clean.items()]
        index = self.client.index(self.uid)
        for start in range(0, len(changes), BATCH):
            batch = changes[start : start + BATCH]
            await self._wait(await self._call(index.update_documents, batch, "code"))

    async def delete(self, codes: Sequence[str]) -> None:
        if codes:
            index = self.client.index(self.uid)
            await self._wait(await self._call(index.delete_documents, list(codes)))

    async def replace_all(self, documents: Sequence[SearchDocument], fingerprint: str) -> None:
        """Build a fresh index beside the live one, then swap them: searches never see a
        half-built index."""
        fresh = f"{self.uid}_building"
        with contextlib.suppress(MeilisearchApiError):  # no leftover from a failed rebuild
            await self._wait(await self._call(self.client.delete_index, fresh))
        await self._wait(await self._call(self.client.create_index, fresh, {"primaryKey": "code"}))
        building = self.client.index(fresh)
        await self._wait(await self._call(building.update_settings, settings()))
        for start in range(0, len(documents), BATCH):
            batch = [
                meili_document(d, self._popularity.get(d["code"], 0))
                for d in documents[start : start + BATCH]
            ]
            await self._wait(await self._call(building.add_documents, batch, "code"))
        swap = [{"indexes": [self.uid, fresh]}]
        await self._wait(await self._call(self.client.swap_indexes, swap))
        await self._wait(await self._call(self.client.delete_index, fresh))
        await self._ensure_index(self.meta_uid)
        meta = self.client.index(self.meta_uid)
        record = {"code": "fingerprint", "value": fingerprint}
        await self._wait(await self._call(meta.add_documents, [record], "code"))

    async def fingerprint(self) -> str | None:
        try:
            record = await self._call(self.client.index(self.meta_uid).get_document, "fingerprint")
        except MeilisearchApiError:
            return None
        value = getattr(record, "value", None)
        return str(value) if value is not None else None

    async def search(self, query: SearchQuery) -> SearchResult:
        if query.prefer_series is not None and query.q.strip() and query.sort is None:
            body = federated_search(query, self.uid)
            answer = await self._call(self.client.multi_search, body["queries"], body["federation"])
            return result_from(answer, query)
        index = self.client.index(self.uid)
        answer = await self._call(index.search, query.q.strip(), search_params(query))
        return result_from(answer, query)

    async def suggest(self, q: str, limit: int) -> list[Suggestion]:
        query_terms = terms(q)
        if not query_terms:
            return []
        params = {
            "limit": limit,
            "filter": 'status = "published"',
            "attributesToSearchOn": ["title", "title_pinyin", "title_initials"],
            "attributesToRetrieve": ["code", "title"],
        }
        answer = await self._call(self.client.index(self.uid).search, q.strip(), params)
        return [
            Suggestion(h["code"], h["title"], highlight(h["title"], query_terms))
            for h in answer.get("hits", [])
        ]

    async def health(self) -> dict[str, Any]:
        try:
            answer = await self._call(self.client.health)
        except Exception as error:  # any client failure means "not healthy"
            return {"ok": False, "backend": self.name, "detail": str(error)[:200]}
        return {
            "ok": answer.get("status") == "available",
            "backend": self.name,
            "url": self.url,
            "answer": json.loads(json.dumps(answer)),
        }
