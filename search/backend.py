"""The `SearchBackend` protocol and the values that cross it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypedDict

FACETS = ("category", "series", "subject", "year")
SORTABLE = ("hours", "year", "code")
SortOrder = Literal["asc", "desc"]


class SearchDocument(TypedDict):
    """A published course as search sees it (the composition root maps courses to these)."""

    code: str
    title: str
    description: str
    category: str
    series: str | None
    subject: str
    hours: float
    year: int
    tags: list[str]
    base: str
    delivery: str


@dataclass(frozen=True)
class SearchQuery:
    """What a learner asks: text (may be empty), exact filters, facets, sort and page."""

    q: str = ""
    category: str | None = None
    series: str | None = None
    subject: str | None = None
    year: int | None = None
    min_hours: float | None = None
    max_hours: float | None = None
    sort: tuple[str, SortOrder] | None = None
    page: int = 1
    page_size: int = 20
    facets: tuple[str, ...] = ()
    # A signed-in learner's series (pages) or a learner-bound client's learner's (API):
    # among equally relevant hits, that series' courses and public courses come first.
    # A ranking signal, never a filter.
    prefer_series: str | None = None


@dataclass(frozen=True)
class SearchHit:
    document: SearchDocument
    title_highlighted: str
    score: float | None


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Suggestion:
    code: str
    title: str
    title_highlighted: str


class SearchBackend(Protocol):
    """An index of published courses; every implementation passes tests/search/contract."""

    name: str

    async def open(self) -> None:
        """Connect, create the index if needed, apply settings."""

    async def close(self) -> None:
        """Release the backend's resources."""

    async def index(self, documents: Sequence[SearchDocument]) -> None:
        """Add or replace documents (by code); searchable when this returns."""

    async def delete(self, codes: Sequence[str]) -> None:
        """Remove documents by code; gone from results when this returns."""

    async def replace_all(self, documents: Sequence[SearchDocument], fingerprint: str) -> None:
        """Make the index hold exactly `documents`, and remember `fingerprint`."""

    async def fingerprint(self) -> str | None:
        """The fingerprint given to the last `replace_all`, or None."""

    async def search(self, query: SearchQuery) -> SearchResult:
        """Hits for `query`, ranked (or sorted), with facet counts under the filters."""

    async def suggest(self, q: str, limit: int) -> list[Suggestion]:
        """Titles for as-you-type: those starting with `q` first."""

    async def set_popularity(self, counts: Mapping[str, int]) -> None:
        """Replace the popularity (distinct learners who completed it, voids subtracted) of
        the courses named; others keep theirs; the order of hits reflects it on return."""

    async def health(self) -> dict[str, Any]:
        """`{"ok": bool, ...}` with what the backend knows of itself."""
