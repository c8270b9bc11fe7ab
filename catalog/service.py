"""Catalog services for courses: async, keyword-only, no web framework.

Writes are optimistic: a course carries a `revision`, every write matches on it, and a
write that lost a race answers 409 instead of overwriting the other one. A write and
its audit-trail entry are one transaction where MongoDB runs transactions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from catalog.course_fields import ACTION_LABELS, change_lines
from catalog.events import CatalogEvents
from catalog.models import ChangeAction, Course, CourseChange, CourseStatus
from catalog.schemas import (
    CatalogStats,
    CourseCreate,
    CourseFields,
    CourseFilter,
    CourseReplace,
    CourseUpdate,
    LoadReport,
    Tally,
    check_series_rule,
)
from catalog.series import SERIES_NAMES, Category
from nxce.core import admin_log, db
from nxce.core.errors import Conflict, NotFound, PreconditionFailed, invalid, show_value
from nxce.core.preconditions import Precondition

# Fields a course's content is made of; changes to them go into the audit trail.
CONTENT_FIELDS: tuple[str, ...] = tuple(CourseFields.model_fields)


def activity_iri(*, activity_base: str, code: str) -> str:
    """A course's xAPI activity IRI: the configured base and the code."""
    return f"{activity_base.rstrip('/')}/{code}"


# A catalog year starts on 1 January in China Standard Time.
_CST = timezone(timedelta(hours=8), "CST")


def available_since(course: Course) -> datetime:
    """When `course` could first be taken: the moment it was created through the API, or
    1 January (China Standard Time) of its catalog `year` for a course of the fixture
    catalog (our reading: the fixture describes courses offered since their year, not
    since the day it was loaded into a store)."""
    if course.available_from is not None:
        return course.available_from
    return datetime(course.year, 1, 1, tzinfo=_CST)


def _now() -> datetime:
    return db.now()


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


async def get(*, code: str) -> Course:
    """The course `code`, published or retired; 404 when there is none."""
    course = await Course.find_one(Course.code == code)
    if course is None:
        raise NotFound(f"no course with code {show_value(code)}")
    return course


async def _get_for_write(code: str, if_match: Precondition | None) -> Course:
    """The course a write applies to, if it meets the write's precondition."""
    course = await Course.find_one(Course.code == code)
    if if_match is not None and not if_match.accepts(course.revision if course else None):
        if course is None:
            raise PreconditionFailed(f"no course with code {show_value(code)}")
        raise PreconditionFailed(
            f"course {code!r} is at revision {course.revision}, which If-Match does not name"
        )
    if course is None:
        raise NotFound(f"no course with code {show_value(code)}")
    return course


async def get_by_activity(*, activity_id: str) -> Course | None:
    """The course whose xAPI activity IRI is `activity_id`, if any."""
    return await Course.find_one(Course.activity_id == activity_id)


async def fields_as_of(*, code: str, current: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """The values the course `code` had at `moment` of the fields in `current` (their
    values now): every later change of its audit trail undone (a credit keeps the hours
    the course had when it was completed)."""
    values = dict(current)
    later = (
        await CourseChange.find({"code": code, "changed_at": {"$gt": moment}})
        .sort("-revision")
        .to_list()
    )
    for change in later:
        for name in current:
            before = change.changes.get(name, {}).get("from")
            if before is not None:
                values[name] = before
    return values


def _query(filters: CourseFilter) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if filters.status != "any":
        query["status"] = str(filters.status)
    for name in ("category", "series", "subject", "year"):
        value = getattr(filters, name)
        if value is not None:
            query[name] = _plain(value)
    return query


async def get_all(*, filters: CourseFilter) -> tuple[list[Course], int]:
    """A page of courses matching `filters`, ordered by code, and how many match in all."""
    query = _query(filters)
    skip = (filters.page - 1) * filters.page_size
    items = await Course.find(query).sort("code").skip(skip).limit(filters.page_size).to_list()
    total = await Course.find(query).count()
    return items, total


MAX_SUMMARY = 200


def log_line(
    *, code: str, title: str, action: ChangeAction, by: str, revision: int,
    changes: dict[str, Any], via: str | None = None,
) -> admin_log.AdminAction:  # fmt: skip
    """The administrative log's line for one course written: who, which course, and each
    field from → to (`via`: the import that wrote it)."""
    what = "；".join(change_lines(changes)) if action == ChangeAction.updated else ""
    summary = f"{ACTION_LABELS[action.value]}课程 {code}《{title}》"
    if what:
        summary += "：" + what
    if via is not None:
        summary = "批量导入：" + summary
    if len(summary) > MAX_SUMMARY:
        summary = summary[: MAX_SUMMARY - 1] + "…"
    detail: dict[str, Any] = {"revision": revision, "changes": changes}
    if via is not None:
        detail["import"] = via
    return admin_log.AdminAction(
        by=by,
        area=admin_log.Area.catalog,
        action=f"course.{action.value}",
        target=code,
        summary=summary,
        detail=detail,
    )


async def find_by_code(*, prefix: str, filters: CourseFilter) -> tuple[list[Course], int]:
    """Courses whose code starts with `prefix` (search does not index codes), under
    `filters`, by code, and how many match; the code index bounds the scan."""
    query = {**_query(filters), "code": {"$regex": "^" + re.escape(prefix)}}
    skip = (filters.page - 1) * filters.page_size
    items = await Course.find(query).sort("code").skip(skip).limit(filters.page_size).to_list()
    return items, await Course.find(query).count()


async def find_retired(
    *, text: str, category: str | None, series: str | None, skip: int, limit: int
) -> tuple[list[Course], int]:
    """Retired courses whose code or title holds `text` (search indexes published courses
    only), by code, and how many match; the status index bounds the scan to the retired."""
    pattern = re.escape(text)
    query: dict[str, Any] = {
        "status": CourseStatus.retired.value,
        "$or": [{"code": {"$regex": pattern, "$options": "i"}}, {"title": {"$regex": pattern}}],
    }
    if category is not None:
        query["category"] = category
    if series is not None:
        query["series"] = series
    items = await Course.find(query).sort("code").skip(skip).limit(limit).to_list()
    return items, await Course.find(query).count()


def _change(course: Course, action: ChangeAction, by: str, changes: dict[str, Any]) -> CourseChange:
    return CourseChange(
        code=course.code,
        action=action,
        revision=course.revision,
        by=by,
        changed_at=course.updated_at,
        changes=changes,
    )


async def create(
    *, course_in: CourseCreate, activity_base: str, by: str, events: CatalogEvents | None = None
) -> Course:
    """Create a published course; 409 when its code is taken."""
    now = _now()
    course = Course(
        **course_in.model_dump(),
        activity_id=activity_iri(activity_base=activity_base, code=course_in.code),
        status=CourseStatus.published,
        created_at=now,
        updated_at=now,
        available_from=now,
    )
    created = {f: {"to": _plain(getattr(course, f))} for f in CONTENT_FIELDS}

    async def write(session: Any) -> None:
        await course.insert(session=session)
        await _change(course, ChangeAction.created, by, created).insert(session=session)
        line = log_line(
            code=course.code, title=course.title, action=ChangeAction.created, by=by,
            revision=course.revision, changes=created,
        )  # fmt: skip
        await admin_log.record_many([line], session=session)

    try:
        await db.atomic(write)
    except db.DuplicateKeyError:
        raise Conflict(f"a course with code {course_in.code!r} already exists") from None
    if events is not None:
        await events.course_changed(course)
    return course


async def _apply(
    course: Course,
    values: dict[str, Any],
    by: str,
    action: ChangeAction,
    events: CatalogEvents | None,
) -> Course:
    """Write `values` onto `course` if nothing else changed it since it was read."""
    changes = {
        name: {"from": _plain(getattr(course, name)), "to": _plain(value)}
        for name, value in values.items()
        if getattr(course, name) != value
    }
    if not changes:
        return course
    update = {**values, "revision": course.revision + 1, "updated_at": _now()}

    async def write(session: Any) -> None:
        result = await db.collection(Course).update_one(
            {"_id": course.id, "revision": course.revision},
            {"$set": db.encode(update)},
            session=session,
        )
        if result.matched_count == 0:
            raise Conflict(f"course {course.code!r} was changed by another request; read it again")
        for name, value in update.items():
            setattr(course, name, value)
        await _change(course, action, by, changes).insert(session=session)
        line = log_line(
            code=course.code, title=course.title, action=action, by=by,
            revision=course.revision, changes=changes,
        )  # fmt: skip
        await admin_log.record_many([line], session=session)

    await db.atomic(write)
    if events is not None:
        await events.course_changed(course)
    return course


async def replace(
    *,
    code: str,
    course_in: CourseReplace,
    by: str,
    if_match: Precondition | None = None,
    events: CatalogEvents | None = None,
) -> Course:
    """Replace every field of the course `code` (PUT)."""
    if course_in.code is not None and course_in.code != code:
        raise invalid("code", f"differs from the path ({code!r})", course_in.code)
    course = await _get_for_write(code, if_match)
    values = course_in.model_dump(exclude={"code"})
    return await _apply(course, values, by, ChangeAction.updated, events)


async def update(
    *,
    code: str,
    patch: CourseUpdate,
    by: str,
    if_match: Precondition | None = None,
    events: CatalogEvents | None = None,
) -> Course:
    """Change some fields of the course `code` (PATCH); the result must still be valid."""
    course = await _get_for_write(code, if_match)
    values = patch.model_dump(exclude_unset=True)
    category = values.get("category", course.category)
    series = values.get("series", course.series)
    if "category" in values and values["category"] == Category.public and "series" not in values:
        series = None
        values["series"] = None
    try:
        check_series_rule(category, series)
    except ValueError as error:
        raise invalid("series", str(error), series) from None
    return await _apply(course, values, by, ChangeAction.updated, events)


async def _set_status(
    code: str,
    status: CourseStatus,
    action: ChangeAction,
    by: str,
    if_match: Precondition | None,
    events: CatalogEvents | None,
) -> Course:
    course = await _get_for_write(code, if_match)
    if course.status == status:
        return course
    return await _apply(course, {"status": status}, by, action, events)


async def retire(
    *, code: str, by: str, if_match: Precondition | None = None, events: CatalogEvents | None = None
) -> Course:
    """Retire the course `code`: it leaves listings but keeps resolving (credits cite it)."""
    return await _set_status(code, CourseStatus.retired, ChangeAction.retired, by, if_match, events)


async def restore(
    *, code: str, by: str, if_match: Precondition | None = None, events: CatalogEvents | None = None
) -> Course:
    """Publish a retired course again."""
    published = CourseStatus.published
    return await _set_status(code, published, ChangeAction.restored, by, if_match, events)


async def history(*, code: str, after: int = 0) -> list[CourseChange]:
    """The audit trail of the course `code`, oldest first (`after`: the changes that made
    the revisions after that one)."""
    await get(code=code)
    query: dict[str, Any] = {"code": code}
    if after:
        query["revision"] = {"$gt": after}
    return await CourseChange.find(query).sort("revision").to_list()


async def stats() -> CatalogStats:
    """Courses and hours: published in all, by category and by series; retired apart."""
    pipeline: list[dict[str, Any]] = [
        {
            "$group": {
                "_id": {"status": "$status", "category": "$category", "series": "$series"},
                "courses": {"$sum": 1},
                "hours": {"$sum": "$hours"},
            }
        },
    ]
    rows = await db.collection(Course).aggregate(pipeline).to_list(None)
    by_category = {c.value: Tally(courses=0, hours=0) for c in Category}
    by_series = {name: Tally(courses=0, hours=0) for name in SERIES_NAMES}
    retired = Tally(courses=0, hours=0)
    for row in rows:
        key, courses, hours = row["_id"], row["courses"], float(row["hours"])
        if key["status"] != CourseStatus.published:
            retired.courses += courses
            retired.hours += hours
            continue
        by_category[key["category"]].courses += courses
        by_category[key["category"]].hours += hours
        if key.get("series"):
            by_series[key["series"]].courses += courses
            by_series[key["series"]].hours += hours
    return CatalogStats(
        courses=sum(t.courses for t in by_category.values()),
        hours=sum(t.hours for t in by_category.values()),
        by_category=by_category,
        by_series=by_series,
        retired=retired,
    )


async def load(
    *, courses: Iterable[CourseCreate], activity_base: str, by: str = "fixtures"
) -> LoadReport:
    """Upsert courses by code: new codes are created, changed content is updated.

    Idempotent: loading the same courses twice changes nothing the second time (not
    even `updated_at`). A course's status is left as an administrator set it.
    """
    collection = db.collection(Course)
    existing: dict[str, dict[str, Any]] = {
        doc["code"]: doc async for doc in collection.find({}, {"_id": 0, "created_at": 0})
    }
    now = _now()
    new_docs: list[dict[str, Any]] = []
    new_changes: list[dict[str, Any]] = []
    updated = unchanged = 0
    for course_in in courses:
        content = course_in.model_dump(mode="json", exclude={"code"})
        old = existing.get(course_in.code)
        if old is None:
            new_docs.append(
                {
                    "code": course_in.code,
                    **content,
                    "activity_id": activity_iri(activity_base=activity_base, code=course_in.code),
                    "status": CourseStatus.published.value,
                    "revision": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            new_changes.append(
                _change_doc(
                    course_in.code,
                    ChangeAction.created,
                    1,
                    by,
                    now,
                    {f: {"to": v} for f, v in content.items()},
                )
            )
            continue
        changes = {f: {"from": old.get(f), "to": v} for f, v in content.items() if old.get(f) != v}
        if not changes:
            unchanged += 1
            continue
        revision = old.get("revision", 1) + 1
        await collection.update_one(
            {"code": course_in.code},
            {"$set": {**content, "revision": revision, "updated_at": now}},
        )
        new_changes.append(
            _change_doc(course_in.code, ChangeAction.updated, revision, by, now, changes)
        )
        updated += 1
    if new_docs:
        try:
            await collection.insert_many(new_docs, ordered=False)
        except db.BulkWriteError as error:
            # Another instance loading the same fixture at the same time got there first.
            errors = error.details.get("writeErrors", [])
            if any(e.get("code") != db.DUPLICATE_KEY for e in errors):
                raise
            raced = {e["op"]["code"] for e in errors}
            new_changes = [c for c in new_changes if c["code"] not in raced]
            new_docs = [d for d in new_docs if d["code"] not in raced]
    if new_changes:
        await db.collection(CourseChange).insert_many(new_changes, ordered=False)
    return LoadReport(created=len(new_docs), updated=updated, unchanged=unchanged)


def _change_doc(
    code: str, action: ChangeAction, revision: int, by: str, at: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    return {
        "code": code,
        "action": action.value,
        "revision": revision,
        "by": by,
        "changed_at": at,
        "changes": changes,
    }
