"""Learners' passwords: the rules a new one must meet, and argon2id hashes (argon2-cffi).

The rules are ours (the notice says nothing of passwords): 10 to 128 characters, not all
one character, and not the account's names (learner id, id number, phone), nor containing
one, compared without regard to case.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from nxce.core.errors import invalid

MIN_CHARS = 10
MAX_CHARS = 128
# OWASP's argon2id parameters (19 MiB, 2 passes, 1 lane): a sign-in costs tens of
# milliseconds of one core, and a machine with a few cores serves many at once.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the account has no password (unknown, or not yet activated), so
# every failed sign-in takes as long as a wrong password.
DUMMY_HASH = _HASHER.hash("nxce: no account has this password")


def check_password(password: str, *, account_names: list[str], field: str = "password") -> None:
    """422 naming the rule `password` breaks, if any."""
    if len(password) < MIN_CHARS:
        raise invalid(field, f"must have at least {MIN_CHARS} characters, got {len(password)}")
    if len(password) > MAX_CHARS:
        raise invalid(field, f"must have at most {MAX_CHARS} characters, got {len(password)}")
    if len(set(password)) == 1:
        raise invalid(field, "must not be one character repeated")
    folded = password.casefold()
    for name in account_names:
        if name and name.casefold() in folded:
            raise invalid(
                field, "must not be, or contain, the account's learner id, id number or phone"
            )


def hash_password(password: str) -> str:
    """The argon2id hash of `password` (salted; parameters in the hash)."""
    return _HASHER.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches `password_hash`."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash was made with other parameters than today's."""
    return _HASHER.check_needs_rehash(password_hash)
