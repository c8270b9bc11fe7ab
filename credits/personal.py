"""Personal data of learners (PIPL, 个人信息保护法): full id numbers (and phone numbers,
shown in full in the same answers) shown only with a trace, registrations that name
another learner's id number or phone number throttled and traced, and erasure on
request.

- Every full id number shown (to auditors: the learner API, auditor pages, transcripts and
  exports) goes through `id_number_for` / `shown_id_number` + `trail.record_views`.
- Conflicts: a client may meet at most `CONFLICTS_PER_MINUTE` id-number conflicts a minute;
  beyond, every registration naming an id number answers 429 with Retry-After (whether or
  not it would conflict, so the 429 tells nothing either). The counts live in the store
  (`ConflictWindow`, a TTL index), so the limit holds across replicas; a registration
  holds a slot while it is written, so concurrent requests cannot overshoot the limit.
- Lookups by a full id number (an admin finding a learner, credits/lookup.py) are
  counted per client in the store like conflicts: `LOOKUP_LIMITS` a minute and a day;
  beyond, a 429 with Retry-After. Each is in the trail (`id_number_lookup`, without the
  number) and in the admin log.
- Erasure keeps the learner id, the employer, series, title and degree (what the
  statistics read) and every ledger entry; the name, id number, e-mail and phone go. The digest
  becomes a random one: the erased number is free again and conflicts with nothing.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from credits import evidence, trail
from credits.access import sees_full_id_numbers
from credits.context import Credits
from credits.models import ConflictWindow, EventKind, Learner, search_keys
from nxce.core import db, devices
from nxce.core.auth import Principal
from nxce.core.errors import Conflict, TooManyRequests

CONFLICTS_PER_MINUTE = 5
_WINDOW_SECONDS = 60
ERASED_NAME = "（已删除）"
ERASED_ID_NUMBER = "（已删除）"
CONFLICT_DETAIL = "another learner has this id number"
PHONE_CONFLICT_DETAIL = "another learner has this phone number"
# (window in seconds, lookups a client may make in it): our reading of "throttled" — an
# administrator finds a few people a minute by their number, a few hundred a day at most;
# enumerating birth dates and sequence numbers needs thousands.
LOOKUP_LIMITS = ((60, 10), (86_400, 200))


def shown_id_number(credits: Credits, learner: Learner, *, full: bool) -> str:
    """The id number as shown: in full when `full` (record the view: `trail`), else
    masked; an erased learner's placeholder either way."""
    if full and learner.id_number_encrypted is not None:
        return credits.vault.decrypt(learner.id_number_encrypted)
    return learner.id_number_masked


def shown_phone(credits: Credits, learner: Learner, *, full: bool) -> str | None:
    """The phone number as shown: in full when `full` (auditors, with the id number whose
    view `trail` records), else masked; None when the learner has none."""
    if full and learner.phone_encrypted is not None:
        return credits.phones.decrypt(learner.phone_encrypted)
    return learner.phone_masked


async def id_number_for(
    *, credits: Credits, learner: Learner, principal: Principal, where: str
) -> str:
    """The id number `principal` may see; a full one is recorded before it is shown."""
    full = sees_full_id_numbers(principal) and learner.id_number_encrypted is not None
    if full:
        await trail.record_views(by=principal.key, learner_ids=[learner.learner_id], where=where)
    return shown_id_number(credits, learner, full=full)


def _now() -> datetime:
    return db.now()


class ConflictSlot:
    """A registration naming an id number, by one client: `hold` before writing; on a
    conflict `conflicted` keeps the slot (and records the event), else `release`."""

    def __init__(self, client: str) -> None:
        self.client = client
        self._key: str | None = None

    async def hold(self) -> None:
        now = _now()
        minute = int(now.timestamp()) // _WINDOW_SECONDS
        ends = (minute + 1) * _WINDOW_SECONDS
        key = f"{self.client}|{minute}"
        found = await _increment(key, self.client, datetime.fromtimestamp(ends, UTC))
        if found["held"] > CONFLICTS_PER_MINUTE:
            await db.collection(ConflictWindow).update_one({"key": key}, {"$inc": {"held": -1}})
            wait = max(1, int(ends - now.timestamp()) + 1)
            raise TooManyRequests(
                f"client {self.client!r} met {CONFLICTS_PER_MINUTE} id-number conflicts this "
                f"minute: registrations naming an id number wait {wait} s",
                retry_after=wait,
            )
        self._key = key

    async def release(self) -> None:
        if self._key is not None:
            key, self._key = self._key, None
            await db.collection(ConflictWindow).update_one({"key": key}, {"$inc": {"held": -1}})

    async def conflicted(
        self,
        *,
        digest: str | None,
        attempted: str,
        operation: str,
        phone_digest: str | None = None,
    ) -> Conflict:
        """The slot stays taken; the conflict is in the trail (the learner record hit):
        another learner's id number, else (`phone_digest`) another learner's phone."""
        self._key = None
        hit = await Learner.find_one(Learner.id_number_digest == digest) if digest else None
        kind, detail = EventKind.id_number_conflict, CONFLICT_DETAIL
        if hit is None and phone_digest is not None:
            hit = await Learner.find_one(Learner.phone_digest == phone_digest)
            if hit is not None:
                kind, detail = EventKind.phone_conflict, PHONE_CONFLICT_DETAIL
        await trail.record(
            kind=kind,
            by=self.client,
            learner_id=hit.learner_id if hit is not None else "",
            detail={"attempted_learner_id": attempted, "operation": operation},
        )
        return Conflict(detail)


async def hold_lookup(client: str) -> None:
    """Count one id-number lookup of `client` in each window of `LOOKUP_LIMITS`; past a
    window's limit the lookup is not counted and is a 429 with Retry-After."""
    now = _now().timestamp()
    counted: list[str] = []
    for seconds, limit in LOOKUP_LIMITS:
        window = int(now) // seconds
        ends = (window + 1) * seconds
        key = f"lookup|{client}|{seconds}|{window}"
        found = await _increment(key, client, datetime.fromtimestamp(ends, UTC))
        counted.append(key)
        if found["held"] > limit:
            for taken in counted:
                await db.collection(ConflictWindow).update_one(
                    {"key": taken}, {"$inc": {"held": -1}}
                )
            wait = max(1, int(ends - now) + 1)
            per = "minute" if seconds == 60 else "day"
            raise TooManyRequests(
                f"client {client!r} made {limit} id-number lookups this {per}: the next "
                f"waits {wait} s",
                retry_after=wait,
            )


async def _increment(key: str, client: str, expires_at: datetime) -> dict[str, Any]:
    for _ in range(2):  # two first upserts at once: one of them retries as an update
        try:
            found: dict[str, Any] = await db.collection(ConflictWindow).find_one_and_update(
                {"key": key},
                {
                    "$inc": {"held": 1},
                    "$setOnInsert": {"client": client, "expires_at": expires_at},
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            return found
        except db.DuplicateKeyError:
            continue
    raise Conflict(f"the conflict count of client {client!r} is busy; try again")


async def erase(*, learner: Learner, reason: str, by: str) -> Learner:
    """Erase the learner's personal data (name, id number, e-mail, phone), keep their hours under
    the learner id; the erasure is in the trail (with `reason`)."""
    if learner.erased_at is not None:
        raise Conflict(
            f"the personal data of learner {learner.learner_id!r} was erased at "
            f"{learner.erased_at.isoformat()}"
        )
    now = db.now()
    updates: dict[str, Any] = {
        "name": ERASED_NAME,
        "find_keys": search_keys(None, learner.employer),  # by the employer only
        "id_number_encrypted": None,
        "id_number_digest": f"erased:{secrets.token_hex(32)}",
        "id_number_masked": ERASED_ID_NUMBER,
        "email": None,
        "phone_encrypted": None,
        "phone_digest": None,  # out of the partial unique index: the number is free again
        "phone_masked": None,
        "erased_at": now,
        "updated_at": now,
        "revision": learner.revision + 1,
    }

    async def work(session: Any) -> int:
        result = await db.collection(Learner).update_one(
            {"_id": learner.id, "revision": learner.revision},
            {"$set": db.encode(updates)},
            session=session,
        )
        if result.matched_count:
            await trail.record(
                kind=EventKind.erasure,
                by=by,
                learner_id=learner.learner_id,
                detail={"reason": reason},
                session=session,
            )
        return int(result.matched_count)

    if not await db.atomic(work):
        raise Conflict(
            f"learner {learner.learner_id!r} was changed by another request; read it again"
        )
    # Evidence documents name their holder (学历证明): they go too.
    await evidence.erase_learner(learner_id=learner.learner_id)
    # The app signed in as them stops at once; no name of theirs signs in again.
    await devices.revoke_all(learner_id=learner.learner_id, reason="personal data erased")
    for name, value in updates.items():
        setattr(learner, name, value)
    return learner
