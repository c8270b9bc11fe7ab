"""The audit trail of personal data (PIPL, 个人信息保护法): every view of a full id number,
every registration that named another learner's id number (or phone number), every
erasure, every roster import — who, when, which learner record. Written once; read by
auditors and admins (`GET /audit/events`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from credits.models import AuditEvent, EventKind
from nxce.core import db


async def record(
    *,
    kind: EventKind,
    by: str,
    learner_id: str,
    detail: dict[str, Any] | None = None,
    session: Any = None,
) -> None:
    event = AuditEvent(kind=kind, at=db.now(), by=by, learner_id=learner_id, detail=detail or {})
    await db.collection(AuditEvent).insert_one(db.new_document(event), session=session)


async def record_many(*, by: str, events: Sequence[tuple[EventKind, str, dict[str, Any]]]) -> None:
    """Events (kind, learner id, detail) of client `by`, written in one batch (a roster
    import's hits of registered learners)."""
    at = db.now()
    documents = [
        db.new_document(AuditEvent(kind=kind, at=at, by=by, learner_id=learner_id, detail=detail))
        for kind, learner_id, detail in events
    ]
    if documents:
        await db.collection(AuditEvent).insert_many(documents)


async def record_views(*, by: str, learner_ids: Iterable[str], where: str) -> None:
    """Full id numbers of `learner_ids` shown to client `by` (one event each)."""
    at = db.now()
    events = [
        db.new_document(
            AuditEvent(
                kind=EventKind.id_number_view, at=at, by=by, learner_id=i, detail={"where": where}
            )
        )
        for i in learner_ids
    ]
    if events:
        await db.collection(AuditEvent).insert_many(events)


async def events(
    *,
    kind: EventKind | None = None,
    learner_id: str | None = None,
    by: str | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Events newest first, of a kind, learner, client and time range when given."""
    query: dict[str, Any] = {}
    if kind is not None:
        query["kind"] = kind.value
    if learner_id is not None:
        query["learner_id"] = learner_id
    if by is not None:
        query["by"] = by
    moment: dict[str, datetime] = {}
    if since is not None:
        moment["$gte"] = since
    if before is not None:
        moment["$lt"] = before
    if moment:
        query["at"] = moment
    return await AuditEvent.find(query).sort("-at", "-_id").limit(limit).to_list()
