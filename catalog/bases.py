"""Continuing-education bases (继续教育基地) and the history of their status (§三, §五(二)).

§三: bases are certified (认证); a base that works well is commended (通报表扬); one
against which a complaint is confirmed is criticised with a deadline to rectify
(通报批评并限期整改); one that stays inactive, or fails to rectify by the deadline, loses its
status (取消基地资格; catalog/rectification.py revokes those past their deadline). The
history is ordered by the date each decision takes effect, so the status on any past date
can be asked, and every change must be a transition §三 allows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from beanie import PydanticObjectId
from bson.errors import InvalidId

from catalog.events import CatalogEvents
from catalog.models import Base, BaseLevel, BaseStatus, StatusChange
from catalog.schemas import BaseCreate, BaseSeed, BaseStatusOn, BaseUpdate, StatusChangeCreate
from nxce.core import db
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


def today() -> date:
    """Today in China Standard Time, the calendar of status decisions."""
    return datetime.now(UTC).astimezone(_CST).date()


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


async def get_all(*, status: BaseStatus | None, level: BaseLevel | None) -> list[Base]:
    """Bases, optionally by status and level, by name."""
    query: dict[str, str] = {}
    if status is not None:
        query["status"] = status.value
    if level is not None:
        query["level"] = level.value
    return await Base.find(query).sort("name").to_list()


async def create(*, base_in: BaseCreate, by: str) -> Base:
    """Register a base, certified on `effective_on`; 409 when the name is taken."""
    _check_not_future(base_in.effective_on)
    now = db.now()
    first = StatusChange(
        status=BaseStatus.certified,
        reason=base_in.reason,
        effective_on=base_in.effective_on,
        recorded_at=now,
        recorded_by=by,
    )
    base = Base(
        name=base_in.name,
        level=base_in.level,
        status=BaseStatus.certified,
        history=[first],
        created_at=now,
        updated_at=now,
    )
    try:
        await base.insert()
    except db.DuplicateKeyError:
        raise Conflict(f"a base named {base_in.name!r} already exists") from None
    return base


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


async def _save(base: Base, values: dict[str, Any]) -> Base:
    """Write `values` if the base is still at the revision it was read at; else 409."""
    update = {**values, "revision": base.revision + 1, "updated_at": db.now()}
    try:
        result = await db.collection(Base).update_one(
            {"_id": base.id, "revision": base.revision}, {"$set": db.encode(update)}
        )
    except db.DuplicateKeyError:
        raise Conflict(f"a base named {values.get('name')!r} already exists") from None
    if result.matched_count == 0:
        raise Conflict(f"base {base.name!r} was changed by another request; try again")
    for name, value in update.items():
        setattr(base, name, value)
    return base


async def change_status(
    *, base_id: str, change: StatusChangeCreate, by: str, events: CatalogEvents | None = None
) -> Base:
    """§三: record a certification, commendation, criticism (with its rectification
    deadline) or revocation, effective on a date.

    A back-dated change is placed where it belongs in the history; it must follow the
    status in effect before it, and the change after it must still follow it. `events`
    hears of the change before it is written (so what depends on it can note that it
    must follow, in case the process dies halfway) and after.
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
    )
    history = sorted([*base.history, entry], key=lambda c: (c.effective_on, c.recorded_at))
    if events is not None:
        await events.base_changing(base_id)
    saved = await _save(base, {"history": history, "status": history[-1].status})
    if events is not None:
        await events.base_changed(base_id)
    return saved


async def update(*, base_id: str, patch: BaseUpdate) -> Base:
    """Correct a base's name or level."""
    base = await get(base_id=base_id)
    values = {k: v for k, v in patch.model_dump(exclude_unset=True).items() if v is not None}
    if not values:
        return base
    return await _save(base, values)


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
