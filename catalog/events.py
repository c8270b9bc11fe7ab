"""Catalog change notifications: the catalog emits, the composition root subscribes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from catalog.models import Course

CourseListener = Callable[[Course], Awaitable[None]]
CoursesListener = Callable[[list[Course]], Awaitable[None]]
BaseListener = Callable[[str], Awaitable[None]]  # the id of the base
ResultListener = Callable[[str], Awaitable[None]]  # the id of the learner


class CatalogEvents:
    """Listeners told of every course written, after the write, of every change of a
    base's status (§三), before and after it is written, and of every programme result
    (§二, §五(二)), before and after it is written; one instance per app."""

    def __init__(self) -> None:
        self._listeners: list[tuple[CourseListener, CoursesListener | None]] = []
        self._base_changing: list[BaseListener] = []
        self._base_changed: list[BaseListener] = []
        self._result_recording: list[ResultListener] = []
        self._result_recorded: list[ResultListener] = []

    def subscribe(self, listener: CourseListener, *, many: CoursesListener | None = None) -> None:
        """`listener(course)` after each course written; `many(courses)`, when given, once
        for the courses a bulk import wrote together (else `listener` for each)."""
        self._listeners.append((listener, many))

    def subscribe_bases(self, *, changing: BaseListener, changed: BaseListener) -> None:
        """`changing(base_id)` before a status change of a base is written (a failure
        stops the change), `changed(base_id)` after it was written."""
        self._base_changing.append(changing)
        self._base_changed.append(changed)

    def subscribe_results(self, *, changing: ResultListener, changed: ResultListener) -> None:
        """`changing(learner_id)` before a programme result of the learner is written (a
        failure stops it), `changed(learner_id)` after it was written."""
        self._result_recording.append(changing)
        self._result_recorded.append(changed)

    async def course_changed(self, course: Course) -> None:
        for listener, _ in self._listeners:
            await listener(course)

    async def courses_changed(self, courses: list[Course]) -> None:
        """Several courses written together (a bulk import)."""
        for listener, many in self._listeners:
            if many is not None:
                await many(courses)
                continue
            for course in courses:
                await listener(course)

    async def base_changing(self, base_id: str) -> None:
        for listener in self._base_changing:
            await listener(base_id)

    async def base_changed(self, base_id: str) -> None:
        for listener in self._base_changed:
            await listener(base_id)

    async def result_recording(self, learner_id: str) -> None:
        for listener in self._result_recording:
            await listener(learner_id)

    async def result_recorded(self, learner_id: str) -> None:
        for listener in self._result_recorded:
            await listener(learner_id)
