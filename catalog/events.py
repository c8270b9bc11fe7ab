"""Catalog change notifications: the catalog emits, the composition root subscribes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from catalog.models import Course


@dataclass(frozen=True, slots=True)
class BaseFollowed:
    """What the listeners changed after a base's status decision (§三): how many learners
    they recomputed, how many ledger entries changed, of how many learners."""

    recomputed: int = 0
    entries_changed: int = 0
    learners_changed: int = 0

    def __add__(self, other: BaseFollowed) -> BaseFollowed:
        return BaseFollowed(
            self.recomputed + other.recomputed,
            self.entries_changed + other.entries_changed,
            self.learners_changed + other.learners_changed,
        )


CourseListener = Callable[[Course], Awaitable[None]]
# The id of the base and the id of the decision (StatusChange.decision_id).
BaseListener = Callable[[str, str], Awaitable[None]]
BaseChangedListener = Callable[[str, str], Awaitable[BaseFollowed | None]]
CoursesListener = Callable[[list[Course]], Awaitable[None]]
ResultListener = Callable[[str], Awaitable[None]]  # the id of the learner


class CatalogEvents:
    """Listeners told of every course written, after the write, of every change of a
    base's status (§三), before and after it is written, and of every programme result
    (§二, §五(二)), before and after it is written; one instance per app."""

    def __init__(self) -> None:
        self._listeners: list[tuple[CourseListener, CoursesListener | None]] = []
        self._base_changing: list[BaseListener] = []
        self._base_changed: list[BaseChangedListener] = []
        self._result_recording: list[ResultListener] = []
        self._result_recorded: list[ResultListener] = []

    def subscribe(self, listener: CourseListener, *, many: CoursesListener | None = None) -> None:
        """`listener(course)` after each course written; `many(courses)`, when given, once
        for the courses a bulk import wrote together (else `listener` for each)."""
        self._listeners.append((listener, many))

    def subscribe_bases(self, *, changing: BaseListener, changed: BaseChangedListener) -> None:
        """`changing(base_id, decision_id)` before a status change of a base is written (a
        failure stops the change), `changed(base_id, decision_id)` after it was written,
        answering what it changed (or None)."""
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

    async def base_changing(self, base_id: str, decision_id: str) -> None:
        for listener in self._base_changing:
            await listener(base_id, decision_id)

    async def base_changed(self, base_id: str, decision_id: str) -> BaseFollowed:
        followed = BaseFollowed()
        for listener in self._base_changed:
            done = await listener(base_id, decision_id)
            if done is not None:
                followed += done
        return followed

    async def result_recording(self, learner_id: str) -> None:
        for listener in self._result_recording:
            await listener(learner_id)

    async def result_recorded(self, learner_id: str) -> None:
        for listener in self._result_recorded:
            await listener(learner_id)
