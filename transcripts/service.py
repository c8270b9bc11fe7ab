"""Issuing transcripts: read a learner's ledger, audit it when asked, certify the content
with a verification code, keep the record `GET /verify/{code}` answers from, render.

One learner (`issue`) and many (`issue_many`, for batch exports) take the same path; the
batch reads learners and ledgers in a few queries instead of two per learner.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

from credits import audit as audit_rules
from credits import conclusions, personal, trail
from credits import learners as credit_learners
from credits.context import Credits
from credits.models import AuditConclusion, AuditedEntry, Learner, LedgerEntry
from nxce.core import db, keys
from nxce.core.errors import NotFound, invalid
from transcripts import codes, content, left_out
from transcripts.formats import FORMATS, pdf
from transcripts.models import ExportRequest, IssuedTranscript

_ROW_FIELDS = (
    "entry_id",
    "year",
    "occurred_on",
    "category",
    "hours",
    "kind",
    "clause",
    "status",
    "status_reason",
    "meets",
    "valid_through",
    "source",
)
LONGEST_SPAN = 50  # years one transcript may cover


@dataclass(frozen=True, slots=True)
class Request:
    """What a transcript is asked for: years, and the audit of an application."""

    first: int | None = None
    last: int | None = None
    level: str | None = None
    year: int | None = None  # the application year audited; the newest policy's by default

    def check(self, location: str = "query") -> None:
        """422 naming the parameter when the years cannot make a range."""
        if self.first is not None and self.last is not None:
            if self.first > self.last:
                raise invalid(
                    "from", f"must not be after to ({self.last})", self.first, location=location
                )
            if self.last - self.first >= LONGEST_SPAN:
                raise invalid(
                    "to",
                    f"a transcript covers at most {LONGEST_SPAN} years (from {self.first})",
                    self.last,
                    location=location,
                )

    @classmethod
    def of_export(cls, asked: ExportRequest) -> Request:
        """The transcripts a batch export asked for."""
        return cls(first=asked.from_, last=asked.to, level=asked.level, year=asked.year)


@dataclass(frozen=True, slots=True)
class Issued:
    """A transcript issued: its content (code included) and the record kept of it."""

    content: content.Transcript
    record: IssuedTranscript


class Transcripts:
    """The transcript services of an app: the signer, who issues, how PDFs are set."""

    def __init__(self, *, keyring: keys.Keyring, issuer: str, pdf_font: Path | None) -> None:
        self.signer = codes.Signer(keyring)
        self.issuer = issuer
        if pdf_font is not None:  # a wrong setting stops the start, not every PDF later
            if not pdf_font.is_file():
                raise ValueError(f"NXCE_PDF_FONT: no font file at {pdf_font}")
            pdf.font_name(pdf_font)
        self._renderers: dict[str, Callable[[content.Transcript], bytes]] = {
            name: f.render for name, f in FORMATS.items()
        }
        self._renderers["pdf"] = functools.partial(pdf.pdf_bytes, font_path=pdf_font)
        # reportlab and openpyxl keep module-level state: one rendering at a time, in a
        # worker thread so the event loop keeps serving meanwhile.
        self._render_lock = threading.Lock()

    def render_now(self, name: str, body: content.Transcript) -> bytes:
        with self._render_lock:
            return self._renderers[name](body)

    async def render(self, name: str, body: content.Transcript) -> bytes:
        if name in ("json", "csv"):
            return self._renderers[name](body)
        return await asyncio.to_thread(self.render_now, name, body)


def _span(
    request: Request,
    rows: Sequence[dict[str, Any]],
    audit: content.CertifiedAudit | None,
    today: datetime,
) -> content.Span:
    """The years asked for; missing ends from the audit window, else the ledger's years."""
    if audit is not None:
        first, last = audit.window.from_, audit.window.to
    elif rows:
        years = [int(r["year"]) for r in rows]
        first, last = min(years), max(years)
    else:
        first = last = today.year
    first = request.first if request.first is not None else first
    last = request.last if request.last is not None else last
    if first > last:  # one end given, past the other's default
        first, last = (first, first) if request.first is not None else (last, last)
    return content.Span(first, last)


async def _rows(learner_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    projection = {name: 1 for name in (*_ROW_FIELDS, "learner_id")} | {"_id": 0}
    found: dict[str, list[dict[str, Any]]] = {i: [] for i in learner_ids}
    query = (
        {"learner_id": learner_ids[0]}
        if len(learner_ids) == 1
        else {"learner_id": {"$in": list(learner_ids)}}
    )
    async for row in db.collection(LedgerEntry).find(query, projection):
        found[row["learner_id"]].append(row)
    return found


def _application_year(credits: Credits, request: Request) -> int:
    policies = credits.policies
    return request.year if request.year is not None else policies.newest().application_year


async def _conclusions(
    credits: Credits, request: Request, learner_ids: Sequence[str]
) -> dict[str, AuditConclusion]:
    """The auditors' current conclusions on the audit asked for (one query for a batch)."""
    if request.level is None:
        return {}
    return await conclusions.current(
        learner_ids=learner_ids, level=request.level, year=_application_year(credits, request)
    )


def _audit(
    credits: Credits,
    learner: Learner,
    rows: list[dict[str, Any]],
    request: Request,
    conclusion: AuditConclusion | None,
) -> content.CertifiedAudit | None:
    """The verdict asked for: computed, with the auditor's current conclusion on it (and
    whether the record changed after it) when there is one."""
    if request.level is None:
        return None
    policy = credits.policies.for_application(_application_year(credits, request))
    level = policy.level(request.level)
    entries = [AuditedEntry.from_document(r) for r in rows]
    verdict = audit_rules.audit(
        learner=learner, entries=entries, policy=policy, level=request.level
    )
    verdict = conclusions.with_conclusion(verdict, conclusion, learner=learner, entries=entries)
    return content.CertifiedAudit.of(verdict, level.label)


def _certify(
    transcripts: Transcripts,
    credits: Credits,
    learner: Learner,
    rows: list[dict[str, Any]],
    request: Request,
    *,
    full_id_number: bool,
    issued_by: str,
    issued_at: datetime,
    base_url: str,
    format_: str,
    conclusion: AuditConclusion | None = None,
) -> Issued:
    audit = _audit(credits, learner, rows, request, conclusion)
    number = personal.shown_id_number(credits, learner, full=full_id_number)
    body = content.build(
        learner=learner,
        id_number=number,
        rows=rows,
        span=_span(request, rows, audit, issued_at),
        audit=audit,
        issuer=transcripts.issuer,
        issued_at=issued_at,
        not_counted=left_out.lines(audit, rows),
    )
    digest = codes.content_digest(body.to_json())
    summary = content.summary(body, learner.id_number_masked, format_).to_json()
    code = transcripts.signer.code(summary, digest)
    record = IssuedTranscript(
        code=code,
        learner_id=learner.learner_id,
        issued_at=issued_at,
        issued_by=issued_by,
        format=format_,
        content_sha256=digest,
        summary=summary,
    )
    return Issued(body.sealed(code, f"{base_url}/verify/{code}"), record)


async def keep(records: Sequence[IssuedTranscript]) -> None:
    """Store issue records. The same content issued twice in one second has the same
    code (it is a hash of the content): the record already kept says the same."""
    if not records:
        return
    documents = [db.new_document(r) for r in records]
    try:
        await db.collection(IssuedTranscript).insert_many(documents, ordered=False)
    except (BulkWriteError, DuplicateKeyError) as error:
        if isinstance(error, BulkWriteError):
            details = error.details
            others = [e for e in details.get("writeErrors", []) if e.get("code") != 11000]
            if others or details.get("writeConcernErrors"):
                raise


def _now() -> datetime:
    return db.now().replace(microsecond=0)


async def issue(
    *,
    transcripts: Transcripts,
    credits: Credits,
    learner_id: str,
    request: Request,
    full_id_number: bool,
    issued_by: str,
    base_url: str,
    format_: str,
) -> Issued:
    """One learner's transcript, certified; `keep` its record once it is rendered, so a
    transcript that failed to render was never issued."""
    request.check()
    learner = await credit_learners.get_learner(learner_id=learner_id)
    if full_id_number:  # PIPL: every full id number shown is in the audit trail
        await _record_views(issued_by, [learner])
    rows = (await _rows([learner_id]))[learner_id]
    concluded = await _conclusions(credits, request, [learner_id])
    issued = _certify(
        transcripts,
        credits,
        learner,
        rows,
        request,
        full_id_number=full_id_number,
        issued_by=issued_by,
        issued_at=_now(),
        base_url=base_url,
        format_=format_,
        conclusion=concluded.get(learner_id),
    )
    return issued


async def issue_many(
    *,
    transcripts: Transcripts,
    credits: Credits,
    learners: Sequence[Learner],
    request: Request,
    full_id_number: bool,
    issued_by: str,
    base_url: str,
    format_: str,
) -> list[Issued]:
    """Transcripts of several learners in one go (their ledgers read in one query); not
    kept yet (see `keep`)."""
    if full_id_number:  # PIPL: every full id number shown is in the audit trail
        await _record_views(issued_by, learners)
    learner_ids = [learner.learner_id for learner in learners]
    rows = await _rows(learner_ids)
    concluded = await _conclusions(credits, request, learner_ids)
    issued_at = _now()
    issued = [
        _certify(
            transcripts,
            credits,
            learner,
            rows[learner.learner_id],
            request,
            full_id_number=full_id_number,
            issued_by=issued_by,
            issued_at=issued_at,
            base_url=base_url,
            format_=format_,
            conclusion=concluded.get(learner.learner_id),
        )
        for learner in learners
    ]
    return issued


async def _record_views(by: str, learners: Sequence[Learner]) -> None:
    shown = [learner.learner_id for learner in learners if learner.erased_at is None]
    await trail.record_views(by=by, learner_ids=shown, where="transcript")


async def verify(*, transcripts: Transcripts, code: str) -> IssuedTranscript:
    """The record a code certifies; 404 when no transcript was issued with it, or when
    its record no longer matches the code (edited in the store)."""
    cleaned = codes.normalise(code)
    if cleaned is None:
        raise invalid(
            "code",
            f"must be {codes.LENGTH} letters A-Z and digits 2-7 (dashes and spaces allowed)",
            code,
            location="path",
        )
    record = await IssuedTranscript.find_one({"code": cleaned})
    if record is None:
        raise NotFound(f"no transcript was issued with the code {cleaned}", genuine=False)
    if not transcripts.signer.genuine(cleaned, record.summary, record.content_sha256):
        raise NotFound(
            f"the record of the code {cleaned} does not match it: it was altered",
            genuine=False,
        )
    return record


def matches(record: IssuedTranscript, body: dict[str, Any]) -> bool:
    """Whether a JSON transcript's content is exactly what was issued under its code (a
    body no transcript could hold, NaN for one, is not)."""
    try:
        return codes.content_digest(body) == record.content_sha256
    except ValueError:
        return False
