"""Backups of the durable embedded store: a data directory of their own.

A backup is a directory that can be started on as it is (`NXCE_DATA_DIR=<backup> nxce
serve`): `store.sqlite3` copied with SQLite's online backup (consistent: every commit
before it, none after, while the service goes on writing), `secret.key` (the key that
reads the stored id numbers) and `clients.json` when it holds hand-overs not applied yet. It is
made under `<name>.partial` and renamed once complete and fsynced, so a directory named as
a backup is never half made.

The service makes them under `$NXCE_DATA_DIR/backups/<UTC time>/` (the admin API); the
command `nxce store backup PATH` makes one at PATH directly when no process holds the data
directory, else asks the running service and moves its backup to PATH.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nxce.core.client_handover import FILE_NAME as CLIENT_FILE_NAME
from nxce.core.embedded_medium import FILE_NAME, Medium, StoreError, fsync_directory
from nxce.core.secret import KEY_FILE_NAME, KeyMissing, key_file, not_carried
from nxce.settings import Settings

BACKUPS_DIR = "backups"
KEY_KEPT_BY_OPERATOR = "not included: the key is NXCE_SECRET_KEY, kept by the operator"


class BackupRefused(StoreError):
    """A backup that cannot be made as asked (the key, the target); nothing was written."""


@dataclass(frozen=True, slots=True)
class Backup:
    """A backup made: where, its size in bytes, the documents it holds, and whether it
    carries the secret key."""

    path: Path
    bytes: int
    documents: int
    secret_key: str


def check_target(target: Path) -> None:
    """A backup or dump goes to a path that does not exist or is an empty directory."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupRefused(
            f"{target} exists and is not an empty directory; name a new path, so nothing "
            "is overwritten"
        )


def key_to_carry(settings: Settings, *, without_secret_key: bool) -> Path | None:
    """The key file a copy of the data carries; refuses (BackupRefused, saying why) when
    the key is NXCE_SECRET_KEY alone, unless the operator said they keep it."""
    try:
        path = key_file(settings)
    except KeyMissing as missing:
        raise BackupRefused(str(missing)) from None
    if path is None and not without_secret_key:
        raise BackupRefused(not_carried(settings, "a backup"))
    return path


def timestamped(settings: Settings, under: str = BACKUPS_DIR) -> Path:
    """A new directory name under `$NXCE_DATA_DIR/<under>/` (`backups/`), named by the
    UTC time."""
    root = settings.data_dir / under
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path, n = root / stamp, 1
    while path.exists() or path.with_name(path.name + ".partial").exists():
        n += 1
        path = root / f"{stamp}-{n}"
    return path


def make(medium: Medium, settings: Settings, target: Path, *, without_secret_key: bool) -> Backup:
    """Copy the store held open by `medium` (and the key and client file) to `target`,
    a path that does not exist yet or an empty directory. Blocking: run it in a thread."""
    check_target(target)
    key = key_to_carry(settings, without_secret_key=without_secret_key)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        documents = medium.backup(partial / FILE_NAME)
        for source in (key, settings.data_dir / CLIENT_FILE_NAME):
            if source is not None and source.exists():
                shutil.copy2(source, partial / source.name)
        fsync_directory(partial)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(partial, target)
        fsync_directory(target.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    size = sum(path.stat().st_size for path in target.iterdir() if path.is_file())
    carried = "included" if key is not None else KEY_KEPT_BY_OPERATOR
    return Backup(path=target.resolve(), bytes=size, documents=documents, secret_key=carried)


def make_unheld(settings: Settings, target: Path, *, without_secret_key: bool) -> Backup:
    """A backup of a data directory no process holds: taken (so no service starts on it
    meanwhile), copied, let go. Raises StoreInUse when a process holds it."""
    check_target(target)
    medium = Medium(settings.data_dir)
    if not medium.path.exists():
        raise BackupRefused(f"{medium.path} does not exist: there is no embedded store to back up")
    key_to_carry(settings, without_secret_key=without_secret_key)
    medium.open()
    try:
        return make(medium, settings, target, without_secret_key=without_secret_key)
    finally:
        medium.close()


__all__ = ["KEY_FILE_NAME", "Backup", "BackupRefused", "check_target", "make", "make_unheld"]
