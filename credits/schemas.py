"""API shapes of learners, ledger entries, reviews and the audit."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from credits.models import Degree, EntryStatus, EventKind, TitleLevel
from nxce.core.params import QueryInt

LEARNER_ID = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _text(value: object) -> object:
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value).strip()
        if not value:
            raise ValueError("must not be blank")
        if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
            raise ValueError("must not contain control characters")
    return value


def _iso_day(value: object) -> object:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"must be a date written YYYY-MM-DD, got {value!r}")
    return value


def _half_steps(value: float) -> float:
    if value <= 0:
        raise ValueError(f"must be greater than 0, got {value:.15g}")
    if not (value * 2).is_integer():  # also false for what doubles to infinity
        raise ValueError(f"must be a multiple of 0.5, got {value:.15g}")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"must be an e-mail address, got {value!r}")
    return value


def _not_null(value: object) -> object:
    """Only the optional contact fields (e-mail) are cleared with null; id numbers, names,
    titles, dates and the series are what the audit reads, so null is refused for them."""
    if value is None:
        raise ValueError("must not be null (null clears only email)")
    return value


Text = Annotated[str, BeforeValidator(_text), Field(max_length=100)]
LongText = Annotated[str, BeforeValidator(_text), Field(max_length=1000)]
Day = Annotated[date, BeforeValidator(_iso_day)]
Hours = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_half_steps)]
Count = Annotated[int, Field(strict=True, ge=1)]
NotNull = BeforeValidator(_not_null)
IdNumber = Annotated[str, Field(min_length=18, max_length=18)]
# null clears the e-mail address (GET answers "email": null when there is none).
Email = Annotated[str, AfterValidator(_email), Field(max_length=200)] | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LearnerFields(_Strict):
    """A new learner: null for `series`, `title_obtained_on` and `email` is "none", as
    GET answers them; null is a 422 naming the field for the others."""

    name: Text
    id_number: IdNumber
    employer: Text
    series: str | None = None
    title_level: Annotated[TitleLevel, NotNull] = TitleLevel.none
    title_obtained_on: Day | None = None
    degree: Degree
    email: Email = None


class LearnerCreate(LearnerFields):
    id: Annotated[str, Field(pattern=LEARNER_ID)]


class LearnerUpdate(_Strict):
    """The fields to change; an absent one is kept. null clears the e-mail address and is
    a 422 naming the field for every other one."""

    name: Annotated[Text | None, NotNull] = None
    id_number: Annotated[IdNumber | None, NotNull] = None
    employer: Annotated[Text | None, NotNull] = None
    series: Annotated[str | None, NotNull] = None
    title_level: Annotated[TitleLevel | None, NotNull] = None
    title_obtained_on: Annotated[Day | None, NotNull] = None
    degree: Annotated[Degree | None, NotNull] = None
    email: Email = None


class Actor(BaseModel):
    objectType: Literal["Agent"] = "Agent"
    name: str
    account: dict[str, str]


class LearnerRead(BaseModel):
    id: str
    name: str
    id_number: str = Field(description="Full for auditors, masked (640102********1239) otherwise.")
    employer: str
    series: str | None
    title_level: TitleLevel
    title_obtained_on: date | None
    degree: Degree
    email: str | None
    actor: Actor
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None = Field(
        None,
        description="When the personal data was erased on request (name and id number "
        "are placeholders from then on).",
    )


class ErasureCreate(_Strict):
    """Why the personal data is erased (the learner's request, its date or reference);
    kept in the audit trail, so it should name no personal data itself."""

    reason: LongText


class AuditEventsQuery(_Strict):
    kind: EventKind | None = None
    learner_id: Annotated[str | None, Field(max_length=64)] = None
    by: Annotated[str | None, Field(max_length=64, description="a client key")] = None
    since: datetime | None = None
    before: datetime | None = None
    limit: QueryInt = Field(100, ge=1, le=1000)


class AuditEventRead(BaseModel):
    kind: EventKind
    at: datetime
    by: str = Field(description="the key of the client that acted")
    learner_id: str | None = Field(description="the learner record seen, hit or erased")
    detail: dict[str, Any]


# Manual entries (§一(三)): `kind` selects the fields.


class _Entry(_Strict):
    description: LongText | None = None
    evidence: LongText | None = None


class StudyTour(_Entry):
    kind: Literal["study_tour"]
    date: Day
    days: Count


class Teaching(_Entry):
    kind: Literal["teaching"]
    date: Day
    hours_taught: Hours


class ForeignLanguageExam(_Entry):
    kind: Literal["foreign_language_exam"]
    date: Day


class ComputerExamModule(_Entry):
    kind: Literal["computer_exam_module"]
    date: Day
    modules: Count


class DegreeEntry(_Entry):
    kind: Literal["degree"]
    enrolled_on: Day
    graduated_on: Day
    certified_hours: Hours | None = None


class Qualification(_Entry):
    kind: Literal["qualification"]
    date: Day
    name: Text


class Training(_Entry):
    kind: Literal["training"]
    date: Day
    hours: Hours
    base_id: Annotated[str, Field(min_length=1, max_length=64)]


class Manual(_Entry):
    kind: Literal["manual"]
    date: Day
    category: Literal["public", "professional"]
    hours: Hours
    basis: LongText


EntryCreate = Annotated[
    StudyTour
    | Teaching
    | ForeignLanguageExam
    | ComputerExamModule
    | DegreeEntry
    | Qualification
    | Training
    | Manual,
    Field(discriminator="kind"),
]


class EntryRead(BaseModel):
    id: str
    learner_id: str
    year: int
    occurred_on: date
    category: str
    hours: float
    kind: str
    source_kind: str
    source_ref: str
    source: dict[str, Any]
    clause: str
    policy_id: str
    status: EntryStatus
    status_reason: str | None
    meets: str | None
    valid_through: date | None
    recorded_by: str
    recorded_at: datetime
    review: dict[str, Any] | None


class ReviewCreate(_Strict):
    decision: Literal["approve", "reject"]
    reason: LongText


class Window(BaseModel):
    from_: int = Field(alias="from")
    to: int

    model_config = ConfigDict(populate_by_name=True)


class Amounts(BaseModel):
    total: float
    public: float


class Earned(BaseModel):
    total: float
    public: float
    professional: float


class YearHours(BaseModel):
    year: int
    public: float
    professional: float


class Applied(BaseModel):
    rule: str
    clause: str
    detail: str
    entry_id: str | None = None


class AuditRead(BaseModel):
    learner_id: str
    policy: str
    level: str
    year: int
    window: Window
    required: Amounts
    earned: Earned
    by_year: list[YearHours]
    passed: bool
    shortfall: Amounts
    applied: list[Applied]
    not_counted: list[dict[str, Any]]


class CourseProgress(BaseModel):
    code: str
    title: str
    category: str
    hours: float
    activity_id: str
    started_at: datetime
    last_at: datetime
    last_verb: str
    progress: float | None = Field(description="the last cmi5 progress (0-100) reported")
    score: dict[str, Any] | None = Field(description="the last result.score reported")


class CourseCompleted(CourseProgress):
    completed_at: datetime
    entry_id: str | None
    status: EntryStatus | None


class CourseCounts(BaseModel):
    started: int
    in_progress: int
    completed: int


class YearProgress(BaseModel):
    year: int
    clause: str
    required: Amounts
    earned: Earned
    remaining: Amounts
    # Whose yearly figures `required` are, and why those (a policy covering the year, or
    # the newest policy when none covers it yet).
    policy: str = ""
    basis: str = ""
    # Hours of the year recorded but awaiting a policy that covers the year: not earned.
    awaiting_policy: Earned = Earned(total=0, public=0, professional=0)


class PendingEntry(BaseModel):
    entry_id: str
    date: date
    kind: str
    title: str | None
    category: str
    hours: float
    reason: str | None


class ProgressRead(BaseModel):
    learner_id: str
    as_of: datetime
    courses: CourseCounts
    in_progress: list[CourseProgress]
    completed: list[CourseCompleted]
    this_year: YearProgress
    next_audit: AuditRead | None
    pending_review: list[PendingEntry]
