"""Catalog change notifications: the catalog emits, the composition root subscribes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from catalog.models import Course

CourseListener = Callable[[Course], Awaitable[None]]


class CatalogEvents:
    """Listeners told of every course written, after the write; one instance per app."""

    def __init__(self) -> None:
        self._listeners: list[CourseListener] = []

    def subscribe(self, listener: CourseListener) -> None:
        self._listeners.append(listener)

    async def course_changed(self, course: Course) -> None:
        for listener in self._listeners:
            await listener(course)
