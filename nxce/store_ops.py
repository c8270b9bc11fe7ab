"""Operations on the store that the command runs itself when no process holds the
embedded store, and that the running service runs for it (the admin API) when it does:
a dump of one snapshot, and the credit-ledger rebuild with its comparison."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nxce import archive
from nxce.core import embedded_medium
from nxce.core.embedded_medium import FILE_NAME, Medium
from nxce.settings import Settings

log = logging.getLogger("nxce.store_ops")

DUMPS_DIR = "dumps"
_ROWS = "SELECT collection, id, rowid FROM documents"
_BODY = "SELECT id, body, crc FROM documents WHERE rowid = ?"


# -- a dump of the running service's embedded store ---------------------------------------


def dump_snapshot(
    medium: Medium, settings: Settings, target: Path, *, without_secret_key: bool
) -> archive.Manifest:
    """An archive at `target` of the store `medium` keeps, as one snapshot while the
    service goes on writing: the data file is copied with SQLite's online backup (one read
    transaction: every commit before it, none after) to a scratch file in the data
    directory, and the archive is written from that copy's rows, each collection in `_id`
    order as `archive.dump` writes it, so both give the same files. Memory holds the ids
    of one collection, not its documents. Blocking: run it in a thread."""
    archive.check_target(target)
    key = archive.key_to_carry(settings, without_secret_key=without_secret_key)
    with tempfile.TemporaryDirectory(prefix=".dump-", dir=settings.data_dir) as scratch:
        copy = Path(scratch) / FILE_NAME
        medium.backup(copy)
        reader = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        partial = archive.start(target)
        try:
            files = [
                _write_collection(reader, partial, name, qualified)
                for name, qualified in _collections(reader, settings.database)
            ]
            return archive.finish(settings, partial, target, key, files)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        finally:
            reader.close()


def _collections(reader: sqlite3.Connection, database: str) -> list[tuple[str, str]]:
    """(name, name as the data file keeps it) of the database's collections, by name."""
    prefix = f"{database}."
    rows = reader.execute("SELECT DISTINCT collection FROM documents")
    names = sorted(row[0][len(prefix) :] for row in rows if row[0].startswith(prefix))
    return [(name, prefix + name) for name in names if archive.ours(name)]


def _sort_key(identifier: Any) -> Any:
    """How the embedded store orders `_id`s (mongomock's BSON ordering)."""
    from mongomock import filtering

    return filtering.resolve_sort_key("_id", {"_id": identifier})  # type: ignore[no-untyped-call]


def _write_collection(
    reader: sqlite3.Connection, partial: Path, name: str, qualified: str
) -> archive.Collection:
    ids = [
        (embedded_medium.decode_document(key)["_id"], rowid)
        for _, key, rowid in reader.execute(_ROWS + " WHERE collection = ?", (qualified,))
    ]
    ids.sort(key=lambda pair: _sort_key(pair[0]))
    file = archive.CollectionFile(partial, name)
    try:
        for _, rowid in ids:
            key, body, crc = reader.execute(_BODY, (rowid,)).fetchone()
            if embedded_medium.checksum(key, body) != crc:
                raise archive.ArchiveError(
                    f"a document of {name} fails its checksum in the store's copy; nothing "
                    "was dumped (the data file may be damaged: check it with a restart)"
                )
            file.add(embedded_medium.decode_document(body))
    finally:
        collection = file.close()
    return collection


def timestamped(settings: Settings) -> Path:
    """A new directory under `$NXCE_DATA_DIR/dumps/`, named by the UTC time."""
    from nxce.core.embedded_backup import timestamped as named

    return named(settings, DUMPS_DIR)


# -- the credit ledger ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """A rebuild: the unfinished recomputes it finished first, the entries the rebuilt
    ledgers hold, and how many entries differ from the ledger before."""

    finished: int
    entries: int
    changed: int


async def rebuild_credits(*, credits: Any, learner_id: str | None) -> Rebuilt:
    """Finish the recomputes left unfinished, recompute the ledger (of `learner_id`, or
    all) from statements, manual entries and reviews, and compare it with the ledger it
    replaces. On a running service, statements credited meanwhile count as changes."""
    from credits import ledger, recompute
    from credits.models import LedgerEntry

    finished = await recompute.finish_marks(credits=credits)
    query = {"learner_id": learner_id} if learner_id else {}
    before = ledger.snapshot(await LedgerEntry.find(query).to_list())
    count = await ledger.rebuild(credits=credits, learner_id=learner_id)
    after = ledger.snapshot(await LedgerEntry.find(query).to_list())
    changed = sum(1 for row in after if row not in before) + sum(
        1 for row in before if row not in after
    )
    return Rebuilt(finished=finished, entries=count, changed=changed)
