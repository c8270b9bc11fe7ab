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
    """Makes codes with the key derived from the current secret key, and checks them
    with the key of every secret key in the ring: a transcript issued before a rotation
    keeps verifying while its key is kept (a code printed on paper names no key, and a
    ring holds a few keys: each is tried)."""

    def __init__(self, ring: keys.Keyring) -> None:
        self._keys = ring.derived(keys.Purpose.transcript_codes)

    def code(self, summary: dict[str, Any], digest: str) -> str:
        return self._code(self._keys.current, summary, digest)

    def genuine(self, code: str, summary: dict[str, Any], digest: str) -> bool:
        found = [hmac.compare_digest(code, self._code(k, summary, digest)) for k in self._keys.all]
        return any(found)

    @staticmethod
    def _code(key: bytes, summary: dict[str, Any], digest: str) -> str:
        content = canonical({"summary": summary, "content_sha256": digest})
        mac = hmac.new(key, content, hashlib.sha256)
        return base64.b32encode(mac.digest()).decode("ascii")[:LENGTH]


def normalise(code: str) -> str | None:
    """A code as typed from paper (spaces, dashes, lower case), or None when it cannot be
    one."""
    cleaned = re.sub(r"[\s-]", "", code).upper()
    return cleaned if PATTERN.match(cleaned) else None


def grouped(code: str) -> str:
    """The code in groups of four, for reading aloud and typing."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
