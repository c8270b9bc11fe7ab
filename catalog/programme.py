"""The knowledge-update programme (专业技术人才知识更新工程, §二): projects run by bases in
good standing (§三), their rosters, assessment results and the certificates bases issue
from them (§五(二)).

The catalog knows no learner: whether a learner exists, their name and series, come from
a lookup the composition root injects (`Programme.learners`, read from the ledger).

Places are never over-filled, on MongoDB with several replicas too: a seat is reserved by
one conditional update of the project (`enrolled < capacity`, `$inc enrolled`), then the
enrolment is inserted under its unique key; a duplicate gives the seat back. Where the
server runs transactions both writes are one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from beanie import PydanticObjectId
from bson.errors import InvalidId

from catalog import bases, rectification
from catalog import programme_certificates as certificates
from catalog.events import CatalogEvents
from catalog.models import Base, BaseStatus
from catalog.programme_certificates import Signer, Standing
from catalog.programme_models import (
    ProgrammeEnrolment,
    ProgrammeKind,
    ProgrammeProject,
    ProgrammeResult,
)
from catalog.programme_plan import plan
from catalog.programme_rules import TCM_SERIES
from catalog.programme_schemas import ProjectCreate, ResultCreate
from nxce.core import admin_log, db, keys
from nxce.core.admin_log import Area
from nxce.core.errors import Conflict, NotFound, invalid, show_value

__all__ = [
    "LearnerFacts",
    "LearnerLookup",
    "Programme",
    "certificates_of",
    "create_project",
    "enrol",
    "get_project",
    "learners_at",
    "list_projects",
    "plan",
    "record_result",
    "results_of",
    "roster",
    "verify_certificate",
    "withdraw",
]

_CST = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True, slots=True)
class LearnerFacts:
    """What the programme needs to know of a learner (from the credit ledger)."""

    learner_id: str
    name: str
    series: str | None


LearnerLookup = Callable[[str], Awaitable[LearnerFacts | None]]


class Programme:
    """The programme's collaborators, made by the composition root: the signer of
    certificate codes (from the secret keys) and the learner lookup."""

    def __init__(self, *, keyring: keys.Keyring, learners: LearnerLookup) -> None:
        self.signer = Signer(keyring)
        self.learners = learners


def _today() -> date:
    return datetime.now(UTC).astimezone(_CST).date()


# --- projects ---------------------------------------------------------------------------


# Our reading: an assessment may be dated up to this many days after the project's last
# day (a written examination or a report marked after the course); never before its start.
ASSESSMENT_GRACE_DAYS = 30


def _not_in_standing(base: Base, on: date, doing: str, started_on: date | None) -> Conflict:
    found = bases.status_on(base=base, on=on)
    status = found.status.value if found.status else "not yet certified"
    since = f" since {found.since.isoformat()}" if found.since else ""
    under_way = f" for a project started {started_on.isoformat()}" if started_on else ""
    return Conflict(
        f"base {base.name!r} is {status}{since} on {on.isoformat()}: not in good standing"
        f"{under_way}, so it cannot {doing} (§三)",
        base_id=str(base.id),
        base_status=status,
        since=found.since.isoformat() if found.since else None,
        on=on.isoformat(),
    )


async def _base_in_standing_today(
    base_id: str, doing: str, events: CatalogEvents | None, *, started_on: date | None
) -> Base:
    """§三: a base acts (creates a project, enrols, withdraws, records a result) only while
    it is in good standing on the day it acts — today, China Standard Time — for the
    project (`started_on`: its start; criticised, it carries on with work under way). Our
    reading: the standing on a back-dated day is not enough, a base revoked since acts no
    more. A criticism whose deadline has passed revokes the base first
    (`rectification.revoke_if_overdue`), so the deadline acts at once."""
    await rectification.revoke_if_overdue(base_id=base_id, events=events)
    base = await bases.get(base_id=base_id)
    day = _today()
    if not bases.in_good_standing(base, day, started_on=started_on):
        raise _not_in_standing(base, day, doing, started_on)
    return base


async def _base_for_project(base_id: str, starts_on: date, events: CatalogEvents | None) -> Base:
    """§三: projects are run by bases in good standing, both on the day the project is
    created (today) and on its first day; a criticised base runs no new project (no
    `started_on`: nothing of it is under way yet)."""
    base = await _base_in_standing_today(base_id, "create a project", events, started_on=None)
    if not bases.in_good_standing(base, starts_on):
        raise _not_in_standing(base, starts_on, "run a project starting then", None)
    return base


async def create_project(
    *, project_in: ProjectCreate, by: str, events: CatalogEvents | None = None
) -> ProgrammeProject:
    """§二: a project of a year's plan, run by a base in good standing today and on its
    first day."""
    await _base_for_project(project_in.base_id, project_in.starts_on, events)
    now = db.now()
    project = ProgrammeProject(
        **project_in.model_dump(),
        enrolled=0,
        completed=0,
        created_at=now,
        updated_at=now,
        created_by=by,
    )

    async def write(session: Any) -> None:
        await project.insert(session=session)
        await admin_log.record(
            by=by,
            area=Area.programme,
            action="programme.project_created",
            target=str(project.id),
            summary=(
                f"新建知识更新工程项目《{project.title}》（{project.year} 年，"
                f"{project.hours:g} 学时，名额 {project.capacity} 人）"
            ),
            detail={
                "year": project.year,
                "kind": project.kind.value,
                "base_id": project.base_id,
                "hours": project.hours,
                "starts_on": project.starts_on.isoformat(),
                "ends_on": project.ends_on.isoformat(),
                "capacity": project.capacity,
            },
            session=session,
        )

    await db.atomic(write)
    return project


async def get_project(*, project_id: str) -> ProgrammeProject:
    """The project `project_id`; 404 when there is none."""
    try:
        oid = PydanticObjectId(project_id)
    except (InvalidId, TypeError):
        raise NotFound(f"no programme project with id {show_value(project_id)}") from None
    project = await ProgrammeProject.get(oid)
    if project is None:
        raise NotFound(f"no programme project with id {show_value(project_id)}")
    return project


async def list_projects(
    *,
    year: int | None = None,
    kind: ProgrammeKind | None = None,
    base_id: str | None = None,
    industry: str | None = None,
) -> list[ProgrammeProject]:
    """Projects by year, kind, base and industry, in order of their start."""
    query: dict[str, Any] = {}
    for name, value in (("year", year), ("kind", kind), ("base_id", base_id)):
        if value is not None:
            query[name] = value
    if industry is not None:
        query["industry"] = industry
    return await ProgrammeProject.find(query).sort("starts_on", "title").to_list()


async def roster(*, project_id: str) -> list[ProgrammeEnrolment]:
    """The learners enrolled in a project, in order of enrolment."""
    await get_project(project_id=project_id)
    found = await ProgrammeEnrolment.find({"project_id": project_id}).to_list()
    return sorted(found, key=lambda e: (e.enrolled_at, e.learner_id))


# --- enrolments -------------------------------------------------------------------------


async def _learner(programme: Programme, learner_id: str) -> LearnerFacts:
    found = await programme.learners(learner_id)
    if found is None:
        raise NotFound(f"no learner {show_value(learner_id)}")
    return found


def check_series(project: ProgrammeProject, learner: LearnerFacts) -> None:
    """§二(四): the grassroots TCM training is for 基层中医药卫生专业技术人员 — learners of
    the 卫生 series only."""
    if project.kind == ProgrammeKind.tcm_grassroots and learner.series != TCM_SERIES:
        series = learner.series or "none"
        raise invalid(
            "learner_id",
            f"a tcm_grassroots project (§二(四)) enrols learners of the {TCM_SERIES} series "
            f"only; learner {learner.learner_id!r} is of the series {series!r}",
            learner.learner_id,
        )


async def enrol(
    *,
    programme: Programme,
    project_id: str,
    learner_id: str,
    by: str,
    events: CatalogEvents | None = None,
) -> ProgrammeEnrolment:
    """Put a learner on a project's roster; 409 when it is full, the learner is on it, or
    the base is not in good standing today for the project (§三)."""
    project = await get_project(project_id=project_id)
    await _base_in_standing_today(
        project.base_id, "enrol a learner", events, started_on=project.starts_on
    )
    learner = await _learner(programme, learner_id)
    check_series(project, learner)
    already = {"project_id": project_id, "learner_id": learner_id}
    if await ProgrammeEnrolment.find_one(already) is not None:
        raise Conflict(f"learner {learner_id!r} is enrolled in {project.title!r} already")
    enrolment = ProgrammeEnrolment(
        project_id=project_id,
        learner_id=learner_id,
        base_id=project.base_id,
        enrolled_at=db.now(),
        enrolled_by=by,
    )

    async def work(session: Any) -> None:
        projects = db.collection(ProgrammeProject)
        seat = await projects.update_one(
            {"_id": project.id, "enrolled": {"$lt": project.capacity}},
            {"$inc": {"enrolled": 1}, "$set": {"updated_at": db.now()}},
            session=session,
        )
        if seat.modified_count == 0:
            raise Conflict(
                f"project {project.title!r} is full: {project.capacity} places taken",
                capacity=project.capacity,
            )
        try:
            await enrolment.insert(session=session)
        except Exception as error:  # a cancelled insert may have landed: its seat stays
            if session is None:  # in a transaction, the abort gives the seat back
                await projects.update_one({"_id": project.id}, {"$inc": {"enrolled": -1}})
            if isinstance(error, db.DuplicateKeyError):
                raise Conflict(
                    f"learner {learner_id!r} is enrolled in {project.title!r} already"
                ) from None
            raise
        await admin_log.record(
            by=by,
            area=Area.programme,
            action="programme.enrolled",
            target=project_id,
            summary=f"学员 {learner_id} 报名项目《{project.title}》",
            detail={"learner_id": learner_id, "base_id": project.base_id},
            session=session,
        )

    await db.atomic(work)
    return enrolment


async def withdraw(
    *, project_id: str, learner_id: str, by: str, events: CatalogEvents | None = None
) -> None:
    """Take a learner off a roster before a result exists (409 after), giving the seat
    back; 404 when the learner is not on it; 409 when the base is not in good standing
    today for the project (§三)."""
    project = await get_project(project_id=project_id)
    await _base_in_standing_today(
        project.base_id, "withdraw a learner", events, started_on=project.starts_on
    )
    key = {"project_id": project_id, "learner_id": learner_id}
    if await ProgrammeResult.find_one(key) is not None:
        raise Conflict(
            f"learner {learner_id!r} has a result in {project.title!r}: a result stays, "
            f"with its enrolment"
        )

    async def work(session: Any) -> None:
        gone = await db.collection(ProgrammeEnrolment).delete_one(key, session=session)
        if gone.deleted_count == 0:
            raise NotFound(f"learner {learner_id!r} is not enrolled in {project.title!r}")
        await db.collection(ProgrammeProject).update_one(
            {"_id": project.id},
            {"$inc": {"enrolled": -1}, "$set": {"updated_at": db.now()}},
            session=session,
        )
        await admin_log.record(
            by=by,
            area=Area.programme,
            action="programme.withdrawn",
            target=project_id,
            summary=f"学员 {learner_id} 退出项目《{project.title}》（名额退回）",
            detail={"learner_id": learner_id, "base_id": project.base_id},
            session=session,
        )

    await db.atomic(work)


# --- results and certificates -----------------------------------------------------------


def check_assessed_on(project: ProgrammeProject, assessed_on: date) -> None:
    """An assessment is dated within the project's life: not before it starts, not more
    than ASSESSMENT_GRACE_DAYS after it ends (our reading), and not in the future (China
    Standard Time). 422 naming `assessed_on`."""
    day = assessed_on.isoformat()
    if assessed_on < project.starts_on:
        raise invalid(
            "assessed_on", f"must not be before the project starts ({project.starts_on})", day
        )
    if assessed_on > _today():
        raise invalid("assessed_on", "must not be in the future", day)
    latest = project.ends_on + timedelta(days=ASSESSMENT_GRACE_DAYS)
    if assessed_on > latest:
        raise invalid(
            "assessed_on",
            f"must be at most {ASSESSMENT_GRACE_DAYS} days (our limit) after the project "
            f"ends ({project.ends_on}), i.e. on or before {latest}",
            day,
        )


async def _check_recordable(project: ProgrammeProject, result_in: ResultCreate) -> None:
    check_assessed_on(project, result_in.assessed_on)
    key = {"project_id": str(project.id), "learner_id": result_in.learner_id}
    if await ProgrammeEnrolment.find_one(key) is None:
        raise invalid(
            "learner_id",
            f"is not enrolled in {project.title!r}: results are recorded for its roster only",
            result_in.learner_id,
        )
    if await ProgrammeResult.find_one(key) is not None:
        raise Conflict(
            f"learner {result_in.learner_id!r} has a result in {project.title!r} already: "
            f"one result per enrolment"
        )


async def record_result(
    *,
    programme: Programme,
    project_id: str,
    result_in: ResultCreate,
    by: str,
    events: CatalogEvents | None = None,
) -> ProgrammeResult:
    """Record an assessment of an enrolled learner; a pass issues a certificate (§五(二)).
    Refused when the base is not in good standing for this project (§三) on `assessed_on`
    or today (a base revoked since records nothing, back-dated or not; our reading).
    `events` hears of it before the write (the ledger marks the learner) and after (the
    ledger credits the hours)."""
    project = await get_project(project_id=project_id)
    await _check_recordable(project, result_in)
    await _base_in_standing_today(
        project.base_id, "record a result", events, started_on=project.starts_on
    )
    result = ProgrammeResult(
        result_id=uuid.uuid4().hex,
        project_id=project_id,
        learner_id=result_in.learner_id,
        base_id=project.base_id,
        passed=result_in.passed,
        assessed_on=result_in.assessed_on,
        score=result_in.score,
        remarks=result_in.remarks,
        hours=project.hours,
        project_title=project.title,
        kind=project.kind.value,
        starts_on=project.starts_on,
        recorded_at=db.now(),
        recorded_by=by,
    )
    found = await certificates.standing(result)
    if not found.good:
        raise Conflict(f"result not recorded: {found.reason}", base_id=project.base_id)
    if result.passed:
        result.certificate = await certificates.issue(
            programme.signer, result, project.year, project.kind
        )
    if events is not None:
        await events.result_recording(result.learner_id)

    async def write(session: Any) -> None:
        await result.insert(session=session)
        outcome = "考核合格，发放结业证书" if result.passed else "考核不合格"
        certificate = result.certificate.certificate_no if result.certificate else None
        await admin_log.record(
            by=by,
            area=Area.programme,
            action="programme.result_recorded",
            target=project_id,
            summary=(
                f"登记学员 {result.learner_id} 在项目《{project.title}》的考核结果：{outcome}"
                f"（{result.assessed_on.isoformat()}）"
            ),
            detail={
                "learner_id": result.learner_id,
                "passed": result.passed,
                "assessed_on": result.assessed_on.isoformat(),
                "score": result.score,
                "hours": result.hours,
                **({"certificate": certificate} if certificate else {}),
            },
            session=session,
        )

    try:
        await db.atomic(write)
    except db.DuplicateKeyError:
        raise Conflict(
            f"learner {result.learner_id!r} has a result in {project.title!r} already: "
            f"one result per enrolment"
        ) from None
    if result.passed:
        await db.collection(ProgrammeProject).update_one(
            {"_id": project.id}, {"$inc": {"completed": 1}, "$set": {"updated_at": db.now()}}
        )
    if events is not None:
        await events.result_recorded(result.learner_id)
    return result


async def results_of(*, learner_id: str) -> list[ProgrammeResult]:
    """A learner's results, passed and failed, by assessment date."""
    found = await ProgrammeResult.find({"learner_id": learner_id}).to_list()
    return sorted(found, key=lambda r: (r.assessed_on, r.recorded_at))


async def certificates_of(*, learner_id: str) -> list[ProgrammeResult]:
    """A learner's certificates (the passed results), by assessment date."""
    return [r for r in await results_of(learner_id=learner_id) if r.certificate is not None]


async def learners_at(*, base_id: str) -> list[str]:
    """The learners with a result at a base (a base decision recomputes their ledgers)."""
    found = await db.collection(ProgrammeResult).distinct("learner_id", {"base_id": base_id})
    return sorted(str(learner) for learner in found)


@dataclass(frozen=True, slots=True)
class CertificateCheck:
    """A genuine certificate, what it certifies, and whether it still stands (§三)."""

    result: ProgrammeResult
    learner_name: str
    standing: Standing

    @property
    def base_name(self) -> str:
        return self.standing.base.name if self.standing.base else self.result.base_id


async def verify_certificate(*, programme: Programme, code: str) -> CertificateCheck | None:
    """The certificate with the (normalised) `code`, or None when no genuine one has it."""
    result = await certificates.by_code(programme.signer, code)
    if result is None:
        return None
    learner = await programme.learners(result.learner_id)
    name = learner.name if learner else ""
    return CertificateCheck(result, name, await certificates.standing(result))


def is_commended(base: Base | None) -> bool:
    """§三: commended bases get programme support; lists mark them."""
    return base is not None and base.status == BaseStatus.commended
