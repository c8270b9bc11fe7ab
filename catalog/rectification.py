"""§三 整改不到位的取消基地资格: the daily check that revokes a criticised base whose
rectification deadline has passed without a later decision.

A criticised base (通报批评并限期整改) must rectify by its deadline (`rectify_by`); an
administrator then certifies it again. One still criticised when its deadline has passed
(in China Standard Time) is revoked by the check: recorded by "daily check", with a reason
naming the deadline, and effective on the deadline date itself (our reading: the issue
settles "dated the deadline"). The check finds a criticism overdue from the day after its
deadline; the revocation it then records is dated the deadline, whichever later day it
runs on. The revocation goes through `bases.change_status` with the catalog's events, so
the ledgers of learners trained at the base are recomputed at once.

The check runs at start (catching up every deadline missed while no process ran, however
many days) and then daily, in every replica; a lease in the store lets one replica at a
time do it. It also runs for one base (`revoke_if_overdue`, our reading) before every
write that relies on the base's standing (a project, an enrolment, a withdrawal, a
result) and after every status change through the API, so a deadline already past acts
at once, not at the next daily check or restart. Either way it is idempotent: a base once
revoked is no longer criticised, and a base changed meanwhile (rectified, or revoked by
another check) is a 409 from the revision check, skipped.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from catalog import bases
from catalog.events import CatalogEvents
from catalog.models import Base, BaseStatus, StatusChange
from catalog.schemas import StatusChangeCreate
from nxce.core import leases, periodic
from nxce.core.errors import Conflict

log = logging.getLogger("nxce")

DAILY_CHECK = "daily check"  # recorded_by of the revocations the check records
LEASE_NAME = "bases: rectification deadlines (§三)"
LEASE_TTL = timedelta(minutes=10)  # far longer than a check takes
DAY_SECONDS = 24 * 60 * 60.0


def overdue(base: Base, today: date) -> StatusChange | None:
    """§三: the criticism of `base` whose rectification deadline has passed by `today` with
    no decision after it; None when there is none."""
    last = base.history[-1] if base.history else None
    if last is None or last.status != BaseStatus.criticised or last.rectify_by is None:
        return None
    return last if last.rectify_by < today else None


def revocation(criticism: StatusChange) -> StatusChangeCreate:
    """§三: the revocation of a base that did not rectify by its deadline, dated the
    deadline (our reading), the reason naming it."""
    deadline = criticism.rectify_by
    assert deadline is not None  # `overdue` found one
    return StatusChangeCreate(
        status=BaseStatus.revoked,
        reason=f"整改期限{deadline.isoformat()}届满，未整改到位，取消基地资格（§三）",
        effective_on=deadline,
    )


async def _revoke(base: Base, day: date, events: CatalogEvents | None) -> bool:
    """Revoke `base` when its criticism is overdue on `day`; answers whether it did. A
    base changed since it was read (rectified, or revoked by another check) is skipped."""
    criticism = overdue(base, day)
    if criticism is None:
        return False
    try:
        await bases.change_status(
            base_id=str(base.id), change=revocation(criticism), by=DAILY_CHECK, events=events
        )
    except Conflict:
        return False  # changed since it was read: rectified, or revoked already
    except Exception:
        # the revocation may be written and a ledger failed to follow (its mark stays for
        # the keep-up loop): the other bases are still checked, the write still refused
        log.exception("revoking base %s past its rectification deadline failed", base.id)
        return False
    return True


async def revoke_overdue(*, events: CatalogEvents | None, today: date | None = None) -> int:
    """§三: revoke every criticised base whose deadline has passed (`today` in China
    Standard Time unless given), once across replicas (the lease); answers how many
    bases it revoked (0 when another process holds the lease)."""
    day = today or bases.today()
    async with leases.held(LEASE_NAME, ttl=LEASE_TTL) as taken:
        if not taken:
            return 0
        revoked = 0
        for base in await Base.find({"status": BaseStatus.criticised.value}).to_list():
            revoked += await _revoke(base, day, events)
        return revoked


async def revoke_if_overdue(
    *, base_id: str, events: CatalogEvents | None, today: date | None = None
) -> bool:
    """§三: the daily check for one base, run before the service relies on its standing
    for a write (a project, an enrolment, a result) and after every status change through
    the API, so a deadline already past acts at once, not at the next daily check (our
    reading). No lease: the revision check makes two at once revoke once. Answers
    whether it revoked the base; 404 when there is none."""
    base = await bases.get(base_id=base_id)
    return await _revoke(base, today or bases.today(), events)


async def decide(
    *, base_id: str, change: StatusChangeCreate, by: str, events: CatalogEvents | None
) -> Base:
    """§三: record a status decision (`bases.change_status`), then the check for the base,
    so a back-dated criticism whose deadline has already passed ends in its revocation at
    once; answers the base as it then is. The API's and the admin page's one path."""
    changed = await bases.change_status(base_id=base_id, change=change, by=by, events=events)
    if await revoke_if_overdue(base_id=base_id, events=events):
        changed = await bases.get(base_id=base_id)
    return changed


async def keep_checking(*, events: CatalogEvents, every: float = DAY_SECONDS) -> None:
    """The daily check, for ever (the lifespan runs it once at start first)."""
    await periodic.every(
        every,
        lambda: revoke_overdue(events=events),
        failed="the daily check of rectification deadlines (§三) failed",
        done="the daily check revoked %s base(s) past their rectification deadline (§三)",
    )
