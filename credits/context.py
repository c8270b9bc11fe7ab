"""What the credit services share: the `Credits` object built once per app, and the
catalog as the ledger reads it (the composition root provides it)."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from credits.id_numbers import IdNumberVault
from credits.phones import PhoneVault
from credits.policy import Policies
from lrs import identity


@dataclass(frozen=True)
class Course:
    code: str
    title: str
    hours: float
    category: str
    series: str | None
    revision: int = 1  # the catalog's revision: 1 for a course never changed
    # When the course could first be taken (1 January of its catalog year, or the moment
    # it was created through the API); None: not known, not checked.
    available_from: datetime | None = None


@dataclass(frozen=True)
class BaseStanding:
    """A continuing-education base on a date (§三): its name, its status then (None before
    its first certification) and since when, and whether it was in good standing."""

    name: str
    status: str | None
    since: date | None
    good: bool


@dataclass(frozen=True)
class ProgrammeResult:
    """An assessment result of the knowledge-update programme (§二) as the ledger reads it:
    the project it belongs to (as it was when the result was recorded), the base that ran
    it, and the certificate a pass carries (§五(二))."""

    result_id: str
    project_id: str
    project_title: str
    kind: str  # advanced_seminar | urgent_skills | key_industry | tcm_grassroots
    base_id: str
    hours: float
    starts_on: date
    assessed_on: date
    passed: bool
    certificate_no: str | None
    recorded_at: datetime
    recorded_by: str


class Catalog(Protocol):
    """What the record store reads of the catalog (the composition root provides it)."""

    async def course_by_activity(self, activity_id: str) -> Course | None: ...

    async def as_of(self, course: Course, moment: datetime) -> Course:
        """`course` with the title, hours and category it had at `moment`."""

    async def base_standing(
        self, base_id: str, day: date, *, started_on: date | None = None
    ) -> BaseStanding | None:
        """The base on `day` (good standing as catalog.bases defines it: for work started
        on `started_on` when given, §三); None: no base."""

    async def programme_results(self, learner_id: str) -> list[ProgrammeResult]:
        """The learner's programme results (§二), passed and failed."""

    async def programme_learners(self, base_id: str) -> list[str]:
        """The learners with a programme result at the base."""

    def series_names(self) -> tuple[str, ...]: ...


@dataclass
class Credits:
    """Everything the credit services need, built once per app."""

    home_page: str
    policies: Policies
    vault: IdNumberVault
    catalog: Catalog
    phones: PhoneVault
    _locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary, repr=False
    )

    def lock(self, learner_id: str) -> asyncio.Lock:
        """One crediting of a learner at a time in this process (a course's recompute, or
        the learner's whole ledger in credits/recompute.py), so one that read the statements
        before a voiding cannot write after one that read them after. Per process only:
        two replicas may still recompute one learner at once (issue 17 replaces this lock
        with one held in the store)."""
        found = self._locks.get(learner_id)
        if found is None:
            found = self._locks[learner_id] = asyncio.Lock()
        return found

    def agent_keys(self, learner_id: str) -> list[str]:
        """The keys statements give the learner's account."""
        return identity.learner_keys(self.home_page, learner_id)
