"""Accounts: activation codes, passwords, and signing in with an account name.

An account name is a learner id, an 18-character national id number, or an 11-digit phone
number (where the learner's record has one). A name that matches two learners (a learner
id that is also someone's phone number) signs in no one: never one picked at random.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from accounts import codes, passwords
from accounts.context import Accounts
from accounts.models import Account
from credits import phones
from credits.learners import get_learner
from credits.models import Learner
from nxce.core import admin_log, db, devices
from nxce.core.admin_log import AdminAction, Area
from nxce.core.errors import BadRequest, NotFound, Unauthorized, invalid

SIGN_IN_FAILED = "account or password is wrong"
ACTIVATION_FAILED = "activation code is wrong, used or expired"
_ID_NUMBER_CHARS = 18


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime


def _utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (MongoDB answers naive UTC ones)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# How a throttled account is named in the 429: alike for every name, registered or not.
THROTTLED = "this account"


def _throttle_key(account: str, learner_id: str | None) -> str:
    """The throttle counts failures per learner (whatever name they typed), and per name
    typed when it names no one; a prefix keeps both apart from client keys."""
    return f"learner:{learner_id}" if learner_id is not None else f"account:{account[:64]}"


async def issue_code(
    *, accounts: Accounts, learner_id: str, by: str, now: datetime | None = None
) -> IssuedCode:
    """A new activation code for `learner_id` (404 if no such learner), replacing any
    earlier one; the account is created if needed. The current password keeps working until
    the code is used (our reading: an admin issuing a code must not lock a learner out)."""
    learner = await get_learner(learner_id=learner_id)
    if learner.erased_at is not None:
        raise NotFound(f"no learner {learner_id!r}")
    issued = await _issue_retried(accounts, [learner_id], by, now or db.now(), logged=True)
    return issued[learner_id]


async def issue_codes(
    *, accounts: Accounts, learner_ids: list[str], by: str
) -> dict[str, IssuedCode]:
    """Activation codes for many learners at once (a roster import): one read of the
    learners, one bulk write; 404 naming the first unknown learner id."""
    wanted = list(dict.fromkeys(learner_ids))
    known = {
        raw["learner_id"]
        for raw in await db.collection(Learner)
        .find({"learner_id": {"$in": wanted}, "erased_at": None}, {"learner_id": 1})
        .to_list(None)
    }
    missing = [learner_id for learner_id in wanted if learner_id not in known]
    if missing:
        raise NotFound(
            f"no learner {missing[0]!r}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    return await _issue_retried(accounts, wanted, by, db.now())


async def _issue_retried(
    accounts: Accounts, learner_ids: list[str], by: str, now: datetime, *, logged: bool = False
) -> dict[str, IssuedCode]:
    """`_issue`, once more if another request created one of the accounts meanwhile (its
    insert then fails on the unique index; the second pass updates it instead)."""
    try:
        return await _issue(accounts, learner_ids, by, now, logged)
    except (db.DuplicateKeyError, db.BulkWriteError):
        return await _issue(accounts, learner_ids, by, now, logged)


async def _issue(
    accounts: Accounts, learner_ids: list[str], by: str, now: datetime, logged: bool
) -> dict[str, IssuedCode]:
    """New codes: the accounts that exist updated one by one (a reset), the others
    inserted in one batch (a roster's new learners). `logged`: a line of the
    administrative log for each (a roster import has its own line, with its counts)."""
    expires_at = now + timedelta(days=codes.ACTIVATION_DAYS)
    issued = {
        learner_id: IssuedCode(code=codes.new_code(), expires_at=expires_at)
        for learner_id in learner_ids
    }
    collection = db.collection(Account)
    existing = {
        raw["learner_id"]
        for raw in await collection.find(
            {"learner_id": {"$in": learner_ids}}, {"learner_id": 1}
        ).to_list(None)
    }
    new_accounts = [
        db.new_document(
            Account(
                learner_id=learner_id,
                activation_digest=codes.digest(
                    accounts.activation_keys.current, issued[learner_id].code
                ),
                activation_expires_at=expires_at,
                activation_issued_by=by,
                created_at=now,
                updated_at=now,
            )
        )
        for learner_id in learner_ids
        if learner_id not in existing
    ]
    async with db.one_commit():
        if new_accounts:
            await collection.insert_many(new_accounts, ordered=False)
        for learner_id in existing:
            code = issued[learner_id].code
            await collection.update_one(
                {"learner_id": learner_id},
                {
                    "$set": {
                        "activation_digest": codes.digest(accounts.activation_keys.current, code),
                        "activation_expires_at": expires_at,
                        "activation_issued_by": by,
                        "updated_at": now,
                    }
                },
            )
        if logged:
            lines = [_code_line(by, i, i in existing, expires_at) for i in learner_ids]
            await admin_log.record_many(lines)
    return issued


def _code_line(by: str, learner_id: str, reset: bool, expires_at: datetime) -> AdminAction:
    """The log line of a code issued (never the code): a reset when the account existed."""
    until = (_utc(expires_at) + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M（北京时间）")
    words = "重新发放激活码（密码重置），此前的激活码作废" if reset else "发放了激活码"
    return AdminAction(
        by=by,
        area=Area.accounts,
        action="activation_code.reissued" if reset else "activation_code.issued",
        target=learner_id,
        summary=f"为学员 {learner_id} {words}，有效期至 {until}",
        detail={"expires_at": _utc(expires_at).isoformat(), "reset": reset},
    )


async def resolve(*, accounts: Accounts, account: str) -> str | None:
    """The learner id an account name names, or None: no one, an erased learner, or more
    than one learner (a learner id that is also another's id number or phone)."""
    name = account.strip()
    if not name or len(name) > 64:
        return None
    found: set[str] = set()
    learner = await Learner.find_one(Learner.learner_id == name)
    if learner is not None and learner.erased_at is None:
        found.add(learner.learner_id)
    if len(name) == _ID_NUMBER_CHARS:
        matching = accounts.credits.vault.matching(name.upper())  # under any key of the ring
        by_number = await Learner.find_one({"id_number_digest": matching})
        if by_number is not None and by_number.erased_at is None:
            found.add(by_number.learner_id)
    phone = phones.normalized(name)  # 138 1234 5678, 138-1234-5678 as typed
    if phones.problem(phone) is None:
        found |= await _by_phone(accounts, phone)
    return found.pop() if len(found) == 1 else None


async def _by_phone(accounts: Accounts, phone: str) -> set[str]:
    """Learners whose recorded phone is `phone` (through its keyed digest; the unique
    index allows one at most)."""
    raws = (
        await db.collection(Learner)
        .find(
            {"phone_digest": accounts.credits.phones.matching(phone), "erased_at": None},
            {"learner_id": 1},
        )
        .to_list(2)
    )
    return {raw["learner_id"] for raw in raws}


async def _verify(accounts: Accounts, password: str, password_hash: str) -> bool:
    async with accounts.hashing():
        return await asyncio.to_thread(passwords.verify_password, password, password_hash)


async def sign_in(*, accounts: Accounts, account: str, password: str, address: str) -> str:
    """The learner id of `account` when `password` is theirs. An unknown name, an unknown
    id number, a learner without a password yet and a wrong password all answer the same
    401, after the same argon2 verification (against a dummy hash when there is no
    password); failures are throttled per learner (or name) and address (429)."""
    learner_id = await resolve(accounts=accounts, account=account)
    key = _throttle_key(account, learner_id)
    await accounts.throttle.check(key, address, shown=THROTTLED)
    found = await Account.find_one(Account.learner_id == learner_id) if learner_id else None
    stored = found.password_hash if found is not None else None
    verified = await _verify(accounts, password, stored or passwords.DUMMY_HASH)
    if learner_id is None or stored is None or not verified:
        await accounts.throttle.failed(key, address)
        raise Unauthorized(SIGN_IN_FAILED)
    return learner_id


async def account_names(*, accounts: Accounts, learner_id: str) -> list[str]:
    """The names a learner signs in with (learner id, id number, phone), for the password
    rules; never shown to anyone."""
    learner = await get_learner(learner_id=learner_id)
    names = [learner.learner_id]
    if learner.id_number_encrypted is not None:
        names.append(accounts.credits.vault.decrypt(learner.id_number_encrypted))
    if learner.phone_encrypted is not None:
        names.append(accounts.credits.phones.decrypt(learner.phone_encrypted))
    return names


async def activate(
    *, accounts: Accounts, account: str, code: str, password: str, address: str
) -> str:
    """Set the password of `account` with its activation code (which is then used up);
    400 when the code is wrong, used or expired (one answer for all three, throttled like
    sign-ins), 422 naming the password rule broken. Every device of the learner is signed
    out (a new password after a reset ends what the old one started). Answers the learner id."""
    learner_id = await resolve(accounts=accounts, account=account)
    key = _throttle_key(account, learner_id)
    await accounts.throttle.check(key, address, shown=THROTTLED)
    found = await Account.find_one(Account.learner_id == learner_id) if learner_id else None
    stored = found.activation_digest if found is not None else None
    expires_at = found.activation_expires_at if found is not None else None
    valid = (
        found is not None
        and stored is not None
        and codes.matches(accounts.activation_keys.all, code, stored)
        and expires_at is not None
        and _utc(expires_at) > db.now()
    )
    if not valid or learner_id is None:
        await accounts.throttle.failed(key, address)
        raise BadRequest(ACTIVATION_FAILED)
    names = [account.strip(), *await account_names(accounts=accounts, learner_id=learner_id)]
    passwords.check_password(password, account_names=names)
    password_hash = await asyncio.to_thread(passwords.hash_password, password)
    now = db.now()
    result = await db.collection(Account).update_one(
        {"learner_id": learner_id, "activation_digest": stored},
        {
            "$set": {
                "password_hash": password_hash,
                "password_set_at": now,
                "activation_digest": None,
                "activation_expires_at": None,
                "updated_at": now,
            }
        },
    )
    if not result.modified_count:  # the same code used at the same moment elsewhere
        raise BadRequest(ACTIVATION_FAILED)
    await devices.revoke_all(learner_id=learner_id, reason="password set with an activation code")
    return learner_id


async def change_password(
    *,
    accounts: Accounts,
    learner_id: str,
    old: str,
    new: str,
    address: str,
    keep_device: str | None = None,
) -> None:
    """A signed-in learner's new password, the current one required (422 naming `old` when
    it is wrong, throttled like sign-ins). Every other device is signed out."""
    key = _throttle_key(learner_id, learner_id)
    await accounts.throttle.check(key, address, shown=THROTTLED)
    found = await Account.find_one(Account.learner_id == learner_id)
    stored = found.password_hash if found is not None else None
    verified = await _verify(accounts, old, stored or passwords.DUMMY_HASH)
    if stored is None or not verified:
        await accounts.throttle.failed(key, address)
        raise invalid("old", "is not the current password")
    names = await account_names(accounts=accounts, learner_id=learner_id)
    passwords.check_password(new, account_names=names, field="new")
    password_hash = await asyncio.to_thread(passwords.hash_password, new)
    now = db.now()
    await db.collection(Account).update_one(
        {"learner_id": learner_id},
        {"$set": {"password_hash": password_hash, "password_set_at": now, "updated_at": now}},
    )
    for device in await devices.active_of(learner_id=learner_id):
        if device.device_id != keep_device:
            await devices.revoke(device_id=device.device_id, reason="password changed")


async def password_hash_of(*, learner_id: str) -> str | None:
    """The current password hash of a learner (the web session keeps a digest of it, so a
    changed password ends other sessions), None without a password."""
    found = await Account.find_one(Account.learner_id == learner_id)
    return found.password_hash if found is not None else None
