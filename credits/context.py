"""What the credit services share: the `Credits` object built once per app, and the
catalog as the ledger reads it (the composition root provides it)."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from credits.id_numbers import IdNumberVault
from credits.phones import PhoneVault
from credits.policy import Policies
from credits.popularity import Popularity
from lrs import identity
from nxce.core import db, leases
from nxce.core.errors import ServiceUnavailable

# Our readings (the notice sets none): a learner's crediting holds its lease at most a
# minute (a whole ledger is recomputed in well under a second); one waits at most 30 s
# for another process's turn, then fails (the statements stay unprojected, and
# projection.keep_up credits them later).
LEARNER_LEASE_TTL = timedelta(minutes=1)
LEARNER_LEASE_WAIT = 30.0


class CreditingBusy(ServiceUnavailable):
    """Another process has been crediting the learner for longer than we wait."""


def lease_name(learner_id: str) -> str:
    """The lease (nxce/core/leases.py) of a learner's crediting."""
    return f"credits:{learner_id}"


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

    async def published(self, *, category: str, series: str | None) -> list[Course]:
        """The published courses of a category (and series: None for public courses), by
        code: what recommendations choose from."""


async def _take(name: str, owner: str) -> None:
    """Take the lease `name`, waiting (10 ms, doubling to 200 ms) while another holds it."""
    loop = asyncio.get_running_loop()
    deadline, pause = loop.time() + LEARNER_LEASE_WAIT, 0.01
    while not await leases.take(name, owner=owner, ttl=LEARNER_LEASE_TTL):
        if loop.time() >= deadline:
            raise CreditingBusy(
                f"another process has been crediting {name.removeprefix('credits:')!r} for "
                f"over {LEARNER_LEASE_WAIT:.0f} s; try again"
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.2)


@dataclass
class Credits:
    """Everything the credit services need, built once per app."""

    home_page: str
    policies: Policies
    vault: IdNumberVault
    catalog: Catalog
    phones: PhoneVault
    # told the category of each new automatic entry (the service's metrics); none: nothing
    on_registered: Callable[[str], None] | None = None
    # Learners who completed each course, kept by the ledger's writes (issue 19).
    popularity: Popularity = field(default_factory=Popularity, repr=False)
    _locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary, repr=False
    )

    @asynccontextmanager
    async def lock(self, learner_id: str) -> AsyncIterator[None]:
        """One crediting of a learner at a time, across processes (a course's recompute,
        or the learner's whole ledger in credits/recompute.py), so one that read the
        statements before a voiding cannot write after one that read them after.

        In this process an asyncio.Lock orders the tasks; across processes (API replicas
        on one MongoDB) a lease in the store, `credits:<learner id>`, taken with the lock
        held and given back at the end. On the embedded store the block is one commit
        (joining a batch's, when inside one): the lease comes and goes within it, and
        costs no commit of its own. `CreditingBusy` (503) when another process keeps the
        lease past LEARNER_LEASE_WAIT."""
        found = self._locks.get(learner_id)
        if found is None:
            found = self._locks[learner_id] = asyncio.Lock()
        async with found, db.one_commit():
            name, owner = lease_name(learner_id), uuid.uuid4().hex
            await _take(name, owner)
            try:
                yield
            finally:
                await leases.give_back(name, owner=owner)

    def agent_keys(self, learner_id: str) -> list[str]:
        """The keys statements give the learner's account."""
        return identity.learner_keys(self.home_page, learner_id)
