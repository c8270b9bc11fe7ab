"""API shapes of the catalog: what clients send and what they get back."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from catalog.models import BaseLevel, BaseStatus, ChangeAction, CourseStatus, Delivery
from catalog.series import SERIES_NAMES, Category
from nxce.core.errors import show_value
from nxce.core.params import IsoDate, QueryInt

CODE_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,39}$"
MAX_HOURS = 200.0
YEAR_MIN, YEAR_MAX = 2000, 2100
MAX_PAGE_SIZE = 100


def _nfc(value: object) -> object:
    """Text is compared and measured in NFC (é as one character, not two)."""
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else value


def _nfc_filled(value: object) -> object:
    """NFC, and not blank: a title of spaces is no title."""
    value = _nfc(value)
    if value == "":
        raise ValueError("must not be blank")
    return value


def _single_line(value: str) -> str:
    """Titles, subjects, tags and names are one line of printable text."""
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise ValueError(f"must not contain control characters, got {bad!r}")
    if not value:
        raise ValueError("must not be blank")
    return value


def _text(value: str) -> str:
    """Descriptions may hold line breaks but no other control characters."""
    bad = next((c for c in value if unicodedata.category(c) == "Cc" and c not in "\n\t"), None)
    if bad is not None:
        raise ValueError(f"must not contain control characters, got {bad!r}")
    return value


def _series(value: str) -> str:
    if value not in SERIES_NAMES:
        raise ValueError(f"must be one of the 23 series ({'、'.join(SERIES_NAMES)}), got {value!r}")
    return value


def _half_hours(value: float) -> float:
    """§四: course hours (学时) are positive, in half-hour steps."""
    shown = f"{value:.15g}"
    if value <= 0:
        raise ValueError(f"must be greater than 0, got {shown}")
    if value > MAX_HOURS:
        raise ValueError(f"must be at most {MAX_HOURS:g}, got {shown}")
    if not (value * 2).is_integer():
        raise ValueError(f"must be a multiple of 0.5, got {shown}")
    return float(value)


def _unique_tags(value: list[str]) -> list[str]:
    seen: set[str] = set()
    duplicates = [t for t in value if t in seen or seen.add(t)]  # type: ignore[func-returns-value]
    if duplicates:
        raise ValueError(f"must not repeat a tag, got {duplicates[0]!r} twice")
    return value


Line = Annotated[
    str,
    BeforeValidator(_nfc_filled),
    StringConstraints(max_length=200),
    AfterValidator(_single_line),
]
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
Title = Annotated[
    str,
    BeforeValidator(_nfc_filled),
    StringConstraints(min_length=2, max_length=120),
    AfterValidator(_single_line),
]
Description = Annotated[
    str, BeforeValidator(_nfc), StringConstraints(max_length=4000), AfterValidator(_text)
]
Subject = Annotated[
    str,
    BeforeValidator(_nfc_filled),
    StringConstraints(max_length=40),
    AfterValidator(_single_line),
]
Tag = Annotated[
    str,
    BeforeValidator(_nfc_filled),
    StringConstraints(max_length=20),
    AfterValidator(_single_line),
]
Tags = Annotated[list[Tag], Field(max_length=16), AfterValidator(_unique_tags)]
SeriesName = Annotated[str, AfterValidator(_series)]
# Numbers in bodies are strict: `true` or "2.5" is not an hour count.
Hours = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_half_hours)]
Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]
StrictYear = Annotated[Year, Field(strict=True)]
Provider = Annotated[
    str,
    BeforeValidator(_nfc_filled),
    StringConstraints(max_length=100),
    AfterValidator(_single_line),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


def check_series_rule(category: Category | None, series: str | None) -> None:
    """§四: public courses (公需课) have no series; professional ones have exactly one."""
    if category == Category.public and series is not None:
        raise ValueError(f"series must be null for a public course, got {series!r}")
    if category == Category.professional and series is None:
        raise ValueError("series is required for a professional course")


class CourseFields(_Strict):
    """Everything about a course an administrator sets, except its code."""

    title: Title
    description: Description = ""
    category: Category
    series: SeriesName | None = None
    subject: Subject
    hours: Hours
    year: StrictYear
    base: Provider
    delivery: Delivery = Delivery.both
    tags: Tags = []

    @model_validator(mode="after")
    def _series_fits_category(self) -> Self:
        check_series_rule(self.category, self.series)
        return self


class CourseCreate(CourseFields):
    code: Code


class CourseReplace(CourseFields):
    """PUT body: the whole course; `code`, when sent, must match the path."""

    code: Code | None = None


class CourseUpdate(_Strict):
    """PATCH body: only the fields to change."""

    title: Title | None = None
    description: Description | None = None
    category: Category | None = None
    series: SeriesName | None = None
    subject: Subject | None = None
    hours: Hours | None = None
    year: StrictYear | None = None
    base: Provider | None = None
    delivery: Delivery | None = None
    tags: Tags | None = None

    @model_validator(mode="after")
    def _no_explicit_nulls(self) -> Self:
        for name in self.model_fields_set - {"series"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} must not be null")
        return self


class CourseRead(BaseModel):
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
    revision: int
    created_at: datetime
    updated_at: datetime


class StatusFilter(StrEnum):
    """Which courses a listing shows: published (the default), retired, or any."""

    published = "published"
    retired = "retired"
    any = "any"


class CourseFilter(_Strict):
    """Query of `GET /courses`; unknown parameters are refused so typos do not pass silently."""

    category: Category | None = None
    series: SeriesName | None = None
    subject: Subject | None = None
    year: Annotated[QueryInt, Field(ge=YEAR_MIN, le=YEAR_MAX)] | None = None
    status: StatusFilter = StatusFilter.published
    page: QueryInt = Field(1, ge=1, le=100_000)
    page_size: QueryInt = Field(20, ge=1, le=MAX_PAGE_SIZE)


class CoursePage(BaseModel):
    items: list[CourseRead]
    total: int
    page: int
    page_size: int


class CourseChangeRead(BaseModel):
    code: str
    action: ChangeAction
    revision: int
    by: str
    changed_at: datetime
    changes: dict[str, dict[str, Any]]


class Tally(BaseModel):
    courses: int
    hours: float


class CatalogStats(BaseModel):
    """Published courses and hours, in all and by category and series; retired apart."""

    courses: int
    hours: float
    by_category: dict[str, Tally]
    by_series: dict[str, Tally]
    retired: Tally


class LoadReport(BaseModel):
    created: int
    updated: int
    unchanged: int


BaseName = Annotated[
    str,
    BeforeValidator(_nfc_filled),
    StringConstraints(min_length=2, max_length=100),
    AfterValidator(_single_line),
]
Reason = Annotated[
    str,
    BeforeValidator(_nfc_filled),
    StringConstraints(min_length=2, max_length=500),
    AfterValidator(_text),
]


def _iso_day(value: object) -> object:
    """Dates in bodies are "YYYY-MM-DD" strings: not numbers, not timestamps."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"must be a date written YYYY-MM-DD, got {show_value(value)}")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]


class BaseCreate(_Strict):
    """§三: a base is registered when it is certified; `effective_on` is that date."""

    name: BaseName
    level: BaseLevel
    reason: Reason
    effective_on: Day


class BaseUpdate(_Strict):
    """Corrections of a base's name or level (its status changes through history)."""

    name: BaseName | None = None
    level: BaseLevel | None = None


class StatusChangeCreate(_Strict):
    """§三: a base is certified, commended, criticised with a deadline to rectify, or loses
    its status, with a reason and a date."""

    status: BaseStatus
    reason: Reason
    effective_on: Day
    rectify_by: Day | None = Field(
        default=None,
        description=(
            "§三 限期整改: the rectification deadline, required when `status` is "
            "`criticised` (after `effective_on`), refused with any other status"
        ),
    )


class StatusChangeRead(BaseModel):
    """A status change as the public sees it (who recorded it is kept, not shown)."""

    status: BaseStatus
    reason: str
    effective_on: date
    recorded_at: datetime
    rectify_by: date | None = None


class BaseRead(BaseModel):
    id: str
    name: str
    level: BaseLevel
    status: BaseStatus
    history: list[StatusChangeRead]
    created_at: datetime
    updated_at: datetime


class BaseFilter(_Strict):
    status: BaseStatus | None = None
    level: BaseLevel | None = None


class BaseStatusOn(BaseModel):
    """The status of a base on a date; `null` before its first certification."""

    base_id: str
    on: date
    status: BaseStatus | None
    since: date | None
    rectify_by: date | None = None  # when criticised: the rectification deadline


class StatusOnQuery(_Strict):
    on: IsoDate


class BaseSeed(_Strict):
    """A base as the fixture describes it: its whole status history."""

    name: BaseName
    level: BaseLevel
    history: Annotated[list[StatusChangeCreate], Field(min_length=1)]
