"""Beanie documents of the catalog, each with the indexes its queries use."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel

from catalog.series import Category


class CourseStatus(StrEnum):
    published = "published"
    retired = "retired"


class Delivery(StrEnum):
    web = "web"
    mobile = "mobile"
    both = "both"


class Course(Document):
    """A course of the catalog; `code` is its stable key, `activity_id` its xAPI IRI."""

    code: str
    title: str
    description: str
    category: Category
    series: str | None
    subject: str
    hours: float
    year: int
    base: str
    delivery: Delivery
    tags: list[str]
    activity_id: str
    status: CourseStatus
    revision: int = 1
    created_at: datetime
    updated_at: datetime
    # When the course could first be taken: the moment it was created through the API.
    # None for a course of the fixture catalog, which exists from 1 January of its `year`
    # (not from the day the fixture was loaded into a store): see `available_since`.
    available_from: datetime | None = None

    class Settings:
        name = "courses"
        indexes = [
            # service.get / get_by_activity: one course by its code or its IRI.
            IndexModel([("code", ASCENDING)], unique=True, name="code_unique"),
            IndexModel([("activity_id", ASCENDING)], unique=True, name="activity_id_unique"),
            # service.get_all: filters on status plus category/series/subject/year, by code.
            IndexModel(
                [
                    ("status", ASCENDING),
                    ("category", ASCENDING),
                    ("series", ASCENDING),
                    ("code", ASCENDING),
                ],
                name="status_category_series_code",
            ),
            IndexModel(
                [("status", ASCENDING), ("series", ASCENDING), ("code", ASCENDING)],
                name="status_series_code",
            ),
            IndexModel(
                [("status", ASCENDING), ("subject", ASCENDING), ("code", ASCENDING)],
                name="status_subject_code",
            ),
            IndexModel(
                [("status", ASCENDING), ("year", ASCENDING), ("code", ASCENDING)],
                name="status_year_code",
            ),
        ]


class ChangeAction(StrEnum):
    created = "created"
    updated = "updated"
    retired = "retired"
    restored = "restored"


class CourseChange(Document):
    """One entry of a course's audit trail: who changed what, and when."""

    code: str
    action: ChangeAction
    revision: int
    by: str
    changed_at: datetime
    changes: dict[str, dict[str, Any]]

    class Settings:
        name = "course_changes"
        # service.history: a course's changes in order.
        indexes = [IndexModel([("code", ASCENDING), ("revision", ASCENDING)], name="code_revision")]


class BaseLevel(StrEnum):
    """The level that certified a continuing-education base (继续教育基地)."""

    national = "national"
    regional = "regional"
    municipal = "municipal"


class BaseStatus(StrEnum):
    """§三: bases are certified, commended, criticised with a deadline to rectify
    (通报批评并限期整改), or lose their status (revoked)."""

    certified = "certified"
    commended = "commended"
    criticised = "criticised"
    revoked = "revoked"


class StatusChange(BaseModel):
    """One decision about a base: its new status, why, and from when (§三)."""

    status: BaseStatus
    reason: str
    effective_on: date
    recorded_at: datetime
    recorded_by: str
    # §三 限期整改: the date by which a criticised base must have rectified (None for the
    # other statuses); past it without a later change, the daily check revokes the base.
    rectify_by: date | None = None
    # Names the decision (the ledger changes it made are kept under it, credits'
    # LedgerChange); None for decisions recorded before decisions had one.
    decision_id: str | None = None


class Base(Document):
    """A continuing-education base (继续教育基地) with the history of its status."""

    name: str
    level: BaseLevel
    status: BaseStatus
    history: list[StatusChange]
    revision: int = 1
    created_at: datetime
    updated_at: datetime

    class Settings:
        name = "bases"
        indexes = [
            # service.create_base: names are unique; get_all_bases: by status and level.
            IndexModel([("name", ASCENDING)], unique=True, name="name_unique"),
            IndexModel([("status", ASCENDING), ("level", ASCENDING)], name="status_level"),
        ]


DOCUMENTS: tuple[type[Document], ...] = (Course, CourseChange, Base)
