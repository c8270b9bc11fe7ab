"""The service's secret key: encrypts id numbers and signs transcripts' codes.

`NXCE_SECRET_KEY` sets it. Unset, a random key is made once and kept in
`$NXCE_DATA_DIR/secret.key` (mode 600): losing it makes stored id numbers unreadable, so
production sets NXCE_SECRET_KEY (the same on every replica).
"""

from __future__ import annotations

import logging
import secrets

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
