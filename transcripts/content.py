"""What a transcript says, as typed data every format renders the same way.

`build` is pure: a learner, their ledger rows, the years asked for and (optionally) the
audit in, the transcript's content out. Pending and reversed entries are listed with
their status and are not counted in any total (§一(二): only recognised hours count).

`to_json` of each shape is the wire form: the JSON format, the API's answer and the
verification code (`codes`) are taken over it, so its keys, their order and its values
(6 rather than 6.0) stay as they are for transcripts already issued to keep verifying.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from credits.labels import (
    CATEGORY_LABELS,
    DECISION_LABELS,
    DEGREE_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    TITLE_LEVEL_LABELS,
    programme_label,
    status_note,
)
from credits.models import Learner
from credits.schemas import Amounts, AuditRead, DocumentMissing, Earned, Window

if TYPE_CHECKING:
    from transcripts.left_out import NotCounted

TITLE = "专业技术人员继续教育学时证明"
VERSION = 1

JsonObject = dict[str, Any]


# --- the shapes -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """The years a transcript covers, both ends included."""

    first: int
    last: int

    def to_json(self) -> JsonObject:
        return {"from": self.first, "to": self.last}


@dataclass(frozen=True, slots=True)
class TranscriptLearner:
    """Who a transcript is of, with the id number in full or masked (see `service`)."""

    learner_id: str
    name: str
    id_number: str
    employer: str
    series: str | None
    title_level: str
    title_level_label: str
    degree: str
    degree_label: str

    def to_json(self) -> JsonObject:
        return {
            "id": self.learner_id,
            "name": self.name,
            "id_number": self.id_number,
            "employer": self.employer,
            "series": self.series,
            "title_level": self.title_level,
            "title_level_label": self.title_level_label,
            "degree": self.degree,
            "degree_label": self.degree_label,
        }


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry as the transcript lists it; `counted` ones make the totals."""

    entry_id: str
    date: str
    year: int
    kind: str
    kind_label: str
    course_code: str | None
    title: str
    evidence: str | None
    category: str
    category_label: str
    hours: float  # an int when whole, so JSON shows 6 rather than 6.0
    status: str
    status_label: str
    counted: bool
    status_reason: str | None
    status_note: str | None
    clause: str

    def to_json(self) -> JsonObject:
        return {
            "entry_id": self.entry_id,
            "date": self.date,
            "year": self.year,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "course_code": self.course_code,
            "title": self.title,
            "evidence": self.evidence,
            "category": self.category,
            "category_label": self.category_label,
            "hours": self.hours,
            "status": self.status,
            "status_label": self.status_label,
            "counted": self.counted,
            "status_reason": self.status_reason,
            "status_note": self.status_note,
            "clause": self.clause,
        }


@dataclass(frozen=True, slots=True)
class YearTotals:
    """Counted hours of one year, by category."""

    year: int
    public: float
    professional: float
    total: float

    def to_json(self) -> JsonObject:
        return {
            "year": self.year,
            "public": self.public,
            "professional": self.professional,
            "total": self.total,
        }


@dataclass(frozen=True, slots=True)
class Totals:
    """Counted hours by category over the span and by year; pending and reversed hours
    apart (not counted)."""

    public: float
    professional: float
    total: float
    pending_review: float
    reversed: float
    by_year: tuple[YearTotals, ...]
    # §一(三)2: exam passes replace public-course hours in an audit; they are not hours of
    # a year, so they stay out of the years and the sums (the audit says what it used).
    substitutions: float = 0.0

    def to_json(self) -> JsonObject:
        return self.counted_json() | {"by_year": [y.to_json() for y in self.by_year]}

    def counted_json(self) -> JsonObject:
        """The sums without the years: what the summary certifies (`substitutions` only
        when there are some, so transcripts without exam passes keep their content)."""
        sums: JsonObject = {
            "public": self.public,
            "professional": self.professional,
            "total": self.total,
            "pending_review": self.pending_review,
            "reversed": self.reversed,
        }
        if self.substitutions:
            sums["substitutions"] = self.substitutions
        return sums


# Fields the audit gained after transcripts were first certified (issue 13): left out of
# the content while at their defaults, so the same content keeps its verification code.
AUDIT_FIELDS_ADDED = ("substitutions", "degree_hours", "cannot_be_met")


class CertifiedAudit(AuditRead):
    """The audit verdict as the transcript certifies it: the audit without its learner,
    and the level's name."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    learner_id: str = Field(default="", exclude=True)  # the transcript names the learner
    # Missing evidence is the auditor's work list (the audit answer, the auditor's page),
    # not part of what a transcript certifies: its content, and so its digest, stay as
    # they were.
    documents_missing: list[DocumentMissing] = Field(default=[], exclude=True)
    level_label: str

    @model_serializer(mode="wrap")
    def _added_fields_at_defaults_left_out(
        self, handler: SerializerFunctionWrapHandler
    ) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in AUDIT_FIELDS_ADDED:
            default = type(self).model_fields[name].get_default(call_default_factory=True)
            if getattr(self, name) == default:
                data.pop(name, None)
        return data

    @classmethod
    def of(cls, audit: AuditRead, level_label: str) -> CertifiedAudit:
        return cls(**dict(audit), level_label=level_label)

    def to_json(self) -> JsonObject:
        """The audit as the transcript certifies it. A computed verdict leaves out the
        conclusion's keys, so its JSON (and digest) is what it was before conclusions
        existed."""
        concluded = self.conclusion is not None
        dropped = set() if concluded else {"conclusion", "changed_since_conclusion"}
        return self.model_dump(mode="json", by_alias=True, exclude=dropped)


@dataclass(frozen=True, slots=True)
class Transcript:
    """A transcript's content; its verification code and link once certified."""

    document: str
    version: int
    issuer: str
    issued_at: str  # UTC, to the second: 2025-03-01T08:30:05Z
    learner: TranscriptLearner
    span: Span
    entries: tuple[Entry, ...]
    totals: Totals
    audit: CertifiedAudit | None
    verification_code: str | None = None
    verify_url: str | None = None
    # The audit's `not_counted` joined with the ledger (the formats' section of its own);
    # the wire form carries them in `audit.not_counted`, so `to_json` leaves them out.
    not_counted: tuple[NotCounted, ...] = ()

    def sealed(self, code: str, url: str) -> Transcript:
        """The transcript with its verification code and the link to check it."""
        return replace(self, verification_code=code, verify_url=url)

    def to_json(self) -> JsonObject:
        data: JsonObject = {
            "document": self.document,
            "version": self.version,
            "issuer": self.issuer,
            "issued_at": self.issued_at,
            "learner": self.learner.to_json(),
            "range": self.span.to_json(),
            "entries": [line.to_json() for line in self.entries],
            "totals": self.totals.to_json(),
            "audit": None if self.audit is None else self.audit.to_json(),
        }
        if self.verification_code is not None:
            data["verification_code"] = self.verification_code
        if self.verify_url is not None:
            data["verify_url"] = self.verify_url
        return data


@dataclass(frozen=True, slots=True)
class Verdict:
    """The audit's outcome as the summary shows it."""

    level: str
    level_label: str
    year: int
    window: Window
    passed: bool
    required: Amounts
    earned: Earned
    shortfall: Amounts
    conclusion: JsonObject | None = None  # the auditor's, when the verdict is concluded

    @classmethod
    def of(cls, audit: CertifiedAudit) -> Verdict:
        return cls(
            level=audit.level,
            level_label=audit.level_label,
            year=audit.year,
            window=audit.window,
            passed=audit.passed,
            required=audit.required,
            earned=audit.earned,
            shortfall=audit.shortfall,
            conclusion=_concluded(audit),
        )

    def to_json(self) -> JsonObject:
        return {
            "level": self.level,
            "level_label": self.level_label,
            "year": self.year,
            "window": self.window.model_dump(mode="json", by_alias=True),
            "passed": self.passed,
            "required": self.required.model_dump(mode="json"),
            "earned": self.earned.model_dump(mode="json"),
            "shortfall": self.shortfall.model_dump(mode="json"),
        } | self._concluded_json()

    def _concluded_json(self) -> JsonObject:
        """An auditor's conclusion, when there is one. A computed verdict has no such
        keys: its summary is as before conclusions existed (no key reads "computed")."""
        if self.conclusion is None:
            return {}
        return {"basis": "concluded", "conclusion": self.conclusion}


def _concluded(audit: CertifiedAudit) -> JsonObject | None:
    """What the summary certifies of the auditor's conclusion (the reason is on the
    transcript itself)."""
    found = audit.conclusion
    if found is None:
        return None
    return {
        "decision": found.decision,
        "decision_label": DECISION_LABELS[found.decision],
        "by": found.by,
        "by_name": found.by_name,
        "at": found.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "changed_since": audit.changed_since_conclusion,
    }


@dataclass(frozen=True, slots=True)
class Summary:
    """What `GET /verify/{code}` shows anyone: enough to compare a printed transcript
    against, with the id number masked whoever the transcript was issued to (and not the
    learner's account name, which can be an e-mail address)."""

    document: str
    format: str
    issuer: str
    issued_at: str
    name: str
    masked_id_number: str
    employer: str
    span: Span
    entries: int
    totals: Totals
    verdict: Verdict | None

    def to_json(self) -> JsonObject:
        return {
            "document": self.document,
            "format": self.format,
            "issuer": self.issuer,
            "issued_at": self.issued_at,
            "learner": {
                "name": self.name,
                "id_number": self.masked_id_number,
                "employer": self.employer,
            },
            "range": self.span.to_json(),
            "entries": self.entries,
            "totals": self.totals.counted_json(),
            "verdict": None if self.verdict is None else self.verdict.to_json(),
        }


# --- building them ----------------------------------------------------------------------


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _hours(value: float) -> float:
    """Hours as JSON shows them: 6 rather than 6.0, 1.5 as it is."""
    return int(value) if float(value).is_integer() else float(value)


def _imported_from(source: dict[str, Any]) -> tuple[str | None, str | None]:
    """§一(一): where imported public hours come from — the source (来源未注明 for public
    hours typed before record imports existed) and the platform's record number."""
    named = source.get("source")
    origin = "来源未注明" if named in (None, "unspecified") else f"来源：{named}"
    reference = source.get("reference")
    return origin, f"记录号：{reference}" if reference else None


def kind_label(row: dict[str, Any]) -> str:
    """The Chinese of a ledger row's kind: a programme entry (§二) names its part."""
    if row["kind"] == "programme":
        return programme_label((row.get("source") or {}).get("programme_kind"))
    return str(KIND_LABELS.get(row["kind"], row["kind"]))


def _programme_subject(source: dict[str, Any]) -> str:
    """§二, §五(二): the project, the base that ran it and the certificate it issued."""
    label = programme_label(source.get("programme_kind"))
    details = "，".join(
        part
        for part in (
            str(source["base_name"]) if source.get("base_name") else None,
            f"证书编号：{source['certificate_no']}" if source.get("certificate_no") else None,
        )
        if part
    )
    title = f"{label}：{source.get('project_title', '')}"
    return f"{title}（{details}）" if details else title


def _subject(row: dict[str, Any]) -> tuple[str | None, str, str | None]:
    """(course code, what was done, evidence) of a ledger row."""
    source = row.get("source") or {}
    if row["kind"] == "completion":
        return source.get("course_code"), str(source.get("course_title", "")), None
    if row["kind"] == "programme":
        return None, _programme_subject(source), None
    label = KIND_LABELS.get(row["kind"], row["kind"])
    described = next(
        (source[k] for k in ("description", "basis", "name", "base_name") if source.get(k)), None
    )
    if row["kind"] == "record_import":
        described = "，".join(str(part) for part in (described, *_imported_from(source)) if part)
    title = f"{label}：{described}" if described else label
    evidence = source.get("evidence")
    return None, title, str(evidence) if evidence else None


# §一(三)2: exam passes stand in for public-course hours in an audit, which decides how many
# it uses (its `substitutions` line); the transcript lists them apart from the hours.
SUBSTITUTION_KINDS = frozenset({"foreign_language_exam", "computer_exam_module"})
SUBSTITUTED_LABEL = "代替公需课（以审验结果为准）"


def entry_line(row: dict[str, Any]) -> Entry:
    """One ledger row as the transcript lists it."""
    code, title, evidence = _subject(row)
    status = str(row["status"])
    return Entry(
        entry_id=row["entry_id"],
        date=_day(row["occurred_on"]),
        year=int(row["year"]),
        kind=row["kind"],
        kind_label=kind_label(row),
        course_code=code,
        title=title,
        evidence=evidence,
        category=row["category"],
        category_label=CATEGORY_LABELS.get(row["category"], row["category"]),
        hours=_hours(row["hours"]),
        status=status,
        status_label=(
            SUBSTITUTED_LABEL
            if status == "counted" and row["kind"] in SUBSTITUTION_KINDS
            else STATUS_LABELS.get(status, status)
        ),
        counted=status == "counted",
        status_reason=row.get("status_reason"),
        status_note=status_note(row.get("status_reason")),
        clause=row["clause"],
    )


def totals(lines: Sequence[Entry], span: Span) -> Totals:
    """Counted hours by year and category; pending and reversed hours apart."""
    years: dict[int, dict[str, float]] = {
        year: {"public": 0.0, "professional": 0.0} for year in range(span.first, span.last + 1)
    }
    left_out = {"pending_review": 0.0, "reversed": 0.0}
    substituted = 0.0
    for line in lines:
        if not line.counted:
            left_out[line.status] = left_out.get(line.status, 0.0) + line.hours
            continue
        if line.kind in SUBSTITUTION_KINDS:
            substituted += line.hours
            continue
        years[line.year][line.category] += line.hours
    by_year = tuple(
        YearTotals(
            year=year,
            public=_hours(y["public"]),
            professional=_hours(y["professional"]),
            total=_hours(y["public"] + y["professional"]),
        )
        for year, y in years.items()
    )
    public = sum(y["public"] for y in years.values())
    professional = sum(y["professional"] for y in years.values())
    return Totals(
        public=_hours(public),
        professional=_hours(professional),
        total=_hours(public + professional),
        pending_review=_hours(left_out["pending_review"]),
        reversed=_hours(left_out["reversed"]),
        by_year=by_year,
        substitutions=_hours(substituted),
    )


def learner_block(learner: Learner, id_number: str) -> TranscriptLearner:
    return TranscriptLearner(
        learner_id=learner.learner_id,
        name=learner.name,
        id_number=id_number,
        employer=learner.employer,
        series=learner.series,
        title_level=learner.title_level.value,
        title_level_label=TITLE_LEVEL_LABELS.get(learner.title_level.value, ""),
        degree=learner.degree.value,
        degree_label=DEGREE_LABELS.get(learner.degree.value, ""),
    )


def build(
    *,
    learner: Learner,
    id_number: str,
    rows: Sequence[dict[str, Any]],
    span: Span,
    audit: CertifiedAudit | None,
    issuer: str,
    issued_at: datetime,
    not_counted: tuple[NotCounted, ...] = (),
) -> Transcript:
    """The transcript's content, without its verification code (see `codes`);
    `not_counted` the audit's not-counted entries as `transcripts.left_out` lists them."""
    chosen = sorted(
        (r for r in rows if span.first <= int(r["year"]) <= span.last),
        key=lambda r: (_day(r["occurred_on"]), r["entry_id"]),
    )
    lines = tuple(entry_line(r) for r in chosen)
    return Transcript(
        document=TITLE,
        version=VERSION,
        issuer=issuer,
        issued_at=issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        learner=learner_block(learner, id_number),
        span=span,
        entries=lines,
        totals=totals(lines, span),
        audit=audit,
        not_counted=not_counted,
    )


def summary(content: Transcript, masked_id_number: str, format_: str) -> Summary:
    """The summary a transcript's code certifies (see `Summary`)."""
    return Summary(
        document=content.document,
        format=format_,
        issuer=content.issuer,
        issued_at=content.issued_at,
        name=content.learner.name,
        masked_id_number=masked_id_number,
        employer=content.learner.employer,
        span=content.span,
        entries=len(content.entries),
        totals=content.totals,
        verdict=None if content.audit is None else Verdict.of(content.audit),
    )
