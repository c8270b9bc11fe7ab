"""Wires search to the catalog: courses become search documents, writes reach the index;
and to the credit ledger: completions become popularity."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from catalog.events import CatalogEvents
from catalog.models import Course, CourseStatus
from catalog.series import SERIES_NAMES
from credits import learners as credit_learners
from credits import popularity
from credits.context import Credits
from nxce.core import db
from nxce.core.errors import NotFound
from nxce.settings import Settings
from search import text
from search.backend import SearchBackend, SearchDocument
from search.embedded import EmbeddedBackend
from search.indexer import Indexer
from search.meili import MeiliBackend

log = logging.getLogger("nxce.search")

_FIELDS = tuple(SearchDocument.__annotations__)


def course_document(course: Course | dict[str, Any]) -> SearchDocument:
    """The search document of a course (a Course or its stored form)."""
    raw = course.model_dump(mode="json") if isinstance(course, Course) else course
    document = {name: raw[name] for name in _FIELDS}
    document["hours"] = float(document["hours"])
    return document  # type: ignore[return-value]


async def published_documents() -> Sequence[SearchDocument]:
    """Every published course, as search documents."""
    collection = db.collection(Course)
    projection = {name: 1 for name in _FIELDS} | {"_id": 0}
    cursor = collection.find({"status": CourseStatus.published.value}, projection)
    return [course_document(raw) async for raw in cursor]


async def learner_series(learner_id: str) -> str | None:
    """The series of a learner (None for none, or no such learner): search ranks it first
    for the learner's own client (search imports no credits, so it is handed this)."""
    try:
        learner = await credit_learners.get_learner(learner_id=learner_id)
    except NotFound:
        return None
    return learner.series


def make_backend(settings: Settings) -> SearchBackend:
    """Meilisearch when NXCE_MEILI_URL is set, else the embedded engine in the data dir."""
    if settings.meili_url:
        return MeiliBackend(settings.meili_url, settings.meili_key, settings.meili_index)
    return EmbeddedBackend(settings.data_dir / "search")


def teach_vocabulary(subjects: Sequence[str]) -> None:
    """Catalog words (series, subjects) the segmenter should keep whole."""
    text.add_words([*SERIES_NAMES, *subjects])


def subscribe(events: CatalogEvents, indexer: Indexer) -> None:
    """Every catalog write reaches the index before its response is sent."""

    async def course_changed(course: Course) -> None:
        published = course.status == CourseStatus.published
        await indexer.course_changed(course.code, course_document(course) if published else None)

    async def courses_changed(courses: list[Course]) -> None:
        await indexer.courses_changed(
            [
                (c.code, course_document(c) if c.status == CourseStatus.published else None)
                for c in courses
            ]
        )

    events.subscribe(course_changed, many=courses_changed)


class PopularityPush:
    """Keeps the search backend's popularity (issue 19) current, off the write path.

    The credit ledger keeps each course's count in memory as it writes completion entries
    (`Credits.popularity`, credits/popularity.py); every `every` seconds the courses that
    moved are pushed in one `set_popularity` (nothing when none moved): search is at most
    `every` seconds (plus the push) behind the ledger. At start, once the index is in step
    with the catalog, every published course is counted from the ledger and pushed; with
    `recount_every` (MongoDB, where other processes write the same ledger) it is counted
    and pushed afresh that often."""

    def __init__(
        self,
        backend: SearchBackend,
        credits: Credits,
        every: float = 30.0,
        recount_every: float | None = None,
    ) -> None:
        self.backend = backend
        self.popularity = credits.popularity
        self.every = every
        self.recount_every = recount_every
        self.started = asyncio.Event()  # set once the full push at start is done

    async def push_all(self) -> int:
        """Count every published course from the ledger and push it (0 for those nobody
        completed); answers how many courses were pushed."""
        codes = await db.collection(Course).distinct(
            "code", {"status": CourseStatus.published.value}
        )
        self.popularity.take()  # the full count covers what moved before it
        self.popularity.reset(await popularity.completions_by_course())
        await self.backend.set_popularity({str(c): self.popularity.learners(str(c)) for c in codes})
        return len(codes)

    async def push_changed(self) -> int:
        """Push the courses whose count moved since the last push; answers how many."""
        codes = self.popularity.take()
        if not codes:
            return 0
        try:
            await self.backend.set_popularity({c: self.popularity.learners(c) for c in codes})
        except Exception:
            self.popularity.note(codes)  # tried again at the next push
            raise
        return len(codes)

    async def run(self, indexer: Indexer) -> None:
        """The full push once the index is built, then a push of what moved every `every`
        seconds for ever (and a full one every `recount_every`); a failure is logged and
        tried again next time."""
        await indexer.wait()
        counted_at: float | None = None
        loop = asyncio.get_running_loop()
        while True:
            try:
                due = counted_at is None or (
                    self.recount_every is not None
                    and loop.time() - counted_at >= self.recount_every
                )
                if due:
                    pushed = await self.push_all()
                    counted_at = loop.time()
                    log.info("search popularity: %d course(s) counted and pushed", pushed)
                    self.started.set()
                else:
                    await self.push_changed()
            except Exception:
                log.exception("pushing course popularity to search failed; trying again")
            await asyncio.sleep(self.every)
