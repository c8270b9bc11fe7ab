"""API shapes of the knowledge-update programme (§二) and its certificates (§五(二))."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
)

from catalog.programme_models import ProgrammeKind
from catalog.programme_rules import (
    MAX_CAPACITY,
    MAX_PROJECT_HOURS,
    check_ends_on,
    check_industry,
    check_year,
)
from catalog.schemas import (
    YEAR_MAX,
    YEAR_MIN,
    Day,
    Reason,
    StrictYear,
    Title,
    _nfc_filled,
    _single_line,
    _Strict,
)
from nxce.core.params import QueryInt

# The learner ids the credit ledger gives (credits.schemas.LEARNER_ID), checked here as
# text only: whether the learner exists is asked of the ledger (`Programme.learners`).
LEARNER_ID = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$"
LearnerId = Annotated[str, Field(pattern=LEARNER_ID)]


def _project_hours(value: float) -> float:
    """§二 projects count their hours as professional hours (§一(一)), in half-hour steps
    like every hour of the ledger; at most MAX_PROJECT_HOURS (our reading)."""
    shown = f"{value:.15g}"
    if value <= 0:
        raise ValueError(f"must be greater than 0, got {shown}")
    if value > MAX_PROJECT_HOURS:
        raise ValueError(f"must be at most {MAX_PROJECT_HOURS:g} (a limit of ours), got {shown}")
    if not (value * 2).is_integer():
        raise ValueError(f"must be a multiple of 0.5, got {shown}")
    return float(value)


ProjectHours = Annotated[
    float, Field(strict=True, allow_inf_nan=False), AfterValidator(_project_hours)
]
Capacity = Annotated[int, Field(strict=True, ge=1, le=MAX_CAPACITY)]
ProjectField = Annotated[
    str,
    BeforeValidator(_nfc_filled),
    Field(max_length=40),
    AfterValidator(_single_line),
]
Industry = Annotated[str, BeforeValidator(_nfc_filled)]


class ProjectCreate(_Strict):
    """`POST /programme/projects`: a project of the year's plan, run by one base.

    The rules across fields are field validators reading the fields before them
    (`ValidationInfo.data`, as `credits.schemas` does), so a 422 names the field and its
    value (industry, ends_on, year), not the whole body; `year` comes after the dates for
    that, and is skipped when a field it reads failed on its own."""

    kind: ProgrammeKind
    title: Title
    base_id: Annotated[str, Field(min_length=1, max_length=64)]
    hours: ProjectHours
    starts_on: Day
    ends_on: Day
    year: StrictYear
    capacity: Capacity
    industry: Annotated[Industry | None, Field(validate_default=True)] = None
    field: ProjectField | None = None

    @field_validator("ends_on")
    @classmethod
    def _ends_after_start(cls, ends_on: date, info: ValidationInfo) -> date:
        if "starts_on" in info.data:
            check_ends_on(info.data["starts_on"], ends_on)
        return ends_on

    @field_validator("year")
    @classmethod
    def _year_of_start(cls, year: int, info: ValidationInfo) -> int:
        if "starts_on" in info.data:
            check_year(year, info.data["starts_on"])
        return year

    @field_validator("industry")
    @classmethod
    def _industry_of_kind(cls, industry: str | None, info: ValidationInfo) -> str | None:
        if "kind" in info.data:
            check_industry(info.data["kind"], industry)
        return industry


class BaseSummary(BaseModel):
    """The base that runs a project, as lists show it: commended bases are marked (§三:
    they get programme support)."""

    id: str
    name: str
    status: str
    commended: bool


class ProjectRead(BaseModel):
    id: str
    year: int
    kind: ProgrammeKind
    kind_name: str
    clause: str
    title: str
    base_id: str
    base: BaseSummary | None
    base_commended: bool
    hours: float
    starts_on: date
    ends_on: date
    capacity: int
    industry: str | None
    field: str | None
    enrolled: int
    completed: int
    available: int
    created_at: datetime
    updated_at: datetime


class ProjectFilter(_Strict):
    """Query of `GET /programme/projects`."""

    year: Annotated[QueryInt, Field(ge=YEAR_MIN, le=YEAR_MAX)] | None = None
    kind: ProgrammeKind | None = None
    base_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    industry: Annotated[str, Field(min_length=1, max_length=20)] | None = None


class EnrolmentCreate(_Strict):
    learner_id: LearnerId


class EnrolmentRead(BaseModel):
    project_id: str
    learner_id: str
    base_id: str
    enrolled_at: datetime


Score = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=100)]


class ResultCreate(_Strict):
    """`POST /programme/projects/{id}/results`: an assessment of an enrolled learner."""

    learner_id: LearnerId
    passed: Annotated[bool, Field(strict=True)]
    assessed_on: Day
    score: Score | None = None
    remarks: Reason | None = None


class CertificateRead(BaseModel):
    """§五(二): a completion certificate, with what it certifies."""

    certificate_no: str
    verification_code: str
    issued_at: datetime
    learner_id: str
    project_id: str
    project_title: str
    kind: str
    hours: float
    base_id: str
    base_name: str | None
    assessed_on: date


class ResultRead(BaseModel):
    result_id: str
    project_id: str
    learner_id: str
    base_id: str
    passed: bool
    assessed_on: date
    score: float | None
    remarks: str | None
    hours: float
    project_title: str
    kind: str
    recorded_at: datetime
    certificate_no: str | None


class ResultAnswer(BaseModel):
    """A recorded result; a pass carries its certificate, a fail none."""

    result: ResultRead
    certificate: CertificateRead | None = None


class PlanKind(BaseModel):
    kind: ProgrammeKind
    name: str
    clause: str
    planned_periods: int | None
    planned_people: int | None
    projects: int
    capacity: int
    enrolled: int
    completed: int


class PlanRead(BaseModel):
    """§二: a year's plan (policy data) beside its actuals (counted live)."""

    year: int
    document: str | None
    kinds: list[PlanKind]


class PlanQuery(_Strict):
    year: Annotated[QueryInt, Field(ge=YEAR_MIN, le=YEAR_MAX)]
    format: Literal["json", "csv", "xlsx"] = "json"


class CertificateVerified(BaseModel):
    """What `GET /verify/{code}` shows of a certificate: no id numbers, the name masked."""

    certificate_no: str
    learner: dict[str, str]
    project_title: str
    kind: str
    kind_name: str
    hours: float
    base_name: str
    assessed_on: date
    issued_at: datetime


class CertificateVerifyRead(BaseModel):
    genuine: bool
    kind: Literal["certificate"]
    code: str
    certificate: CertificateVerified
    status: Literal["valid", "withdrawn"]
    withdrawn_reason: str | None
    base_status: str | None = None
    base_status_since: date | None = None
