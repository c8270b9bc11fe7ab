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
from nxce.core.errors import ServiceUnavailable

_FORMAT = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_KEY_ID_END = ":"  # a Fernet token (URL-safe base64) holds none


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
    from the service's secret keys, each for its own purpose (nxce/core/keys.py); a
    subclass names the purposes and what it keeps.

    Across a rotation (a keyring): a value is encrypted under the current key and stored
    as `<key id>:<token>`, so a read picks its key; one stored before key ids (a bare
    token) is read with whichever key of the ring opens it. A value is digested under the
    current key for writes; a lookup matches its digest under every key of the ring
    (`matching`), until `nxce keys reencrypt` has re-digested every record."""

    what: str
    encryption: keys.Purpose
    digesting: keys.Purpose

    def __init__(self, ring: keys.Keyring) -> None:
        encryption = ring.derived(self.encryption)
        self._fernets = {
            kid: Fernet(base64.urlsafe_b64encode(key)) for kid, key in encryption.pairs
        }
        self.key_id = encryption.current_id
        self._digesting = ring.derived(self.digesting)

    def encrypt(self, value: str) -> str:
        token = self._fernets[self.key_id].encrypt(value.encode()).decode("ascii")
        return f"{self.key_id}{_KEY_ID_END}{token}"

    @staticmethod
    def key_of(stored: str) -> str | None:
        """The key id a stored value names, or None when it was stored before key ids."""
        kid, end, _ = stored.partition(_KEY_ID_END)
        return kid if end else None

    def decrypt(self, stored: str) -> str:
        """The value of `stored`; a 503 naming the key id when the ring lacks its key."""
        kid, end, token = stored.partition(_KEY_ID_END)
        if not end:
            return self._decrypt_unlabelled(stored)
        fernet = self._fernets.get(kid)
        if fernet is None:
            raise keys.KeyNotInRing(self.what, kid)
        try:
            return fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            raise ServiceUnavailable(
                f"a stored {self.what} does not decrypt under its key {kid}: the record was "
                "altered in the store"
            ) from None

    def _decrypt_unlabelled(self, token: str) -> str:
        for fernet in self._fernets.values():
            try:
                return fernet.decrypt(token.encode("ascii")).decode()
            except InvalidToken:
                continue
        raise ServiceUnavailable(
            f"a stored {self.what} (written before key ids were recorded) decrypts under no "
            f"key of the ring ({', '.join(self._fernets)}): add the secret key it was "
            "written with to NXCE_SECRET_KEYS_PREVIOUS (or secret.key) and restart"
        )

    def digest(self, value: str) -> str:
        """The keyed digest of a (normalized) value under the current key: what a write
        stores in the unique index."""
        return self._digest(self._digesting.current, value)

    def digests(self, value: str) -> list[str]:
        """The digests of `value` under every key of the ring, the current first."""
        return [self._digest(key, value) for key in self._digesting.all]

    def previous_digests(self, value: str) -> list[str]:
        """The digests of `value` under the ring's previous keys (none without a rotation):
        what the unique index, which holds current digests, cannot see."""
        return self.digests(value)[1:]

    def matching(self, value: str) -> dict[str, list[str]]:
        """A query on a digest field that finds `value` digested under any key of the ring
        (a record not yet re-keyed after a rotation is found too)."""
        return {"$in": self.digests(value)}

    @staticmethod
    def _digest(key: bytes, value: str) -> str:
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class IdNumberVault(Vault):
    """National id numbers: encrypted, and digested to find duplicates."""

    what = "id number"
    encryption = keys.Purpose.id_number_encryption
    digesting = keys.Purpose.id_number_digest
