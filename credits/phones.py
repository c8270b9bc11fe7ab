"""Mobile phone numbers of learners (手机号码): checked, encrypted at rest, masked for
everyone but auditors (`138****5678`), and found again by a keyed digest — a learner may
sign in with one (accounts/), so a number belongs to one learner at most.

What a number is (ours: the notice says nothing of phones): a mainland mobile number,
11 digits starting with 1. Spaces and hyphens people type or spreadsheets keep
(`138 1234 5678`, `138-1234-5678`) are dropped first; nothing else is rewritten (a
`+86` prefix is refused, not guessed at)."""

from __future__ import annotations

import re

from credits.id_numbers import Vault
from nxce.core import keys

_PHONE = re.compile(r"^1\d{10}$")
_SEPARATORS = str.maketrans("", "", " -\u3000")
PROBLEM = "must be a mobile number: 11 digits starting with 1"


def normalized(value: str) -> str:
    """`value` without the spaces and hyphens people type inside a number."""
    return value.strip().translate(_SEPARATORS)


def problem(value: str) -> str | None:
    """Why `value` (normalized) is no mobile number, or None when it is one."""
    return None if _PHONE.match(value) else PROBLEM


def masked(value: str) -> str:
    """The first three and last four digits: `138****5678`."""
    return f"{value[:3]}****{value[-4:]}"


def shown_in_error(value: str) -> str:
    """A refused value as an error names it: a long run of digits (a mistyped number is
    still most of a number) with its middle hidden, anything else as it was (at most 20
    characters)."""
    if len(value) >= 8 and value.isdigit():
        return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"
    return value[:20]


class PhoneVault(Vault):
    """Phone numbers: encrypted, and digested for sign-in and the unique index."""

    what = "phone number"
    encryption = keys.Purpose.phone_encryption
    digesting = keys.Purpose.phone_digest

    def fields(self, value: str) -> dict[str, str]:
        """The learner's stored fields for the number `value` (normalized and valid)."""
        return {
            "phone_encrypted": self.encrypt(value),
            "phone_digest": self.digest(value),
            "phone_masked": masked(value),
        }
