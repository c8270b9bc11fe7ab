"""Activation codes: one-time, high-entropy, expiring; stored as keyed digests.

A code is 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as
`XXXX-XXXX-XXXX`: 31^12, about 59 bits. It is kept as an HMAC-SHA256 digest (not a slow
hash: a roster of 10,000 learners gets its codes in seconds; 59 random bits cannot be
guessed offline, and online guesses are throttled like sign-ins).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12
ACTIVATION_DAYS = 30


def new_code() -> str:
    """A new code, grouped by four with hyphens."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def normalized(code: str) -> str:
    """A code as typed (any case, hyphens or spaces) as it is digested."""
    return "".join(c for c in code.upper() if c not in "- ")


def digest(key: bytes, code: str) -> str:
    """The keyed digest a code is stored as."""
    return hmac.new(key, normalized(code).encode(), hashlib.sha256).hexdigest()


def matches(keys: Sequence[bytes], code: str, stored: str) -> bool:
    """Whether `code` is the one `stored` digests under one of `keys` (the keyring: a
    code issued before a rotation still activates while its key is kept)."""
    return any([hmac.compare_digest(digest(key, code), stored) for key in keys])
