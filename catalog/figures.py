"""Figures of the catalog for the admin's overview: courses and hours by category and
series (`service.stats`), kept between course writes; bases by status.

`service.stats` groups every course (tens of milliseconds on the embedded store at the
fixture catalog's 4344 courses). Every course write appends a `CourseChange`
(catalog/service.py), so the count of changes with the count of courses tells whether
the catalog changed since the figures were computed, in every replica; the figures are
computed again at most a minute later in any case."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from catalog import service
from catalog.models import Base, BaseStatus, Course, CourseChange
from catalog.schemas import CatalogStats
from nxce.core import db

MAX_AGE_S = 60.0


@dataclass(slots=True)
class _Kept:
    store: Any  # the courses' collection object: another store (a test's) is another one
    marker: tuple[int, int]
    at: float
    stats: CatalogStats


_kept: _Kept | None = None


async def _marker() -> tuple[int, int]:
    changes = await db.collection(CourseChange).estimated_document_count()
    courses = await db.collection(Course).estimated_document_count()
    return int(changes), int(courses)


async def stats() -> CatalogStats:
    """`service.stats()`, computed again when a course was written since (or after a
    minute)."""
    global _kept
    marker = await _marker()
    now = time.monotonic()
    kept = _kept
    store = db.collection(Course)
    if (
        kept is None
        or kept.store is not store
        or kept.marker != marker
        or now - kept.at > MAX_AGE_S
    ):
        kept = _Kept(store, marker, now, await service.stats())
        _kept = kept
    return kept.stats.model_copy(deep=True)


def forget() -> None:
    """Drop the kept figures (a store replaced under the process: tests, restores)."""
    global _kept
    _kept = None


async def bases_by_status() -> dict[str, int]:
    """How many bases hold each status (§三), every status listed."""
    counts = {status.value: 0 for status in BaseStatus}
    found = db.collection(Base).find({}, {"_id": 0, "status": 1})
    async for base in found:
        status = str(base.get("status", ""))
        counts[status] = counts.get(status, 0) + 1
    return counts
