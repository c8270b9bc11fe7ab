"""Continuing-education bases (继续教育基地) and the history of their status (§三, §五(二)).

§三: bases are certified (认证); a base that works well is commended (通报表扬); one
against which a complaint is confirmed is criticised with a deadline to rectify
(通报批评并限期整改); one that stays inactive, or fails to rectify by the deadline, loses its
status (取消基地资格; catalog/rectification.py revokes those past their deadline). The
history is ordered by the date each decision takes effect, so the status on any past date
can be asked, and every change must be a transition §三 allows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from beanie import PydanticObjectId
from bson.errors import InvalidId

from catalog.events import BaseFollowed, CatalogEvents
from catalog.models import Base, BaseLevel, BaseStatus, StatusChange
from catalog.schemas import BaseCreate, BaseSeed, BaseStatusOn, BaseUpdate, StatusChangeCreate
from nxce.core import admin_log, db
from nxce.core.admin_log import Area
from nxce.core.errors import Conflict, NotFound, invalid, show_value

# Dates of status decisions are dates in China Standard Time.
_CST = timezone(timedelta(hours=8), "CST")

# §三: which status may follow which (None: before the first certification). A criticised
# base is certified again once it has rectified, or revoked when it has not (整改不到位的
# 取消基地资格).
TRANSITIONS: dict[BaseStatus | None, frozenset[BaseStatus]] = {
    None: frozenset({BaseStatus.certified}),
    BaseStatus.certified: frozenset(
        {BaseStatus.commended, BaseStatus.criticised, BaseStatus.revoked}
    ),
    BaseStatus.commended: frozenset(
        {BaseStatus.certified, BaseStatus.criticised, BaseStatus.revoked}
    ),
    BaseStatus.criticised: frozenset({BaseStatus.certified, BaseStatus.revoked}),
    BaseStatus.revoked: frozenset({BaseStatus.certified}),
}


# §三's words for the statuses and the levels, as the pages and the administrative log say them.
STATUS_WORDS: dict[BaseStatus, str] = {
    BaseStatus.certified: "认证",
    BaseStatus.commended: "通报表扬",
    BaseStatus.criticised: "通报批评并限期整改",
    BaseStatus.revoked: "取消基地资格",
}
LEVEL_WORDS: dict[BaseLevel, str] = {
    BaseLevel.national: "国家级",
    BaseLevel.regional: "自治区级",
    BaseLevel.municipal: "市级",
}


def allowed_after(status: BaseStatus | None) -> list[BaseStatus]:
    """§三: the decisions that may follow `status` (None: not yet certified), in the
    order of BaseStatus."""
    return [s for s in BaseStatus if s in TRANSITIONS[status]]


def today() -> date:
    """Today in China Standard Time, the calendar of status decisions."""
    return datetime.now(UTC).astimezone(_CST).date()


def day_of(moment: datetime) -> date:
    """The day of `moment` in China Standard Time (a naive moment is UTC, as stored)."""
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(_CST).date()


def _check_not_future(effective_on: date) -> None:
    if effective_on > today():
        raise invalid("effective_on", "must not be in the future", effective_on.isoformat())


def check_rectify_by(change: StatusChangeCreate) -> None:
    """§三 通报批评并限期整改: a criticism names its rectification deadline, after the day it
    takes effect; no other decision has one. 422 naming `rectify_by` otherwise."""
    deadline = change.rectify_by
    if change.status != BaseStatus.criticised:
        if deadline is not None:
            raise invalid(
                "rectify_by",
                f"only a criticism (status criticised) has a rectification deadline, "
                f"not {change.status.value}",
                deadline.isoformat(),
            )
        return
    if deadline is None:
        raise invalid("rectify_by", "is required when the status is criticised (§三 限期整改)")
    if deadline <= change.effective_on:
        raise invalid(
            "rectify_by",
            f"must be after effective_on ({change.effective_on.isoformat()})",
            deadline.isoformat(),
        )


def _describe(status: BaseStatus | None) -> str:
    return status.value if status is not None else "not yet certified"


async def get(*, base_id: str) -> Base:
    """The base `base_id`; 404 when there is none."""
    try:
        oid = PydanticObjectId(base_id)
    except (InvalidId, TypeError):
        raise NotFound(f"no base with id {show_value(base_id)}") from None
    base = await Base.get(oid)
    if base is None:
        raise NotFound(f"no base with id {show_value(base_id)}")
    return base


def _filter(status: BaseStatus | None, level: BaseLevel | None) -> dict[str, str]:
    query: dict[str, str] = {}
    if status is not None:
        query["status"] = status.value
    if level is not None:
        query["level"] = level.value
    return query


async def get_all(
    *,
    status: BaseStatus | None,
    level: BaseLevel | None,
    offset: int = 0,
    limit: int | None = None,
) -> list[Base]:
    """Bases, optionally by status and level, by name (a page of them with `limit`)."""
    found = Base.find(_filter(status, level)).sort("name")
    if offset:
        found = found.skip(offset)
    if limit is not None:
        found = found.limit(limit)
    return await found.to_list()


async def count(*, status: BaseStatus | None, level: BaseLevel | None) -> int:
    """How many bases `get_all` finds with these filters."""
    total: int = await db.collection(Base).count_documents(_filter(status, level))
    return total


async def count_by_status(*, level: BaseLevel | None = None) -> dict[BaseStatus, int]:
    """How many bases have each status now (of a level, when given)."""
    return {s: await count(status=s, level=level) for s in BaseStatus}


async def create(*, base_in: BaseCreate, by: str) -> Base:
    """Register a base, certified on `effective_on`; 409 when the name is taken. The
    administrative log has a line for it, written with the base."""
    _check_not_future(base_in.effective_on)
    now = db.now()
    first = StatusChange(
        status=BaseStatus.certified,
        reason=base_in.reason,
        effective_on=base_in.effective_on,
        recorded_at=now,
        recorded_by=by,
        decision_id=uuid.uuid4().hex,
    )
    base = Base(
        name=base_in.name,
        level=base_in.level,
        status=BaseStatus.certified,
        history=[first],
        created_at=now,
        updated_at=now,
    )
    document = db.new_document(base)

    async def write(session: Any) -> str:
        result = await db.collection(Base).insert_one(document, session=session)
        await admin_log.record(
            by=by,
            area=Area.bases,
            action="base.registered",
            target=str(result.inserted_id),
            summary=(
                f"登记基地“{base.name}”（{LEVEL_WORDS[base.level]}），"
                f"自 {base_in.effective_on.isoformat()} 起认证"
            ),
            detail={
                "name": base.name,
                "level": base.level.value,
                "status": BaseStatus.certified.value,
                "effective_on": base_in.effective_on.isoformat(),
                "reason": base_in.reason,
            },
            session=session,
        )
        return str(result.inserted_id)

    try:
        base_id = await db.atomic(write)
    except db.DuplicateKeyError:
        raise Conflict(f"a base named {base_in.name!r} already exists") from None
    return await get(base_id=base_id)


def status_on(*, base: Base, on: date) -> BaseStatusOn:
    """The status `base` had on the date `on` (None before its first certification)."""
    effective = [c for c in base.history if c.effective_on <= on]
    last = effective[-1] if effective else None
    return BaseStatusOn(
        base_id=str(base.id),
        on=on,
        status=last.status if last else None,
        since=last.effective_on if last else None,
        rectify_by=last.rectify_by if last else None,
    )


# §三: the statuses in which a base's work counts. A criticised base counts only for work
# already under way when the criticism took effect (see `in_good_standing`).
GOOD_STANDING = frozenset({BaseStatus.certified, BaseStatus.commended})


def in_good_standing(base: Base, on: date, *, started_on: date | None = None) -> bool:
    """§三: whether `base` was in good standing on the date `on`: certified or commended
    then (not before its first certification, not on or after a revocation). Criticised
    then (通报批评并限期整改), it is in good standing only for work already under way when
    the criticism took effect: when `started_on` (a project's start) is given and is
    before that date. Work dated on its own (a training, a new project) has no
    `started_on`: a criticised base runs nothing new."""
    found = status_on(base=base, on=on)
    if found.status in GOOD_STANDING:
        return True
    if found.status != BaseStatus.criticised or started_on is None or found.since is None:
        return False
    return started_on < found.since


async def _save(base: Base, values: dict[str, Any], session: Any = None) -> dict[str, Any]:
    """Write `values` if the base is still at the revision it was read at (else 409);
    answers what was written, for the caller to apply once the transaction commits."""
    update = {**values, "revision": base.revision + 1, "updated_at": db.now()}
    try:
        result = await db.collection(Base).update_one(
            {"_id": base.id, "revision": base.revision},
            {"$set": db.encode(update)},
            session=session,
        )
    except db.DuplicateKeyError:
        raise Conflict(f"a base named {values.get('name')!r} already exists") from None
    if result.matched_count == 0:
        raise Conflict(f"base {base.name!r} was changed by another request; try again")
    return update


def _apply(base: Base, update: dict[str, Any]) -> Base:
    for name, value in update.items():
        setattr(base, name, value)
    return base


def _words(status: BaseStatus | None) -> str:
    return STATUS_WORDS[status] if status is not None else "未认证"


async def change_status(
    *, base_id: str, change: StatusChangeCreate, by: str, events: CatalogEvents | None = None
) -> Base:
    """§三: record a certification, commendation, criticism (with its rectification
    deadline) or revocation, effective on a date.

    A back-dated change is placed where it belongs in the history; it must follow the
    status in effect before it, and the change after it must still follow it. `events`
    hears of the change before it is written (so what depends on it can note that it
    must follow, in case the process dies halfway) and after. The administrative log has
    a line for the decision, written with it, and (with `events`) one for what the
    learners' ledgers did after it: how many entries changed.
    """
    _check_not_future(change.effective_on)
    check_rectify_by(change)
    base = await get(base_id=base_id)
    before = status_on(base=base, on=change.effective_on).status
    day = change.effective_on.isoformat()
    if change.status not in TRANSITIONS[before]:
        raise Conflict(
            f"base {base.name!r} is {_describe(before)} on {day}; it cannot become "
            f"{change.status.value} then (§三)"
        )
    later = next((c for c in base.history if c.effective_on > change.effective_on), None)
    if later is not None and later.status not in TRANSITIONS[change.status]:
        raise Conflict(
            f"base {base.name!r} becomes {later.status.value} on {later.effective_on}, which "
            f"cannot follow {change.status.value} on {day} (§三)"
        )
    entry = StatusChange(
        status=change.status,
        reason=change.reason,
        effective_on=change.effective_on,
        recorded_at=db.now(),
        recorded_by=by,
        rectify_by=change.rectify_by,
        decision_id=uuid.uuid4().hex,
    )
    decision_id = entry.decision_id
    assert decision_id is not None
    history = sorted([*base.history, entry], key=lambda c: (c.effective_on, c.recorded_at))
    back_dated = change.effective_on < today()
    detail: dict[str, Any] = {
        "decision": decision_id,
        "status": {"from": before.value if before else None, "to": change.status.value},
        "effective_on": day,
        "reason": change.reason,
        "back_dated": back_dated,
    }
    if change.rectify_by is not None:
        detail["rectify_by"] = change.rectify_by.isoformat()
    if later is not None:
        detail["followed_by"] = {"status": later.status.value, "on": later.effective_on.isoformat()}
    deadline = f"，限 {change.rectify_by.isoformat()} 前整改" if change.rectify_by else ""
    summary = (
        f"基地“{base.name}”：{_words(before)} → {STATUS_WORDS[change.status]}"
        f"（自 {day} 起{deadline}）。理由：{change.reason}"
    )
    if events is not None:
        await events.base_changing(base_id, decision_id)

    async def write(session: Any) -> dict[str, Any]:
        update = await _save(base, {"history": history, "status": history[-1].status}, session)
        await admin_log.record(
            by=by,
            area=Area.bases,
            action="base.status_changed",
            target=base_id,
            summary=summary,
            detail=detail,
            session=session,
        )
        return update

    saved = _apply(base, await db.atomic(write))
    if events is not None:
        followed = await events.base_changed(base_id, decision_id)
        await _log_followed(by, base, entry, followed)
    return saved


async def _log_followed(
    by: str, base: Base, decision: StatusChange, followed: BaseFollowed
) -> None:
    """The line saying what the learners' ledgers did after a decision (§三: at once)."""
    day = decision.effective_on.isoformat()
    if followed.entries_changed:
        moved = (
            f"{followed.learners_changed} 名学员的 {followed.entries_changed} 条学时记录随之变化"
        )
    else:
        moved = "没有学时记录变化"
    await admin_log.record(
        by=by,
        area=Area.bases,
        action="base.ledgers_followed",
        target=str(base.id),
        summary=(
            f"基地“{base.name}”{STATUS_WORDS[decision.status]}（自 {day} 起）后，"
            f"重新核算了 {followed.recomputed} 名在该基地培训的学员：{moved}"
        ),
        detail={
            "decision": decision.decision_id,
            "learners_recomputed": followed.recomputed,
            "entries_changed": followed.entries_changed,
            "learners_changed": followed.learners_changed,
        },
    )


async def update(*, base_id: str, patch: BaseUpdate, by: str, revision: int | None = None) -> Base:
    """Correct a base's name or level (with `revision`: only if the base is still at it,
    else 409 naming what changed). The administrative log has a line for it, written
    with it."""
    base = await get(base_id=base_id)
    if revision is not None and revision != base.revision:
        raise Conflict(
            f"base {base.name!r} was changed since revision {revision} "
            f"(now revision {base.revision}: {base.name}, {base.level.value}); reload it"
        )
    values = {k: v for k, v in patch.model_dump(exclude_unset=True).items() if v is not None}
    values = {k: v for k, v in values.items() if getattr(base, k) != v}
    if not values:
        return base
    changes = {k: {"from": _plain(getattr(base, k)), "to": _plain(v)} for k, v in values.items()}
    said = "，".join(
        f"{_FIELD_WORDS[k]}：{_shown(k, getattr(base, k))} → {_shown(k, v)}"
        for k, v in values.items()
    )

    async def write(session: Any) -> dict[str, Any]:
        update = await _save(base, values, session)
        await admin_log.record(
            by=by,
            area=Area.bases,
            action="base.updated",
            target=base_id,
            summary=f"修改基地“{base.name}”：{said}",
            detail=changes,
            session=session,
        )
        return update

    return _apply(base, await db.atomic(write))


_FIELD_WORDS = {"name": "名称", "level": "级别"}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, BaseLevel) else value


def _shown(field: str, value: Any) -> str:
    return LEVEL_WORDS[BaseLevel(value)] if field == "level" else str(value)


async def load(*, seeds: list[BaseSeed], by: str = "fixtures") -> int:
    """Register the bases of `seeds` that do not exist yet (by name); answers how many."""
    existing = {b.name for b in await Base.find_all().to_list()}
    now = db.now()
    created = 0
    for seed in seeds:
        if seed.name in existing:
            continue
        for change in seed.history:
            check_rectify_by(change)
        history = sorted(
            (StatusChange(**c.model_dump(), recorded_at=now, recorded_by=by) for c in seed.history),
            key=lambda c: c.effective_on,
        )
        previous: BaseStatus | None = None
        for step in history:
            if step.status not in TRANSITIONS[previous]:
                raise ValueError(f"fixture base {seed.name!r}: {step.status} after {previous}")
            previous = step.status
        try:
            await Base(
                name=seed.name,
                level=seed.level,
                status=history[-1].status,
                history=history,
                created_at=now,
                updated_at=now,
            ).insert()
        except db.DuplicateKeyError:
            continue  # another instance loading the same fixture got there first
        created += 1
    return created
