"""What an admin is shown of a learner's account (the admin's page of it): whether a
password is set, whether an activation code is outstanding. Never a code or a hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from accounts.models import Account
from nxce.core import db


def utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (MongoDB answers naive UTC ones)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Standing:
    """The state of one account, as the admin sees it."""

    has_password: bool
    password_set_at: datetime | None
    code_expires_at: datetime | None  # of an unused activation code, expired or not
    code_issued_by: str | None

    @property
    def code_outstanding(self) -> bool:
        return self.code_expires_at is not None and self.code_expires_at > db.now()


async def get(*, learner_id: str) -> Standing:
    """The state of `learner_id`'s account (no account yet: no password, no code)."""
    found = await Account.find_one(Account.learner_id == learner_id)
    if found is None:
        return Standing(False, None, None, None)
    unused = found.activation_digest is not None and found.activation_expires_at is not None
    return Standing(
        has_password=found.password_hash is not None,
        password_set_at=utc(found.password_set_at) if found.password_set_at else None,
        code_expires_at=utc(found.activation_expires_at)
        if unused and found.activation_expires_at
        else None,
        code_issued_by=found.activation_issued_by if unused else None,
    )
