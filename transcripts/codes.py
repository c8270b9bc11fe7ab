"""Verification codes: a keyed hash (HMAC-SHA256) of what a transcript certifies.

The code covers the summary shown at `GET /verify/{code}` (issue time included) and the
SHA-256 of the full canonical content, so neither a forged code nor an edited record in
the store passes. 24 base32 characters carry 120 bits: not guessable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any

from nxce.core import keys

LENGTH = 24
PATTERN = re.compile(rf"^[A-Z2-7]{{{LENGTH}}}$")


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that codes and digests are taken over."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def content_digest(content: dict[str, Any]) -> str:
    """SHA-256 of a transcript's content without its code and link."""
    bare = {k: v for k, v in content.items() if k not in ("verification_code", "verify_url")}
    return hashlib.sha256(canonical(bare)).hexdigest()


class Signer:
    """Makes and checks codes with a key derived from the service's secret key."""

    def __init__(self, secret_key: bytes) -> None:
        self._key = keys.derive(secret_key, keys.Purpose.transcript_codes)

    def code(self, summary: dict[str, Any], digest: str) -> str:
        mac = hmac.new(
            self._key, canonical({"summary": summary, "content_sha256": digest}), hashlib.sha256
        )
        return base64.b32encode(mac.digest()).decode("ascii")[:LENGTH]

    def genuine(self, code: str, summary: dict[str, Any], digest: str) -> bool:
        return hmac.compare_digest(code, self.code(summary, digest))


def normalise(code: str) -> str | None:
    """A code as typed from paper (spaces, dashes, lower case), or None when it cannot be
    one."""
    cleaned = re.sub(r"[\s-]", "", code).upper()
    return cleaned if PATTERN.match(cleaned) else None


def grouped(code: str) -> str:
    """The code in groups of four, for reading aloud and typing."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
