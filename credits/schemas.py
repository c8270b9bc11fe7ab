"""API shapes of learners, ledger entries, reviews and the audit."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from credits.models import Degree, EntryStatus, EventKind, TitleLevel, TitleRecord
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
    a 422 naming the field for every other one.

    A new `title_level` or `title_obtained_on` adds a record to the learner's title
    history (`titles`); the same values change nothing; a date before the last record's,
    or a lower title, is a 422 naming the field (a history does not go backwards), and
    another level on the last record's date corrects that record."""

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
    titles: list[TitleRecord] = Field(
        default_factory=list,
        description="Every title obtained, oldest first (the last is title_level / "
        "title_obtained_on); the tenure of each (§一(三)3) runs to the next one's date.",
    )
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


class SubstitutionUse(BaseModel):
    entry_id: str
    kind: str
    hours: float = Field(description="the public hours this entry replaces in this audit")


class Substitutions(BaseModel):
    """§一(三)2 exam substitutions of this audit: not hours of a year (not in `by_year`),
    counted in `earned.public`. `available` is what the distinct passes are worth (one
    foreign-language exam, each distinct computer module); `limit` what public courses
    left of the public requirement; `hours` the smaller; the rest is `not_used`, each
    entry of it in `not_counted` with the reason."""

    hours: float = 0.0
    available: float = 0.0
    limit: float = 0.0
    not_used: float = 0.0
    entries: list[SubstitutionUse] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


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
    earned: Earned = Field(
        description="by_year's sums, plus substitutions.hours (public) and degree_hours "
        "(professional)"
    )
    substitutions: Substitutions = Field(default_factory=Substitutions)
    degree_hours: float = Field(
        0.0,
        description="§一(三)1: the certified hours of a degree crossing the window, counted "
        "as professional hours of the window (not of a year)",
    )
    by_year: list[YearHours]
    passed: bool
    cannot_be_met: str | None = Field(
        None,
        description="Why no hours can pass this audit (a master's holder with no year in "
        "post within the window, our reading of §一(二)); `passed` is then false, "
        "`window` and `required` are the level's, and every entry of the window is in "
        "`not_counted`, each item of which is "
        '{"entry_id", "kind", "occurred_on", "hours", "category", "reason"}.',
    )
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
