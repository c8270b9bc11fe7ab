"""Wires search to the catalog: courses become search documents, writes reach the index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.events import CatalogEvents
from catalog.models import Course, CourseStatus
from catalog.series import SERIES_NAMES
from credits import learners as credit_learners
from nxce.core import db
from nxce.core.errors import NotFound
from nxce.settings import Settings
from search import text
from search.backend import SearchBackend, SearchDocument
from search.embedded import EmbeddedBackend
from search.indexer import Indexer
from search.meili import MeiliBackend

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

    events.subscribe(course_changed)
