"""Every key the service derives from its secret key (`NXCE_SECRET_KEY`), in one place.

Each purpose has its own key, so a key that leaks for one purpose (a session cookie's
MAC) says nothing of another (id numbers at rest). The derivations are fixed: stored id
numbers must keep decrypting and issued transcripts keep verifying, so a purpose keeps
the construction it was first issued with. Two constructions are in use:

- `prefixed`: SHA-256 of the label followed by the secret (id numbers);
- `hmac`: HMAC-SHA256 keyed by the secret over the label (transcript and certificate
  codes, sessions, phone numbers), which is what a new purpose should use.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum


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
