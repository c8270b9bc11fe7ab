"""The audit trail of personal data (PIPL, 个人信息保护法): every view of a full id number,
every registration that named another learner's id number (or phone number), every
erasure, every roster import — who, when, which learner record. Written once; read by
auditors and admins (`GET /audit/events`).

Each event is also a line of the administrative log (nxce/core/admin_log.py), written
with it (in the same transaction where the caller has one): the log page lists them with
every other administrative write and sensitive read, and `GET /audit/events` keeps
answering auditors from this trail."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from credits.models import AuditEvent, EventKind
from nxce.core import admin_log, db
from nxce.core.admin_log import AdminAction, Area

MAX_LOGGED_IDS = 100  # learner ids of a roster import kept on its log line; all in the trail

# Where a full id number was shown, as the log line says it.
WHERE_WORDS = {
    "transcript": "学时证明",
    "/auditor/learners/{id}": "审核页面",
}


def _summary(kind: EventKind, learner_id: str, detail: dict[str, Any]) -> str:
    operation = str(detail.get("operation", ""))
    if kind is EventKind.id_number_view:
        where = str(detail.get("where", ""))
        return f"查看了学员 {learner_id} 的完整身份证号（{WHERE_WORDS.get(where, where)}）"
    if kind is EventKind.id_number_conflict:
        attempted = detail.get("attempted_learner_id") or "新学员"
        hit = f"已登记的学员 {learner_id}" if learner_id else "另一位已登记的学员"
        return f"登记 {attempted}（{operation}）时填写的身份证号与{hit}相同，已拒绝"
    if kind is EventKind.phone_conflict:
        attempted = detail.get("attempted_learner_id") or "新学员"
        hit = f"已登记的学员 {learner_id}" if learner_id else "另一位已登记的学员"
        return f"登记 {attempted}（{operation}）时填写的手机号与{hit}相同，已拒绝"
    if kind is EventKind.erasure:
        reason = f"。理由：{detail['reason']}" if detail.get("reason") else ""
        return f"删除了学员 {learner_id} 的个人信息（姓名、身份证号、手机、邮箱），学时保留{reason}"
    created, refused = detail.get("created", 0), detail.get("refused", 0)
    return f"按名单登记学员：新建 {created} 名并发放激活码，{refused} 行未通过检查"


def _line(kind: EventKind, by: str, learner_id: str, detail: dict[str, Any]) -> AdminAction:
    """The log line of a trail event (no id number in it: the trail holds none either)."""
    shown = dict(detail)
    if kind is EventKind.roster_import:
        ids = list(shown.get("learner_ids") or [])
        if len(ids) > MAX_LOGGED_IDS:
            shown["learner_ids"] = ids[:MAX_LOGGED_IDS]
            shown["learner_ids_not_listed"] = len(ids) - MAX_LOGGED_IDS
    area = Area.accounts if kind is EventKind.roster_import else Area.learners
    return AdminAction(
        at=db.now(),
        by=by,
        area=area,
        action=f"trail.{kind.value}",
        target=learner_id,
        summary=_summary(kind, learner_id, detail),
        detail=shown,
    )


async def record(
    *,
    kind: EventKind,
    by: str,
    learner_id: str,
    detail: dict[str, Any] | None = None,
    session: Any = None,
) -> None:
    """One event and its log line (in the caller's transaction `session`, else in one of
    their own)."""
    await _write(by, [(kind, learner_id, detail or {})], session)


async def record_many(*, by: str, events: Sequence[tuple[EventKind, str, dict[str, Any]]]) -> None:
    """Events (kind, learner id, detail) of client `by`, written in one batch (a roster
    import's hits of registered learners)."""
    await _write(by, events, None)


async def _write(
    by: str, events: Sequence[tuple[EventKind, str, dict[str, Any]]], session: Any
) -> None:
    if not events:
        return
    at = db.now()
    documents = [
        db.new_document(AuditEvent(kind=kind, at=at, by=by, learner_id=learner_id, detail=detail))
        for kind, learner_id, detail in events
    ]
    # A lookup by a full id number writes its own, fuller line (credits/lookup.py: whom it
    # found, by name); every other event's line is made here.
    lines = [
        _line(kind, by, learner_id, detail)
        for kind, learner_id, detail in events
        if kind is not EventKind.id_number_lookup
    ]
    for line in lines:
        line.at = at

    async def work(session: Any) -> None:
        for document in documents:
            document.pop("_id", None)  # a retried transaction inserts them again
        await db.collection(AuditEvent).insert_many(documents, session=session)
        await admin_log.record_many(lines, session=session)

    if session is not None:
        await work(session)
    else:
        await db.atomic(work)


async def record_views(*, by: str, learner_ids: Iterable[str], where: str) -> None:
    """Full id numbers of `learner_ids` shown to client `by` (one event each)."""
    await record_many(
        by=by,
        events=[(EventKind.id_number_view, i, {"where": where}) for i in learner_ids],
    )


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
