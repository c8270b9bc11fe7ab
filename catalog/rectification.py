"""§三 整改不到位的取消基地资格: the daily check that revokes a criticised base whose
rectification deadline has passed without a later decision.

A criticised base (通报批评并限期整改) must rectify by its deadline (`rectify_by`); an
administrator then certifies it again. One still criticised when its deadline has passed
(in China Standard Time) is revoked by the check: recorded by "daily check", effective on
the deadline itself (our reading: the issue says "dated the deadline"; the base had until
that day to rectify, and the revocation is dated the day the deadline fell), with a reason
naming the deadline. The revocation goes through `bases.change_status` with the catalog's
events, so the ledgers of learners trained at the base are recomputed at once.

The check runs at start (catching up every deadline missed while no process ran, however
many days) and then daily, in every replica; a lease in the store lets one replica at a
time do it, and it is idempotent: a base once revoked is no longer criticised, and a base
changed meanwhile (rectified, or revoked by a run whose lease expired) is a 409 from the
revision check, skipped.
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
            criticism = overdue(base, day)
            if criticism is None:
                continue
            try:
                await bases.change_status(
                    base_id=str(base.id),
                    change=revocation(criticism),
                    by=DAILY_CHECK,
                    events=events,
                )
            except Conflict:
                continue  # changed since it was read: rectified, or revoked already
            except Exception:
                # the revocation may be written and a ledger failed to follow (its mark
                # stays for the keep-up loop): the other bases are still checked
                log.exception("revoking base %s past its rectification deadline failed", base.id)
                continue
            revoked += 1
        return revoked


async def keep_checking(*, events: CatalogEvents, every: float = DAY_SECONDS) -> None:
    """The daily check, for ever (the lifespan runs it once at start first)."""
    await periodic.every(
        every,
        lambda: revoke_overdue(events=events),
        failed="the daily check of rectification deadlines (§三) failed",
        done="the daily check revoked %s base(s) past their rectification deadline (§三)",
    )
