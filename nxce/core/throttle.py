"""The sign-in throttle: failed authentications counted in a sliding window, in the store,
so that it holds across API replicas (one count, whichever replica a guess reaches).

Each bucket (a key from an address, and an address whatever the key) is one document of
`throttle_windows` holding the times of its latest failures, at most one more than its
limit: a failure is one atomic `$push` (with `$slice`) on an upsert, so two replicas
counting at once each add theirs, and neither is lost nor counted twice. Only failures
write; a check before the credentials are verified is one read by a unique index.

`expires_at` is the end of the window of the bucket's latest failure: MongoDB removes
the document after it (a TTL index). The embedded store does not enforce TTL indexes:
reads count only the times inside the window (an expired document counts nothing, and
the next failure's push starts it afresh), and expired documents are removed at most
once a minute by the process that records a failure.

The key is kept as a SHA-256 digest: an account name typed at a sign-in may be an id
number or a phone number, which are not kept in clear outside the learner's record.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from beanie import Document
from pymongo import ASCENDING, IndexModel, ReturnDocument

from nxce.core import db
from nxce.core.errors import Conflict, TooManyRequests

# A key that failed this often from one address is refused there, its right secret too
# (else guessing goes on); an address that failed this often (any keys: many apps share
# one carrier NAT) has its *failures* slowed down and answered 429, never a valid
# credential refused.
WINDOW_SECONDS = 300
FAILURES_PER_KEY_AND_ADDRESS = 10
FAILURES_PER_ADDRESS = 50
PENALTY_SECONDS = 1.0
_PRUNE_EVERY_SECONDS = 60.0
_ANY_KEY = ""  # the digest of the address's own bucket: no key's digest is empty


class ThrottleWindow(Document):
    """The latest failed authentications of one key from one address (`key` empty: of the
    address, whatever the key), as epoch seconds, oldest first."""

    key: str  # SHA-256 of the client key or account key, hex; "" for the address
    address: str
    times: list[float]
    expires_at: datetime

    class Settings:
        name = "throttle_windows"
        indexes = [
            IndexModel([("key", ASCENDING), ("address", ASCENDING)], unique=True, name="bucket"),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry"),
        ]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class Throttle:
    """Counts failed authentications in the store; past the limits, callers wait (429).
    `clock` answers epoch seconds (a test may stand it still or move it on)."""

    def __init__(
        self,
        penalty_seconds: float = PENALTY_SECONDS,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.penalty_seconds = penalty_seconds
        self.clock = clock
        self._pruned_at = 0.0

    @staticmethod
    def _recent(times: list[float], now: float) -> list[float]:
        return sorted(t for t in times if now - t <= WINDOW_SECONDS)

    @staticmethod
    def _too_many(oldest: float, now: float, what: str) -> TooManyRequests:
        wait = int(WINDOW_SECONDS - (now - oldest)) + 1
        return TooManyRequests(
            f"too many failed authentications {what}; retry in {wait} s", retry_after=wait
        )

    async def check(self, key: str, address: str, *, shown: str | None = None) -> None:
        """Before the credentials are checked: refuse a key that failed too often from this
        address (the key under attack), whatever secret comes with it. `shown` names the key
        in the refusal instead of the key itself (a learner's account: the key would tell
        whose a phone or id number is, and whether it is registered at all)."""
        found = await db.collection(ThrottleWindow).find_one(
            {"key": _digest(key), "address": address}, {"times": 1}
        )
        if found is None:
            return
        now = self.clock()
        recent = self._recent(found["times"], now)
        if len(recent) >= FAILURES_PER_KEY_AND_ADDRESS:
            # The key is let in again when the limit-th latest failure leaves the window.
            oldest = recent[-FAILURES_PER_KEY_AND_ADDRESS]
            named = shown if shown is not None else f"the key {key[:64]!r}"
            raise self._too_many(oldest, now, f"of {named} from {address}")

    async def failed(self, key: str, address: str) -> None:
        """Count a failure; past the address's limit, wait a moment and answer 429."""
        now = self.clock()
        await self._push(_digest(key), address, now, FAILURES_PER_KEY_AND_ADDRESS)
        times = await self._push(_ANY_KEY, address, now, FAILURES_PER_ADDRESS + 1)
        await self._prune(now)
        anywhere = self._recent(times, now)
        if len(anywhere) > FAILURES_PER_ADDRESS:
            await asyncio.sleep(self.penalty_seconds)
            what = f"from {address} (a valid key and secret are still accepted)"
            # Failures are answered 429 until the address is back at its limit.
            raise self._too_many(anywhere[-FAILURES_PER_ADDRESS - 1], now, what)

    async def _push(self, digest: str, address: str, now: float, keep: int) -> list[float]:
        """Add the failure at `now` to a bucket (created if none), keeping its `keep`
        latest; answers the bucket's times after the push."""
        update: dict[str, Any] = {
            "$push": {"times": {"$each": [now], "$slice": -keep}},
            "$max": {"expires_at": datetime.fromtimestamp(now + WINDOW_SECONDS, UTC)},
        }
        for _ in range(2):  # two first upserts at once: one of them retries as an update
            try:
                found: dict[str, Any] = await db.collection(ThrottleWindow).find_one_and_update(
                    {"key": digest, "address": address},
                    update,
                    upsert=True,
                    projection={"times": 1},
                    return_document=ReturnDocument.AFTER,
                )
                times: list[float] = found["times"]
                return times
            except db.DuplicateKeyError:
                continue
        raise Conflict(f"the failure count of {address} is busy; try again")

    async def _prune(self, now: float) -> None:
        """On the embedded store, remove expired windows (MongoDB's TTL index does it
        there), at most once a minute."""
        if db.shared() or now - self._pruned_at < _PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        moment = datetime.fromtimestamp(now, UTC)
        await db.collection(ThrottleWindow).delete_many({"expires_at": {"$lte": moment}})
