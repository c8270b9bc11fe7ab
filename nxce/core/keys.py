"""Every key the service derives from its secret key (`NXCE_SECRET_KEY`), in one place.

Each purpose has its own key, so a key that leaks for one purpose (a session cookie's
MAC) says nothing of another (id numbers at rest). The derivations are fixed: stored id
numbers must keep decrypting and issued transcripts keep verifying, so a purpose keeps
the construction it was first issued with. Two constructions are in use:

- `prefixed`: SHA-256 of the label followed by the secret (id numbers);
- `hmac`: HMAC-SHA256 keyed by the secret over the label (transcript and certificate
  codes, sessions, phone numbers), which is what a new purpose should use.

A `Keyring` holds the current secret key and the previous ones (rotation): every purpose
then has one key per secret key, named by the secret key's id (`Derived`).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

from nxce.core.errors import ServiceUnavailable


class Purpose(Enum):
    """What a derived key is for: (construction, label). Never change a label."""

    id_number_encryption = ("prefixed", b"nxce id numbers: encryption")
    id_number_digest = ("prefixed", b"nxce id numbers: digest")
    transcript_codes = ("hmac", b"nxce transcript verification codes v1")
    web_sessions = ("hmac", b"nxce web sessions v1")
    certificate_codes = ("hmac", b"nxce programme certificate codes v1")
    app_tokens = ("hmac", b"nxce app access tokens v1")
    refresh_tokens = ("hmac", b"nxce app refresh tokens v1")
    activation_codes = ("hmac", b"nxce activation codes v1")
    phone_encryption = ("hmac", b"nxce phone numbers: encryption v1")
    phone_digest = ("hmac", b"nxce phone numbers: digest v1")


def derive(secret: bytes, purpose: Purpose) -> bytes:
    """The 32-byte key of `purpose` under the service's secret key."""
    construction, label = purpose.value
    if construction == "prefixed":
        return hashlib.sha256(label + secret).digest()
    return hmac.new(secret, label, hashlib.sha256).digest()


KEY_ID_CHARS = 8
_FINGERPRINT_LABEL = b"nxce secret key fingerprint"


def fingerprint(secret: bytes) -> str:
    """Names a secret key without revealing it (32 hex characters): archives record it,
    and a load checks that the keys the loaded service will use are the ones the data
    was written with."""
    return hmac.new(secret, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:32]


def key_id(secret: bytes) -> str:
    """The short id of a secret key (the first 8 characters of its fingerprint), stored
    with what it encrypted or signed so a read picks the key without trying them all."""
    return fingerprint(secret)[:KEY_ID_CHARS]


class KeyNotInRing(ServiceUnavailable):
    """A record needs a secret key the service no longer holds: a 503 naming the key id
    (the service is missing a key, the client did nothing wrong)."""

    def __init__(self, what: str, kid: str) -> None:
        super().__init__(
            f"this {what} is encrypted under secret key {kid}, which is not in the keyring: "
            f"add that key to NXCE_SECRET_KEYS_PREVIOUS (or to secret.key in the data "
            f"directory) and restart, then run `nxce keys reencrypt`",
            key_id=kid,
        )
        self.key_id = kid


@dataclass(frozen=True)
class Derived:
    """One purpose's keys across the ring: (key id, derived key) pairs, the current
    key's first."""

    purpose: Purpose
    pairs: tuple[tuple[str, bytes], ...]

    @property
    def current(self) -> bytes:
        return self.pairs[0][1]

    @property
    def current_id(self) -> str:
        return self.pairs[0][0]

    @property
    def all(self) -> tuple[bytes, ...]:
        """Every key of the purpose, the current first: what a verification tries."""
        return tuple(key for _, key in self.pairs)

    def by_id(self, kid: str) -> bytes | None:
        """The key of the secret key `kid`, or None when the ring does not hold it."""
        return next((key for found, key in self.pairs if found == kid), None)


@dataclass(frozen=True)
class Keyring:
    """The current secret key (new writes, new signatures) and the previous ones still
    accepted for reading and verifying, each named by its key id."""

    secrets: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.secrets:
            raise ValueError("a keyring holds at least one secret key")
        ids = [key_id(secret) for secret in self.secrets]
        for n, kid in enumerate(ids):
            if kid in ids[:n]:
                raise ValueError(
                    f"the keyring holds secret key {kid} twice (or two keys with one id): "
                    "list each key once"
                )

    @classmethod
    def of(cls, current: bytes, *previous: bytes) -> Keyring:
        return cls((current, *previous))

    @property
    def current(self) -> bytes:
        return self.secrets[0]

    @property
    def current_id(self) -> str:
        return key_id(self.secrets[0])

    @property
    def ids(self) -> tuple[str, ...]:
        """The key ids, the current first."""
        return tuple(key_id(secret) for secret in self.secrets)

    def derived(self, purpose: Purpose) -> Derived:
        """The keys of `purpose` under every secret key of the ring."""
        return Derived(purpose, tuple((key_id(s), derive(s, purpose)) for s in self.secrets))
