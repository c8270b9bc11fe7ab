"""The app's sign-in: a device per sign-in, access tokens, rotating refresh tokens.

A refresh token is used once: each refresh answers a new pair and the old token is spent.
A retry of the same refresh within `REFRESH_GRACE_SECONDS` of its rotation (its answer
was lost on a bad network) gets the same new pair; a spent token presented after that is
a replay (someone else holds a copy), and the device is signed out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from accounts import service
from accounts.context import Accounts
from nxce.core import admin_log, db, devices
from nxce.core.admin_log import Area
from nxce.core.app_tokens import ACCESS_SECONDS
from nxce.core.devices import Device
from nxce.core.errors import NotFound, Unauthorized

REFRESH_GRACE_SECONDS = 60
# A device neither signed in nor refreshed for this long must sign in again (our reading:
# the notice says nothing of it; an app used once a quarter keeps its sign-in).
REFRESH_IDLE_DAYS = 90
REPLAYED = "refresh token replayed"
# A learner is signed in on at most this many devices (our reading): a new sign-in signs
# out the one used longest ago beyond it, so a script signing in again and again grows
# neither the device list nor the collection without bound.
MAX_DEVICES = 20
_INVALID = "the refresh token is not valid: sign in again"


@dataclass(frozen=True)
class SignedIn:
    learner_id: str
    device_id: str
    access_token: str
    expires_in: int
    refresh_token: str


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def app_sign_in(
    *, accounts: Accounts, account: str, password: str, device: str, address: str
) -> SignedIn:
    """Sign an app in as the learner of `account` on a new device named `device`."""
    learner_id = await service.sign_in(
        accounts=accounts, account=account, password=password, address=address
    )
    refresh_token = accounts.tokens.new_refresh()
    started = await devices.start(
        learner_id=learner_id,
        name=device,
        refresh_digest=accounts.tokens.refresh_digest(refresh_token),
    )
    for stale in (await devices.active_of(learner_id=learner_id))[MAX_DEVICES:]:
        await devices.revoke(device_id=stale.device_id, reason="signed in on too many devices")
    access, expires_in = accounts.tokens.issue_access(
        learner_id=learner_id, device_id=started.device_id
    )
    return SignedIn(learner_id, started.device_id, access, expires_in, refresh_token)


def _pair(accounts: Accounts, device: Device, consumed: str, rotated_at: datetime) -> SignedIn:
    """The pair a refresh of `consumed` answers: derived from it and the rotation's time,
    so a retry within the grace window answers the same tokens."""
    access, _ = accounts.tokens.issue_access(
        learner_id=device.learner_id, device_id=device.device_id, now=rotated_at
    )
    elapsed = int(db.now().timestamp()) - int(rotated_at.timestamp())
    return SignedIn(
        learner_id=device.learner_id,
        device_id=device.device_id,
        access_token=access,
        expires_in=max(ACCESS_SECONDS - elapsed, 0),
        refresh_token=accounts.tokens.next_refresh(consumed),
    )


async def refresh(*, accounts: Accounts, refresh_token: str) -> SignedIn:
    """A new pair for `refresh_token` (401 when it is unknown, its device signed out, or
    it was spent: a replay, which signs the device out)."""
    digests = accounts.tokens.refresh_digests(refresh_token)  # under each key of the ring
    for _ in range(2):  # a second pass after losing a race with a concurrent refresh
        device = await devices.by_refresh_digest(digests=digests)
        if device is None or device.revoked_at is not None:
            raise Unauthorized(_INVALID)
        now = db.now()
        if device.refresh_digest in digests:
            if now - _utc(device.last_used_at) > timedelta(days=REFRESH_IDLE_DAYS):
                await devices.revoke(device_id=device.device_id, reason="refresh token expired")
                raise Unauthorized(_INVALID)
            new_digest = accounts.tokens.refresh_digest(accounts.tokens.next_refresh(refresh_token))
            if await devices.rotate(device=device, new_digest=new_digest, now=now):
                return _pair(accounts, device, refresh_token, now)
            continue
        rotated_at = _utc(device.rotated_at) if device.rotated_at is not None else None
        in_grace = (
            device.previous_refresh_digest in digests
            and rotated_at is not None
            and (now - rotated_at).total_seconds() <= REFRESH_GRACE_SECONDS
        )
        if in_grace and rotated_at is not None:
            return _pair(accounts, device, refresh_token, rotated_at)
        await devices.revoke(device_id=device.device_id, reason=REPLAYED)
        raise Unauthorized(_INVALID)
    raise Unauthorized(_INVALID)


async def devices_of(*, learner_id: str) -> list[Device]:
    """The devices `learner_id` is signed in on."""
    return await devices.active_of(learner_id=learner_id)


async def sign_out(*, learner_id: str, device_id: str, by: str, by_admin: bool = False) -> None:
    """Sign `learner_id`'s device out at once (404 if it is not one of theirs signed in);
    an admin's doing so (`by_admin`) is in the administrative log."""
    async with db.one_commit():
        if not await devices.revoke(
            device_id=device_id, learner_id=learner_id, reason=f"signed out by {by}"
        ):
            raise NotFound(f"no signed-in device {device_id!r} of learner {learner_id!r}")
        if by_admin:
            await admin_log.record(
                by=by,
                area=Area.accounts,
                action="device.signed_out",
                target=learner_id,
                summary=f"让学员 {learner_id} 的一台设备退出了登录（须重新登录才能同步）",
                detail={"device_id": device_id},
            )
