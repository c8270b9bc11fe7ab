"""Continuing-education bases (继续教育基地) and the history of their status (§三, §五(二))."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo.errors import DuplicateKeyError

from catalog.models import Base, BaseLevel, BaseStatus, StatusChange
from catalog.schemas import BaseCreate, BaseSeed, BaseStatusOn, StatusChangeCreate
from nxce import db
from nxce.errors import Conflict, NotFound, Unprocessable

# Dates of status decisions are dates in China Standard Time.
_CST = timezone(timedelta(hours=8), "CST")


def _today() -> date:
    return datetime.now(UTC).astimezone(_CST).date()


def _check_not_future(effective_on: date) -> None:
    if effective_on > _today():
        raise Unprocessable(
            f"effective_on must not be in the future, got {effective_on.isoformat()}"
        )


def _current(history: list[StatusChange]) -> BaseStatus:
    return history[-1].status


async def get(*, base_id: str) -> Base:
    """The base `base_id`; 404 when there is none."""
    try:
        oid = PydanticObjectId(base_id)
    except (InvalidId, TypeError):
        raise NotFound(f"no base with id {base_id!r}") from None
    base = await Base.get(oid)
    if base is None:
        raise NotFound(f"no base with id {base_id!r}")
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
    """Register a base with its first status; 409 when the name is taken."""
    _check_not_future(base_in.effective_on)
    now = datetime.now(UTC)
    first = StatusChange(
        status=base_in.status,
        reason=base_in.reason,
        effective_on=base_in.effective_on,
        recorded_at=now,
        recorded_by=by,
    )
    base = Base(
        name=base_in.name,
        level=base_in.level,
        status=base_in.status,
        history=[first],
        created_at=now,
        updated_at=now,
    )
    try:
        await base.insert()
    except DuplicateKeyError:
        raise Conflict(f"a base named {base_in.name!r} already exists") from None
    return base


def status_on(base: Base, on: date) -> BaseStatusOn:
    """The status `base` had on the date `on` (None before its first status)."""
    effective = [c for c in base.history if c.effective_on <= on]
    last = effective[-1] if effective else None
    return BaseStatusOn(
        base_id=str(base.id),
        on=on,
        status=last.status if last else None,
        since=last.effective_on if last else None,
    )


async def change_status(*, base_id: str, change: StatusChangeCreate, by: str) -> Base:
    """§三: record a certification, commendation or revocation, effective on a date.

    The history stays ordered by `effective_on` (a back-dated change is placed where it
    belongs); the base's status is the one of its latest effective change. Recording the
    status the base already had on that date is refused.
    """
    _check_not_future(change.effective_on)
    base = await get(base_id=base_id)
    before = status_on(base, change.effective_on)
    if before.status == change.status:
        raise Conflict(
            f"base {base.name!r} is already {change.status.value} on "
            f"{change.effective_on.isoformat()} (since {before.since})"
        )
    entry = StatusChange(
        status=change.status,
        reason=change.reason,
        effective_on=change.effective_on,
        recorded_at=datetime.now(UTC),
        recorded_by=by,
    )
    history = sorted([*base.history, entry], key=lambda c: (c.effective_on, c.recorded_at))
    updated_at = datetime.now(UTC)
    result = await Base.get_motor_collection().update_one(
        {"_id": base.id, "updated_at": base.updated_at},
        {
            "$set": {
                "history": db.encode(history),
                "status": _current(history).value,
                "updated_at": updated_at,
            }
        },
    )
    if result.matched_count == 0:
        raise Conflict(f"base {base.name!r} was changed by another request; try again")
    base.history, base.status, base.updated_at = history, _current(history), updated_at
    return base


async def load(*, seeds: list[BaseSeed], by: str = "fixtures") -> int:
    """Register the bases of `seeds` that do not exist yet (by name); answers how many."""
    existing = {b.name for b in await Base.find_all().to_list()}
    now = datetime.now(UTC)
    created = 0
    for seed in seeds:
        if seed.name in existing:
            continue
        history = sorted(
            (StatusChange(**c.model_dump(), recorded_at=now, recorded_by=by) for c in seed.history),
            key=lambda c: c.effective_on,
        )
        await Base(
            name=seed.name,
            level=seed.level,
            status=_current(history),
            history=history,
            created_at=now,
            updated_at=now,
        ).insert()
        created += 1
    return created
