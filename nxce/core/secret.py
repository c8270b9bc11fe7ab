"""The service's secret key: encrypts id numbers and signs transcripts' codes.

`NXCE_SECRET_KEY` sets it. Unset, a random key is made once and kept in
`$NXCE_DATA_DIR/secret.key` (mode 600): losing it makes stored id numbers unreadable, so
production sets NXCE_SECRET_KEY (the same on every replica).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from pathlib import Path

from nxce.settings import Settings

log = logging.getLogger("nxce")


def secret_key(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.data_dir / "secret.key"
    if path.exists():
        return path.read_text(encoding="ascii").strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key, encoding="ascii")
    path.chmod(0o600)
    log.warning("NXCE_SECRET_KEY is not set: made one in %s; keep it with the data", path)
    return key.encode()


KEY_FILE_NAME = "secret.key"
_FINGERPRINT_LABEL = b"nxce secret key fingerprint"


def fingerprint(key: bytes) -> str:
    """Names a key without revealing it: archives record it, and a load checks that the
    key the loaded service will use is the one the data was written with."""
    return hmac.new(key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:32]


def key_file(settings: Settings) -> Path | None:
    """`secret.key` in the data directory when it holds the key in use (when
    NXCE_SECRET_KEY is unset, or the file holds the same key). None: the key comes from
    NXCE_SECRET_KEY alone, which the operator keeps. Raises KeyMissing when there is no
    key at all here (never makes one: it would not be the key the data was written with)."""
    path = settings.data_dir / KEY_FILE_NAME
    if settings.secret_key is None:
        if not path.exists():
            raise KeyMissing(
                f"there is no secret key here: NXCE_SECRET_KEY is unset and {path} does not "
                "exist. Set NXCE_SECRET_KEY (or NXCE_DATA_DIR) to the key the service uses"
            )
        return path
    if path.exists() and path.read_text(encoding="ascii").strip().encode() == secret_key(settings):
        return path
    return None


class KeyMissing(RuntimeError):
    """No secret key where one is needed; the message says what to set."""


def not_carried(settings: Settings, what: str) -> str:
    """Why `what` (a backup, a dump) refuses to go without the key."""
    return (
        f"the secret key comes from NXCE_SECRET_KEY and is not in {settings.data_dir}, so {what} "
        "cannot carry it, and without that key the stored national id numbers cannot be read. "
        "Keep NXCE_SECRET_KEY with the copy yourself and ask again without the key "
        "(`--without-secret-key`, or `without_secret_key=true` on the admin API)"
    )
