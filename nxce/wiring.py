"""Wires the domains together: the record store tells the credit ledger what it stored,
and resolves a course's activity IRI to its catalog definition; the ledger reads courses
(and their hours), bases' statuses and programme results from the catalog, and hears of
base decisions and programme results;
transcripts get their keys."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from accounts.context import Accounts
from catalog import bases as catalog_bases
from catalog import programme as catalog_programme
from catalog import service as catalog_service
from catalog.events import BaseFollowed, CatalogEvents
from catalog.models import Course as CatalogCourse
from catalog.models import CourseStatus
from catalog.programme_models import ProgrammeResult as ProgrammeResultDocument
from catalog.series import SERIES_NAMES
from credits import projection as credit_projection
from credits import recompute as credit_recompute
from credits.context import BaseStanding, Course, Credits, ProgrammeResult
from credits.id_numbers import IdNumberVault
from credits.models import Learner
from credits.phones import PhoneVault
from credits.policy import Policies
from lrs.directory import CourseDefinitions
from lrs.events import Hooks
from nxce.core import db
from nxce.core.auth import Verifier
from nxce.core.errors import NotFound
from nxce.core.secret import keyring
from nxce.settings import Settings
from transcripts.service import Transcripts

COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"


def course_definitions(settings: Settings) -> CourseDefinitions:
    """The Activity definition of a catalog course, by its activity IRI (None otherwise)."""
    extension = f"{settings.platform_home_page}/xapi/extensions/course"

    async def lookup(activity_id: str) -> dict[str, Any] | None:
        course = await catalog_service.get_by_activity(activity_id=activity_id)
        if course is None:
            return None
        return {
            "name": {"zh-CN": course.title},
            "description": {"zh-CN": course.description},
            "type": COURSE_TYPE,
            "extensions": {
                extension: {
                    "code": course.code,
                    "hours": course.hours,
                    "category": course.category.value,
                    "series": course.series,
                    "status": course.status.value,
                }
            },
        }

    return lookup


class CatalogView:
    """The record store's one window on the catalog (architecture: lrs reads the catalog
    through one small interface)."""

    # Published courses by (category, series), for recommendations: kept this long, and
    # forgotten at once when this process changes a course (other replicas': the age).
    PUBLISHED_AGE = 60.0

    def __init__(self) -> None:
        self._published: dict[tuple[str, str | None], tuple[float, list[Course]]] = {}

    def forget_published(self) -> None:
        self._published.clear()

    async def course_by_activity(self, activity_id: str) -> Course | None:
        course = await catalog_service.get_by_activity(activity_id=activity_id)
        if course is None:
            return None
        return Course(
            code=course.code,
            title=course.title,
            hours=course.hours,
            category=course.category.value,
            series=course.series,
            revision=course.revision,
            available_from=catalog_service.available_since(course),
        )

    async def as_of(self, course: Course, moment: datetime) -> Course:
        if course.revision == 1:
            return course  # never changed since it was created
        current = {"title": course.title, "hours": course.hours, "category": course.category}
        then = await catalog_service.fields_as_of(code=course.code, current=current, moment=moment)
        return replace(
            course,
            title=str(then["title"]),
            hours=float(then["hours"]),
            category=str(then["category"]),
        )

    async def base_standing(
        self, base_id: str, day: date, *, started_on: date | None = None
    ) -> BaseStanding | None:
        try:
            base = await catalog_bases.get(base_id=base_id)
        except NotFound:
            return None
        found = catalog_bases.status_on(base=base, on=day)
        return BaseStanding(
            name=base.name,
            status=found.status.value if found.status else None,
            since=found.since,
            good=catalog_bases.in_good_standing(base, day, started_on=started_on),
        )

    async def programme_results(self, learner_id: str) -> list[ProgrammeResult]:
        return [
            ProgrammeResult(
                result_id=r.result_id,
                project_id=r.project_id,
                project_title=r.project_title,
                kind=r.kind,
                base_id=r.base_id,
                hours=r.hours,
                starts_on=r.starts_on,
                assessed_on=r.assessed_on,
                passed=r.passed,
                certificate_no=r.certificate.certificate_no if r.certificate else None,
                recorded_at=r.recorded_at,
                recorded_by=r.recorded_by,
            )
            for r in await catalog_programme.results_of(learner_id=learner_id)
        ]

    async def programme_learners(self, base_id: str) -> list[str]:
        found = await db.collection(ProgrammeResultDocument).distinct(
            "learner_id", {"base_id": base_id}
        )
        return sorted(str(learner_id) for learner_id in found)

    def series_names(self) -> tuple[str, ...]:
        return SERIES_NAMES

    async def published(self, *, category: str, series: str | None) -> list[Course]:
        now = time.monotonic()
        kept = self._published.get((category, series))
        if kept is not None and now - kept[0] < self.PUBLISHED_AGE:
            return kept[1]
        courses = await self._read_published(category, series)
        self._published[(category, series)] = (now, courses)
        return courses

    async def _read_published(self, category: str, series: str | None) -> list[Course]:
        found = db.collection(CatalogCourse).find(
            {"status": CourseStatus.published.value, "category": category, "series": series},
            {"code": 1, "title": 1, "hours": 1, "category": 1, "series": 1, "_id": 0},
        )
        rows = [row async for row in found]
        return [
            Course(
                code=str(r["code"]),
                title=str(r["title"]),
                hours=float(r["hours"]),
                category=str(r["category"]),
                series=r["series"],
            )
            for r in sorted(rows, key=lambda r: str(r["code"]))
        ]


def credits(settings: Settings, *, on_registered: Callable[[str], None] | None = None) -> Credits:
    """The credit services of this app; `on_registered(category)` is told of each new
    automatic entry (the app's metrics)."""
    return Credits(
        home_page=settings.platform_home_page,
        policies=Policies(settings.policy_dir),
        vault=IdNumberVault(keyring(settings)),
        catalog=CatalogView(),
        phones=PhoneVault(keyring(settings)),
        on_registered=on_registered,
    )


def catalog_hooks(events: CatalogEvents, credits: Credits) -> None:
    """Base decisions (§三) reach the credit ledger at once: the learners trained at the
    base (training entries, programme results) are marked before the change is written and
    recomputed after it. Programme results (§二, §五(二)) likewise: the learner is marked
    before a result is written and recomputed after it (a pass credits its hours)."""

    async def changing(base_id: str, decision_id: str) -> None:
        await credit_recompute.base_changing(
            credits=credits, base_id=base_id, decision_id=decision_id
        )

    async def changed(base_id: str, decision_id: str) -> BaseFollowed:
        done = await credit_recompute.base_changed(
            credits=credits, base_id=base_id, decision_id=decision_id
        )
        return BaseFollowed(done.recomputed, done.entries_changed, done.learners_changed)

    async def result_recording(learner_id: str) -> None:
        await credit_recompute.result_recording(learner_id=learner_id)

    async def result_recorded(learner_id: str) -> None:
        await credit_recompute.result_recorded(credits=credits, learner_id=learner_id)

    events.subscribe_bases(changing=changing, changed=changed)
    events.subscribe_results(changing=result_recording, changed=result_recorded)
    if isinstance(credits.catalog, CatalogView):
        view = credits.catalog

        async def course_changed(course: CatalogCourse) -> None:
            view.forget_published()  # a course edited, retired or restored

        events.subscribe(course_changed)


def lrs_hooks(
    settings: Settings, credits: Credits, *, counted: Callable[[int], None] | None = None
) -> Hooks:
    """The record store's hooks: statements stored and voided reach the credit ledger
    (§一(一)); the Activities resource shows catalog courses as the catalog defines them;
    `counted(n)` hears how many new statements each write stored (the app's metrics)."""
    hooks = Hooks(course_definition=course_definitions(settings))
    if counted is not None:
        hooks.events.on_counted(counted)

    async def credit(statement_ids: list[str]) -> None:
        # A voiding statement is among the stored ones: projecting it un-credits its target.
        await credit_projection.project(credits=credits, statement_ids=statement_ids)

    hooks.events.on_stored(credit)
    return hooks


def transcripts(settings: Settings) -> Transcripts:
    """The transcript services of this app."""
    return Transcripts(
        keyring=keyring(settings),
        issuer=settings.issuer_name,
        pdf_font=settings.pdf_font,
    )


def programme(settings: Settings) -> catalog_programme.Programme:
    """The programme's collaborators (§二): certificate codes signed with the service's
    secret key, and learners looked up in the credit ledger (the catalog imports no
    credits)."""

    async def learner(learner_id: str) -> catalog_programme.LearnerFacts | None:
        found = await Learner.find_one({"learner_id": learner_id})
        if found is None:
            return None
        return catalog_programme.LearnerFacts(
            learner_id=found.learner_id, name=found.name, series=found.series
        )

    return catalog_programme.Programme(keyring=keyring(settings), learners=learner)


def accounts(settings: Settings, credits: Credits, verifier: Verifier) -> Accounts:
    """The account services: learners through the credit services, keys derived from the
    secret key, and the sign-in throttle of clients (one count of an address's failures)."""
    return Accounts.build(ring=keyring(settings), credits=credits, throttle=verifier.throttle)
