"""The indexes of a durable embedded store's large collections, kept across a clean stop.

Building the indexes of a large collection reads and decodes every document (about a
minute for a million statements on two cores); most of a restart would be spent there.
When the service stops cleanly, after its last commit, the keys and indexes of each
compact collection (`embedded_compact`) are written to `indexes.snapshot` beside the data
file, and the data file records the snapshot's token (meta `snapshot`). The next start
uses the snapshot only when the data file names the same token, and removes the token
from the data file before it takes any write: a snapshot is therefore used only over
exactly the data it was taken from. Any other case (a kill, a failed commit, a snapshot
missing, truncated or written by another version) falls back to reading every document,
which is always right, only slower.

The snapshot is the service's own file in its own data directory (whoever can change it
can change the data file too); it is a pickle of plain containers, `bson` ids, arrays and
sets, checked against a SHA-256 of its bytes before it is read.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("nxce.core.embedded_snapshot")

FILE_NAME = "indexes.snapshot"
FORMAT = b"nxce-index-snapshot-1\n"  # a change of the indexes' shape changes this


@dataclass
class Taken:
    """One collection as the snapshot holds it: its document keys in the order the
    medium holds them, and its index state (`HashIndexes.state()`), if built."""

    keys: list[Any]
    indexes: dict[str, Any] | None


def new_token() -> str:
    return secrets.token_hex(16)


def write(directory: Path, token: str, collections: dict[str, Taken]) -> None:
    """Write the snapshot of `collections` (by medium name) under `token`, durably."""
    started = time.perf_counter()
    payload = pickle.dumps((token, collections), protocol=pickle.HIGHEST_PROTOCOL)
    path = directory / FILE_NAME
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        out.write(FORMAT)
        out.write(hashlib.sha256(payload).digest())
        out.write(payload)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
    log.info(
        "embedded store: indexes of %s kept for the next start (%.1f MB, %.2f s)",
        ", ".join(sorted(collections)),
        len(payload) / 1e6,
        time.perf_counter() - started,
    )


def read(directory: Path, token: str | None) -> dict[str, Taken] | None:
    """The snapshot taken under `token` (the one the data file names), or None when there
    is none that can be used; says why in the log."""
    path = directory / FILE_NAME
    if token is None or not path.exists():
        return None
    try:
        data = path.read_bytes()
        digest, payload = data[len(FORMAT) : len(FORMAT) + 32], data[len(FORMAT) + 32 :]
        if not data.startswith(FORMAT) or hashlib.sha256(payload).digest() != digest:
            log.warning("%s is of another version or damaged: indexes are rebuilt", path)
            return None
        # The service's own file, its bytes checked against their digest (see the module).
        taken_token, collections = pickle.loads(payload)  # noqa: S301
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        log.warning("%s cannot be read (%s): indexes are rebuilt", path, error)
        return None
    if taken_token != token:
        log.info("%s is older than the data file: indexes are rebuilt", path)
        return None
    found: dict[str, Taken] = collections
    return found


def remove(directory: Path) -> None:
    (directory / FILE_NAME).unlink(missing_ok=True)
