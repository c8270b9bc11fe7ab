"""National id numbers (居民身份证号码, GB 11643-1999): checked, encrypted at rest, masked
for everyone but auditors, and found again by a keyed digest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date

from cryptography.fernet import Fernet, InvalidToken

from nxce.core import keys

_FORMAT = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def problem(value: str) -> str | None:
    """Why `value` is no 18-character id number, or None when it is one."""
    if not _FORMAT.match(value):
        return "must be 17 digits and a check digit (0-9 or X)"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "digits 7-14 must be a date of birth"
    if check_digit(value[:17]) != value[17]:
        return "the check digit does not match (GB 11643-1999)"
    return None


def masked(value: str) -> str:
    """The region code and the last four characters; the date of birth hidden."""
    return f"{value[:6]}{'*' * 8}{value[-4:]}"


class Vault:
    """Encrypts personal numbers (Fernet) and digests them (HMAC-SHA256) with keys derived
    from the service's secret key, each for its own purpose (nxce/core/keys.py); a
    subclass names the purposes and what it keeps."""

    what: str
    encryption: keys.Purpose
    digesting: keys.Purpose

    def __init__(self, secret: bytes) -> None:
        encryption = keys.derive(secret, self.encryption)
        self._fernet = Fernet(base64.urlsafe_b64encode(encryption))
        self._digest_key = keys.derive(secret, self.digesting)

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            raise ValueError(
                f"{self.what} cannot be decrypted: was NXCE_SECRET_KEY changed?"
            ) from None

    def digest(self, value: str) -> str:
        """The keyed digest of a (normalized) value: what a unique index holds."""
        return hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()


class IdNumberVault(Vault):
    """National id numbers: encrypted, and digested to find duplicates."""

    what = "id number"
    encryption = keys.Purpose.id_number_encryption
    digesting = keys.Purpose.id_number_digest
