"""API shapes of learners, ledger entries, reviews and the audit."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from credits import phones
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


def _phone(value: object) -> object:
    """A mobile number (credits/phones.py), spaces and hyphens dropped; else a 422 naming
    the value (its middle hidden when it is mostly a number)."""
    if isinstance(value, str):
        number = phones.normalized(value)
        if phones.problem(number) is not None:
            raise ValueError(f"{phones.PROBLEM}, got {phones.shown_in_error(number)!r}")
        return number
    return value


def _not_null(value: object) -> object:
    """Only the optional contact fields (e-mail, phone) are cleared with null; id numbers, names,
    titles, dates and the series are what the audit reads, so null is refused for them."""
    if value is None:
        raise ValueError("must not be null (null clears only email and phone)")
    return value


Text = Annotated[str, BeforeValidator(_text), Field(max_length=100)]
LongText = Annotated[str, BeforeValidator(_text), Field(max_length=1000)]
Day = Annotated[date, BeforeValidator(_iso_day)]

# Our input limit, not a rule of the notice: a title is not obtained after today (China
# Standard Time, the policy's time zone), as a manual entry is not dated in the future.
CHINA = ZoneInfo("Asia/Shanghai")


def _not_future(value: date) -> date:
    today = datetime.now(CHINA).date()
    if value > today:
        raise ValueError(
            f"must not be in the future (today is {today} in China Standard Time), "
            f"got {value.isoformat()!r}"
        )
    return value


PastDay = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_not_future)]
Hours = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_half_steps)]
Count = Annotated[int, Field(strict=True, ge=1)]
NotNull = BeforeValidator(_not_null)
IdNumber = Annotated[str, Field(min_length=18, max_length=18)]
# null clears the e-mail address (GET answers "email": null when there is none).
Email = Annotated[str, AfterValidator(_email), Field(max_length=200)] | None
# null clears the phone number too (a contact field; GET answers "phone": null without one).
Phone = Annotated[str, Field(max_length=40), BeforeValidator(_phone)] | None


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
    title_obtained_on: PastDay | None = None
    degree: Degree
    email: Email = None
    phone: Phone = None


class LearnerCreate(LearnerFields):
    id: Annotated[str, Field(pattern=LEARNER_ID)]


class LearnerUpdate(_Strict):
    """The fields to change; an absent one is kept. null clears the e-mail address or the
    phone number and is a 422 naming the field for every other one.

    A new `title_level` or `title_obtained_on` adds a record to the learner's title
    history (`titles`); the same values change nothing; a date before the last record's,
    or a lower title, is a 422 naming the field (a history does not go backwards), and
    another level on the last record's date corrects that record."""

    name: Annotated[Text | None, NotNull] = None
    id_number: Annotated[IdNumber | None, NotNull] = None
    employer: Annotated[Text | None, NotNull] = None
    series: Annotated[str | None, NotNull] = None
    title_level: Annotated[TitleLevel | None, NotNull] = None
    title_obtained_on: Annotated[PastDay | None, NotNull] = None
    degree: Annotated[Degree | None, NotNull] = None
    email: Email = None
    phone: Phone = None


class TitleCorrection(_Strict):
    """A wrong record of a learner's title history corrected (an admin): its level and
    date (null: not recorded) replaced, why, and optionally the learner's revision the
    correction was made at (a 409 if the learner changed since)."""

    level: TitleLevel
    obtained_on: PastDay | None
    reason: Annotated[str, BeforeValidator(_text), Field(max_length=200)]
    revision: Annotated[int, Field(strict=True, ge=1)] | None = None


class Actor(BaseModel):
    objectType: Literal["Agent"] = "Agent"
    name: str
    account: dict[str, str]


class LearnerRead(BaseModel):
    id: str
    name: str
    revision: int = Field(description="Changes with every write of the learner.")
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
    phone: str | None = Field(
        None, description="Full for auditors, masked (138****5678) otherwise; null: none."
    )
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
#
# Input limits of this service, not of the notice (which sets none per entry): each entry
# records one tour, one teaching assignment, one exam certificate, one training class or
# one platform record, and numbers far beyond what such a thing holds are typing errors.
MAX_DAYS = 366  # a tour of more than a year is no tour
MAX_HOURS_TAUGHT = 1000.0  # 4 hours on each of 250 working days
MAX_MODULES = 50  # far beyond the modules one certificate lists
MAX_HOURS = 1000.0  # 8 hours on each of 125 days: a long class, a year's platform record
MAX_CERTIFIED_HOURS = 5000.0  # more than ten windows' requirement


def _at_most(limit: float, unit: str) -> AfterValidator:
    def check(value: float) -> float:
        if value > limit:
            raise ValueError(
                f"at most {limit:g} {unit} per entry: a limit of this service, not of the notice"
            )
        return value

    return AfterValidator(check)


def same_module(name: str) -> str:
    """A module name as compared for distinctness, within an entry and by the audit across
    entries: spaces collapsed, case folded."""
    return " ".join(name.split()).casefold()


Days = Annotated[Count, _at_most(MAX_DAYS, "days")]
EntryHours = Annotated[Hours, _at_most(MAX_HOURS, "hours")]
ModuleCount = Annotated[Count, _at_most(MAX_MODULES, "modules")]


class _Entry(_Strict):
    description: LongText | None = None
    evidence: LongText | None = None


class StudyTour(_Entry):
    kind: Literal["study_tour"]
    date: Day
    days: Days


class Teaching(_Entry):
    kind: Literal["teaching"]
    date: Day
    hours_taught: Annotated[Hours, _at_most(MAX_HOURS_TAUGHT, "hours taught")]


class ForeignLanguageExam(_Entry):
    kind: Literal["foreign_language_exam"]
    date: Day


class ComputerExamModule(_Entry):
    """The modules passed: their number, their names (distinct), or both when they agree."""

    kind: Literal["computer_exam_module"]
    date: Day
    modules: ModuleCount | None = None
    module_names: Annotated[
        list[Text] | None, Field(min_length=1, max_length=MAX_MODULES, validate_default=True)
    ] = None

    @field_validator("module_names")
    @classmethod
    def _names_and_count(cls, names: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if "modules" not in info.data:
            return names  # modules itself was refused
        modules = info.data["modules"]
        if names is None:
            if modules is None:
                raise ValueError("required unless modules (their number) is given")
            return names
        seen: set[str] = set()
        for name in names:
            if same_module(name) in seen:
                raise ValueError(f"must be distinct within an entry: {name!r} is given twice")
            seen.add(same_module(name))
        if modules is not None and modules != len(names):
            raise ValueError(f"{len(names)} names, but modules is {modules}")
        return names


class DegreeEntry(_Entry):
    """A higher or second degree; `graduated_on` may be the expected graduation date."""

    kind: Literal["degree"]
    enrolled_on: Day
    graduated_on: Day
    certified_hours: Annotated[Hours, _at_most(MAX_CERTIFIED_HOURS, "certified hours")] | None = (
        None
    )


class Qualification(_Entry):
    kind: Literal["qualification"]
    date: Day
    name: Text


class Training(_Entry):
    kind: Literal["training"]
    date: Day
    hours: EntryHours
    base_id: Annotated[str, Field(min_length=1, max_length=64)]


class RecordImport(_Entry):
    """§一(一): public hours copied from the provincial platform's records; `source`
    defaults to the platform of the policy, `reference` is its record number."""

    kind: Literal["record_import"]
    date: Day
    hours: EntryHours
    source: Text | None = None
    reference: Text | None = None


class Manual(_Entry):
    kind: Literal["manual"]
    date: Day
    category: Literal["public", "professional"]
    hours: EntryHours
    basis: LongText


EntryCreate = Annotated[
    StudyTour
    | Teaching
    | ForeignLanguageExam
    | ComputerExamModule
    | DegreeEntry
    | Qualification
    | Training
    | RecordImport
    | Manual,
    Field(discriminator="kind"),
]


class DocumentRead(BaseModel):
    """An evidence document of a manual entry (its content at `href`)."""

    id: str
    learner_id: str
    entry_id: str
    filename: str
    media_type: str
    size: int = Field(description="bytes")
    sha256: str
    uploaded_by: str = Field(description="the key of the client that attached it")
    uploaded_at: datetime
    href: str


class DocumentMissing(BaseModel):
    entry_id: str
    kind: str
    document: str = Field(description="the document the entry's clause asks for (学历证明…)")


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
    documents: list[DocumentRead] = []
    document_missing: str | None = Field(
        None, description="the document the entry's clause asks for, while none is attached"
    )


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


class SeenVerdict(BaseModel):
    """What the audit answered when a conclusion was recorded."""

    passed: bool
    shortfall: Amounts


class ConclusionBrief(BaseModel):
    """The current auditor's conclusion (审验结论) on an audit, as the audit shows it."""

    id: str
    decision: Literal["approve", "reject"]
    reason: str
    by: str = Field(description="the key of the client that concluded")
    by_name: str = Field(description="that client's name")
    at: datetime
    verdict: SeenVerdict


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
    documents_missing: list[DocumentMissing] = Field(
        default=[],
        description="entries the audit relies on whose clause asks for a document none of "
        "them has (the verdict does not depend on it: the auditor judges)",
    )
    conclusion: ConclusionBrief | None = Field(
        None, description="the auditor's current conclusion on this level and year, if any"
    )
    changed_since_conclusion: bool = Field(
        False, description="the entries or the title audited changed after the conclusion"
    )


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


class ConclusionCreate(_Strict):
    """An auditor's conclusion on a learner's audit: `reason` is required."""

    level: Literal["intermediate", "deputy_senior", "senior"]
    year: Annotated[int, Field(strict=True, ge=2000, le=2100)]
    decision: Literal["approve", "reject"]
    reason: LongText


class ConclusionsQuery(_Strict):
    level: Literal["intermediate", "deputy_senior", "senior"] | None = None
    year: QueryInt | None = Field(None, ge=2000, le=2100)


class ConclusionRead(BaseModel):
    id: str
    learner_id: str
    level: str
    year: int
    decision: Literal["approve", "reject"]
    reason: str
    by: str = Field(description="the key of the client that concluded")
    by_name: str
    at: datetime
    current: bool = Field(description="the newest conclusion of its level and year")
    fingerprint: str = Field(description="sha256 of what the verdict seen was computed from")
    verdict: dict[str, Any] = Field(description="the audit answer the auditor saw")
