"""HTTP routes of learners, their credit ledger and the title audit.

Who may do what (§ "Roles" of the credits issue): admins write; auditors read every record
(national id numbers in full) and decide on pending entries; a learner-bound client (the
app acting as the learner) reads its own learner's record, with the id number masked.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from credits import audit as audit_rules
from credits import conclusions, evidence, learners, ledger, personal, progress, trail
from credits.access import check_auditor, check_read, sees_full_id_numbers
from credits.context import Credits
from credits.evidence_api import document_read
from credits.models import Learner, LedgerEntry
from credits.routes import learners_router
from credits.schemas import (
    Actor,
    AuditEventRead,
    AuditEventsQuery,
    AuditRead,
    EntryCreate,
    EntryRead,
    ErasureCreate,
    LearnerCreate,
    LearnerRead,
    LearnerUpdate,
    ProgressRead,
    ReviewCreate,
    TitleCorrection,
)
from nxce.core.auth import ADMIN, Admin, Principal, authenticate
from nxce.core.clients import Scope
from nxce.core.errors import Forbidden
from nxce.core.json_route import JsonRoute
from nxce.core.params import QueryInt, no_query, single_valued
from nxce.core.problems import responses

router = learners_router()


def _credits(request: Request) -> Credits:
    credits: Credits = request.app.state.credits
    return credits


CreditsDep = Annotated[Credits, Depends(_credits)]


async def _principal(request: Request) -> Principal:
    return await authenticate(request)


Caller = Annotated[Principal, Depends(_principal)]


async def _learner_read(
    learner: Learner, credits: Credits, principal: Principal, where: str
) -> LearnerRead:
    number = await personal.id_number_for(
        credits=credits, learner=learner, principal=principal, where=where
    )
    return LearnerRead(
        id=learner.learner_id,
        name=learner.name,
        revision=learner.revision,
        id_number=number,
        employer=learner.employer,
        series=learner.series,
        title_level=learner.title_level,
        title_obtained_on=learner.title_obtained_on,
        titles=learner.titles,
        degree=learner.degree,
        email=learner.email,
        # in full with the full id number (auditors; that view is in the trail), else masked
        phone=personal.shown_phone(credits, learner, full=sees_full_id_numbers(principal)),
        actor=Actor(
            name=learner.name, account={"homePage": credits.home_page, "name": learner.learner_id}
        ),
        created_at=learner.created_at,
        updated_at=learner.updated_at,
        erased_at=learner.erased_at,
    )


def _entry_read(
    entry: LedgerEntry,
    credits: Credits,
    documents: list[evidence.EvidenceDocument] | None = None,
) -> EntryRead:
    """The entry with its evidence documents (`documents`: those of its learner's entries
    read once) and the document its clause asks for while it has none."""
    documents = documents or []
    return EntryRead(
        id=entry.entry_id,
        **entry.model_dump(exclude={"id", "entry_id", "revision_id"}),
        documents=[document_read(d) for d in documents],
        document_missing=evidence.entry_missing(credits.policies, entry, bool(documents)),
    )


async def _entries_read(entries: list[LedgerEntry], credits: Credits) -> list[EntryRead]:
    if not entries:
        return []
    attached = await evidence.of_learner(learner_id=entries[0].learner_id)
    return [_entry_read(e, credits, attached.get(e.entry_id)) for e in entries]


@router.post(
    "",
    response_model=LearnerRead,
    status_code=201,
    dependencies=[ADMIN],
    responses=responses(400, 409, 413, 415, 429),
)
async def create_learner(
    learner_in: LearnerCreate, admin: Admin, credits: CreditsDep, response: Response
) -> LearnerRead:
    """Register a learner (admin); statements already stored for them are credited. A 409
    for another learner's id number is recorded in the audit trail; past a few a minute
    the client's registrations wait (429 with Retry-After)."""
    learner = await learners.create_learner(credits=credits, learner_in=learner_in, by=admin.key)
    response.headers["Location"] = f"/learners/{learner.learner_id}"
    return await _learner_read(learner, credits, admin, "POST /learners")


@router.get("/{learner_id}", response_model=LearnerRead, dependencies=[Depends(no_query)])
async def get_learner(learner_id: str, caller: Caller, credits: CreditsDep) -> LearnerRead:
    """A learner, with their xAPI actor; the id number in full for auditors only (each
    such view is recorded in the audit trail)."""
    check_read(caller, learner_id)
    learner = await learners.get_learner(learner_id=learner_id)
    return await _learner_read(learner, credits, caller, "GET /learners/{id}")


@router.patch(
    "/{learner_id}",
    response_model=LearnerRead,
    dependencies=[ADMIN],
    responses=responses(400, 409, 413, 415, 429),
)
async def update_learner(
    learner_id: str, patch: LearnerUpdate, admin: Admin, credits: CreditsDep
) -> LearnerRead:
    """Change a learner (admin); their ledger is recomputed (series and title matter).
    `"email": null` clears the e-mail address and `"phone": null` the phone number; null is
    a 422 for every other field. A phone number another learner has is a 409 (in the audit
    trail, throttled as id numbers are)."""
    learner = await learners.update_learner(
        credits=credits, learner_id=learner_id, patch=patch, by=admin.key
    )
    return await _learner_read(learner, credits, admin, "PATCH /learners/{id}")


@router.post(
    "/{learner_id}/titles/{entry}/correction",
    response_model=LearnerRead,
    dependencies=[ADMIN],
    responses=responses(400, 409, 413, 415),
)
async def correct_title(
    learner_id: str,
    entry: Annotated[int, Path(ge=1, le=100)],
    correction: TitleCorrection,
    admin: Admin,
    credits: CreditsDep,
) -> LearnerRead:
    """Correct a wrong record of the learner's title history (admin): record `entry` (1:
    the oldest, as `titles` lists them) gets `level` and `obtained_on`; the history's order
    is kept (a 422 naming the field otherwise), the last record stays the current title,
    the ledger is recomputed and the correction is in the admin log with `reason` (from →
    to). With `revision`, a 409 if the learner changed since. New titles are appended with
    `PATCH /learners/{id}`."""
    learner = await learners.correct_title(
        credits=credits,
        learner_id=learner_id,
        entry=entry,
        level=correction.level,
        obtained_on=correction.obtained_on,
        reason=correction.reason,
        by=admin.key,
        revision=correction.revision,
    )
    return await _learner_read(learner, credits, admin, "POST /learners/{id}/titles/{n}/correction")


@router.post(
    "/{learner_id}/erasure",
    response_model=LearnerRead,
    dependencies=[ADMIN],
    responses=responses(400, 409, 413, 415),
)
async def erase_learner(
    learner_id: str, erasure: ErasureCreate, admin: Admin, credits: CreditsDep
) -> LearnerRead:
    """Erase the learner's personal data on their request (PIPL; admin): name, id number
    and e-mail go, their hours stay under the learner id for the statistics. Recorded in
    the audit trail with `reason`; a 409 when already erased."""
    learner = await learners.get_learner(learner_id=learner_id)
    learner = await personal.erase(learner=learner, reason=erasure.reason, by=admin.key)
    return await _learner_read(learner, credits, admin, "POST /learners/{id}/erasure")


class YearQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: QueryInt | None = Field(None, ge=2000, le=2100)


@router.get("/{learner_id}/credits", response_model=list[EntryRead])
async def list_credits(
    learner_id: str, query: Annotated[YearQuery, Query()], caller: Caller, credits: CreditsDep
) -> list[EntryRead]:
    """The learner's ledger entries (of one year when `year` is given): counted, pending
    review or reversed, each with its source, the clause that credited it, its evidence
    documents and, while it has none, the document its clause asks for
    (`document_missing`)."""
    check_read(caller, learner_id)
    found = await ledger.entries(learner_id=learner_id, year=query.year)
    return await _entries_read(found, credits)


@router.post(
    "/{learner_id}/credits",
    response_model=EntryRead,
    status_code=201,
    responses=responses(400, 409, 413, 415),
)
async def add_credit(
    learner_id: str,
    entry_in: Annotated[EntryCreate, Body()],
    caller: Caller,
    credits: CreditsDep,
) -> EntryRead:
    """A manual entry (§一(三)) by an admin or auditor; `manual` and `record_import`
    entries by admins only. Answers the ledger entry with the hours computed; an entry
    dated where no policy has the rule for it is recorded `awaiting_policy`."""
    check_auditor(caller)
    if entry_in.kind in ("manual", "record_import") and not caller.holds(Scope.admin):
        raise Forbidden(f"entries of kind {entry_in.kind} are for admins")
    details = entry_in.model_dump(exclude={"kind", "description", "evidence"})
    entry = await ledger.add_manual(
        credits=credits,
        learner_id=learner_id,
        kind=entry_in.kind,
        details=details,
        description=entry_in.description,
        evidence=entry_in.evidence,
        by=caller.key,
    )
    return _entry_read(entry, credits)  # a new entry has no document yet


@router.post(
    "/{learner_id}/credits/{entry_id}/review",
    response_model=EntryRead,
    responses=responses(400, 409, 413, 415),
)
async def review_credit(
    learner_id: str, entry_id: str, decision: ReviewCreate, caller: Caller, credits: CreditsDep
) -> EntryRead:
    """An auditor approves or rejects an entry pending review."""
    check_auditor(caller)
    entry = await ledger.review(
        credits=credits,
        learner_id=learner_id,
        entry_id=entry_id,
        decision=decision.decision,
        reason=decision.reason,
        by=caller.key,
    )
    return (await _entries_read([entry], credits))[0]


@router.get("/{learner_id}/progress", response_model=ProgressRead, dependencies=[Depends(no_query)])
async def learner_progress(learner_id: str, caller: Caller, credits: CreditsDep) -> ProgressRead:
    """What the app shows a learner: courses started, in progress (the last progress or
    score reported) and completed; hours credited this year against the year's 90 (30
    public); the audit of the next title level; entries pending review. Reflects every
    statement stored."""
    check_read(caller, learner_id)
    learner = await learners.get_learner(learner_id=learner_id)
    return await progress.progress(credits=credits, learner=learner)


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Literal["intermediate", "deputy_senior", "senior"]
    year: QueryInt = Field(ge=2000, le=2100)


@router.get("/{learner_id}/audit", response_model=AuditRead, response_model_by_alias=True)
async def audit(
    learner_id: str, query: Annotated[AuditQuery, Query()], caller: Caller, credits: CreditsDep
) -> AuditRead:
    """§一(二): whether the learner meets the hours of an application at `level` in `year`,
    the shortfall, and every special case applied with its clause; the entries it relies
    on whose clause asks for a document none is attached to (`documents_missing`); the
    auditor's current conclusion on it, and whether the record changed after it."""
    check_read(caller, learner_id)
    learner = await learners.get_learner(learner_id=learner_id)
    policy = credits.policies.for_application(query.year)
    found = await ledger.audited_entries(learner=learner)
    verdict = audit_rules.audit(learner=learner, entries=found, policy=policy, level=query.level)
    verdict.documents_missing = await evidence.audit_documents_missing(
        learner_id=learner_id, policy=policy, entries=found, verdict=verdict
    )
    return await conclusions.concluded(learner=learner, entries=found, verdict=verdict)


audit_router = APIRouter(
    prefix="/audit",
    route_class=JsonRoute,
    tags=["audit trail"],
    dependencies=[Depends(single_valued)],
    responses=responses(401, 403, 422, 429),
)


@audit_router.get("/events", response_model=list[AuditEventRead])
async def audit_events(
    query: Annotated[AuditEventsQuery, Query()], caller: Caller
) -> list[AuditEventRead]:
    """The audit trail of personal data (auditors, admins), newest first: full id numbers
    shown (`id_number_view`), registrations naming another learner's id number
    (`id_number_conflict`, with the learner record hit), erasures (`erasure`), roster
    imports (`roster_import`) and admins' lookups by a full id number (`id_number_lookup`,
    the learner found or none; never the number)."""
    check_auditor(caller)
    found = await trail.events(
        kind=query.kind,
        learner_id=query.learner_id,
        by=query.by,
        since=query.since,
        before=query.before,
        limit=query.limit,
    )
    return [
        AuditEventRead(
            kind=e.kind, at=e.at, by=e.by, learner_id=e.learner_id or None, detail=e.detail
        )
        for e in found
    ]
