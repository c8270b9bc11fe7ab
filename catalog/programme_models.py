"""Beanie documents of the knowledge-update programme (专业技术人才知识更新工程, §二):
projects run by continuing-education bases, their rosters, and the assessment results
with the certificates bases issue from them (§五(二)); each with the indexes its queries use.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel


class ProgrammeKind(StrEnum):
    """The four parts of §二 (their plan figures: catalog/policies/programme-2022.toml)."""

    advanced_seminar = "advanced_seminar"  # §二(一) 高级研修项目
    urgent_skills = "urgent_skills"  # §二(二) 急需紧缺和岗位骨干人才培训
    key_industry = "key_industry"  # §二(三) 九大重点产业
    tcm_grassroots = "tcm_grassroots"  # §二(四) 基层中医药卫生专业技术人员能力提升


class ProgrammeProject(Document):
    """A project (a seminar, a training class) of the programme, run by one base.

    `enrolled` is the live roster size and `completed` the passes: counters kept by the
    conditional updates that change the roster, so the plan reads them without counting.
    """

    year: int
    kind: ProgrammeKind
    title: str
    base_id: str
    hours: float
    starts_on: date
    ends_on: date
    capacity: int
    industry: str | None = None
    field: str | None = None
    enrolled: int = 0
    completed: int = 0
    revision: int = 1
    created_at: datetime
    updated_at: datetime
    created_by: str

    class Settings:
        name = "programme_projects"
        indexes = [
            # programme.list_projects: by year, then kind/base/industry; plan(year) by year.
            IndexModel(
                [("year", ASCENDING), ("kind", ASCENDING), ("starts_on", ASCENDING)],
                name="year_kind_starts",
            ),
            # base principals list their own projects; a base's page lists them.
            IndexModel([("base_id", ASCENDING), ("year", ASCENDING)], name="base_year"),
        ]


class ProgrammeEnrolment(Document):
    """A learner on a project's roster; one per (project, learner)."""

    project_id: str
    learner_id: str
    base_id: str
    enrolled_at: datetime
    enrolled_by: str

    class Settings:
        name = "programme_enrolments"
        indexes = [
            # programme.enrol: the unique key that refuses a second enrolment (409);
            # programme.roster: a project's roster in order of the key's prefix.
            IndexModel(
                [("project_id", ASCENDING), ("learner_id", ASCENDING)],
                unique=True,
                name="project_learner_unique",
            ),
            # a learner's projects (the learner's record).
            IndexModel([("learner_id", ASCENDING)], name="learner"),
        ]


class Certificate(BaseModel):
    """§五(二): the completion certificate a base issues from a passed assessment."""

    certificate_no: str
    verification_code: str
    issued_at: datetime


class ProgrammeResult(Document):
    """An assessment result of an enrolled learner, with what the project was when it was
    recorded (title, kind, hours, start), and the certificate of a pass."""

    result_id: str
    project_id: str
    learner_id: str
    base_id: str
    passed: bool
    assessed_on: date
    score: float | None = None
    remarks: str | None = None
    hours: float
    project_title: str
    kind: str
    starts_on: date
    recorded_at: datetime
    recorded_by: str
    certificate: Certificate | None = None

    class Settings:
        name = "programme_results"
        indexes = [
            IndexModel([("result_id", ASCENDING)], unique=True, name="result_unique"),
            # programme.record_result: one result per enrolment (a second is 409).
            IndexModel(
                [("project_id", ASCENDING), ("learner_id", ASCENDING)],
                unique=True,
                name="project_learner_unique",
            ),
            # certificates_of / the credit ledger: a learner's results.
            IndexModel([("learner_id", ASCENDING)], name="learner"),
            # the learners trained at a base (a base decision recomputes them, §三).
            IndexModel([("base_id", ASCENDING)], name="base"),
            # GET /verify/{code}: a certificate by its code. Sparse: fails have none.
            IndexModel(
                [("certificate.verification_code", ASCENDING)],
                unique=True,
                sparse=True,
                name="certificate_code_unique",
            ),
            IndexModel(
                [("certificate.certificate_no", ASCENDING)],
                unique=True,
                sparse=True,
                name="certificate_no_unique",
            ),
        ]


class ProgrammeCounter(Document):
    """Certificate sequences: `_id` names the series (`NX-2022-KI`), `value` the last
    number handed out (one atomic `$inc` each, right across replicas)."""

    id: str  # type: ignore[assignment]
    value: int = 0

    class Settings:
        name = "programme_counters"


DOCUMENTS: tuple[type[Document], ...] = (
    ProgrammeProject,
    ProgrammeEnrolment,
    ProgrammeResult,
    ProgrammeCounter,
)
