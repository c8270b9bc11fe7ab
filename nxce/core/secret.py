"""The service's secret keys: they encrypt id numbers and phones and sign transcripts'
codes, sessions and tokens (nxce/core/keys.py derives a key per purpose).

The keyring is the current key (new writes and signatures) and the previous keys still
accepted for reading and verifying, after a rotation:

- `NXCE_SECRET_KEY` sets the current key and `NXCE_SECRET_KEYS_PREVIOUS` the previous ones
  (separated by commas or new lines); the same on every replica;
- unset, the ring is kept in `$NXCE_DATA_DIR/secret.key` (mode 600), one key a line, the
  current first. A random key is made there once; `nxce keys rotate` puts a new one in
  front. Losing it makes stored id numbers unreadable, so production sets the variables.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from pathlib import Path

from nxce.core.keys import Keyring, fingerprint, key_id
from nxce.settings import Settings

__all__ = ["Keyring", "fingerprint", "key_id", "keyring", "secret_key"]

log = logging.getLogger("nxce")

KEY_FILE_NAME = "secret.key"
_SEPARATORS = re.compile(r"[,\n]")


def new_secret() -> str:
    """A new random secret key (64 URL-safe characters: 384 bits)."""
    return secrets.token_urlsafe(48)


def parse_keys(text: str) -> list[bytes]:
    """The keys of a list separated by commas or new lines (a key holds neither; spaces
    around one are dropped)."""
    return [part.strip().encode() for part in _SEPARATORS.split(text) if part.strip()]


def read_ring_file(path: Path) -> Keyring:
    """The keyring kept in `path`: one key a line, the current first."""
    found = [line.strip().encode() for line in path.read_text(encoding="ascii").splitlines()]
    found = [key for key in found if key]
    if not found:
        raise KeyMissing(f"{path} holds no key: it should hold the service's secret keys")
    try:
        return Keyring(tuple(found))
    except ValueError as wrong:
        raise KeyMissing(f"{path}: {wrong}") from None


def write_ring_file(path: Path, ring: Keyring) -> None:
    """Write `ring` to `path` (mode 600 from the start), replacing what was there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write("".join(secret.decode("ascii") + "\n" for secret in ring.secrets))
        file.flush()
        os.fsync(file.fileno())
    os.chmod(partial, 0o600)
    os.replace(partial, path)


def _from_settings(settings: Settings) -> Keyring | None:
    """The ring the variables give, or None when NXCE_SECRET_KEY is unset."""
    previous = settings.secret_keys_previous
    if settings.secret_key is None:
        if previous is not None and parse_keys(previous.get_secret_value()):
            raise KeyMissing(
                "NXCE_SECRET_KEYS_PREVIOUS is set but NXCE_SECRET_KEY is not: set the current "
                "key too, or keep the whole ring in secret.key in the data directory"
            )
        return None
    current = settings.secret_key.get_secret_value().encode()  # as given: keys derive from it
    if not current.strip():
        raise KeyMissing("NXCE_SECRET_KEY is set but empty")
    older = parse_keys(previous.get_secret_value()) if previous is not None else []
    try:
        return Keyring((current, *older))
    except ValueError as wrong:
        raise KeyMissing(f"NXCE_SECRET_KEY and NXCE_SECRET_KEYS_PREVIOUS: {wrong}") from None


def keyring(settings: Settings) -> Keyring:
    """The service's keyring (made once in the data directory when nothing sets one)."""
    given = _from_settings(settings)
    if given is not None:
        return given
    path = settings.data_dir / KEY_FILE_NAME
    if path.exists():
        return read_ring_file(path)
    ring = Keyring.of(new_secret().encode())
    write_ring_file(path, ring)
    log.warning("NXCE_SECRET_KEY is not set: made one in %s; keep it with the data", path)
    return ring


def check(settings: Settings) -> None:
    """Raise KeyMissing (saying what to set) when the keyring the settings give is wrong;
    makes nothing (a missing secret.key is made at the start, as `keyring` does)."""
    if _from_settings(settings) is None and (settings.data_dir / KEY_FILE_NAME).exists():
        read_ring_file(settings.data_dir / KEY_FILE_NAME)


def secret_key(settings: Settings) -> bytes:
    """The current secret key."""
    return keyring(settings).current


def key_file(settings: Settings) -> Path | None:
    """`secret.key` in the data directory when it holds the keyring in use (when
    NXCE_SECRET_KEY is unset, or the file holds the same ring). None: the keys come from
    the variables alone, which the operator keeps. Raises KeyMissing when there is no key
    at all here (never makes one: it would not be the key the data was written with)."""
    path = settings.data_dir / KEY_FILE_NAME
    given = _from_settings(settings)
    if given is None:
        if not path.exists():
            raise KeyMissing(
                f"there is no secret key here: NXCE_SECRET_KEY is unset and {path} does not "
                "exist. Set NXCE_SECRET_KEY (or NXCE_DATA_DIR) to the key the service uses"
            )
        read_ring_file(path)
        return path
    if path.exists() and read_ring_file(path) == given:
        return path
    return None


class KeyMissing(RuntimeError):
    """No secret key where one is needed; the message says what to set."""


def not_carried(settings: Settings, what: str) -> str:
    """Why `what` (a backup, a dump) refuses to go without the key."""
    return (
        "the secret key comes from NXCE_SECRET_KEY (and the previous keys from "
        f"NXCE_SECRET_KEYS_PREVIOUS), not from {settings.data_dir}, so {what} cannot carry "
        "them, and without them the stored national id numbers cannot be read. Keep those "
        "variables with the copy yourself and ask again without the key "
        "(`--without-secret-key`, or `without_secret_key=true` on the admin API)"
    )
