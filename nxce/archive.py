"""`nxce store dump` and `nxce store load`: the store as a documented, versioned archive.

An archive is a directory:

- `manifest.json`: `format` (`nxce-archive`), `version` (1), `created_at`, the service's
  `service_version`, the `source` (`embedded` or `mongodb`) and its `database`, the
  `secret_key` (the current key's `fingerprint`, the `ring`: the fingerprints of every
  key of the keyring, current first, and its file and SHA-256 when included), and
  `collections`: for each, its `name`, `file`, `documents` and the file's `sha256`;
- one file per collection, `<name>.jsonl`: MongoDB Extended JSON v2, canonical mode, one
  document a line in `_id` order (UUIDs as binary subtype 4);
- `secret.key` when the keyring that reads the stored id numbers is in the data directory.

The same code reads and writes the embedded store and MongoDB (through their clients), so
an archive moves a deployment from one to the other and back. A load checks the whole
archive (format, version, every file's hash and count, every line, and that every migration
its store records is one this release knows, since the start refuses any other) and the
target (empty; its key the archive's) before writing anything, inserts in batches, then
starts Beanie on the target as the service does (indexes, migrations); when a batch or that
start fails, it removes what it inserted and the key it installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import json_util
from bson.binary import UuidRepresentation
from bson.errors import BSONError
from bson.json_util import CANONICAL_JSON_OPTIONS

from nxce import __version__
from nxce.core import db, migrations
from nxce.core.embedded_medium import fsync_directory
from nxce.core.secret import (
    KEY_FILE_NAME,
    KeyMissing,
    Keyring,
    fingerprint,
    key_file,
    keyring,
    not_carried,
    read_ring_file,
)
from nxce.settings import Settings

FORMAT = "nxce-archive"
VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000
JSON_OPTIONS = CANONICAL_JSON_OPTIONS.with_options(
    uuid_representation=UuidRepresentation.STANDARD, tz_aware=True
)
# A collection's name, and so its file's: no path separators, no leading dot.
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$")


class ArchiveError(Exception):
    """The archive or the target cannot be used; the message says which and why. Nothing
    was written to the target."""


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    file: str
    documents: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    created_at: str
    service_version: str
    source: str
    database: str
    key_fingerprint: str
    key_ring: tuple[str, ...]  # fingerprints of the keyring, current first
    key_file: str | None
    key_sha256: str | None
    collections: tuple[Collection, ...]

    def as_json(self) -> dict[str, Any]:
        key: dict[str, Any] = {
            "fingerprint": self.key_fingerprint,
            "ring": list(self.key_ring),
            "included": False,
        }
        if self.key_file is not None:
            key |= {"included": True, "file": self.key_file, "sha256": self.key_sha256}
        return {
            "format": FORMAT,
            "version": VERSION,
            "created_at": self.created_at,
            "service_version": self.service_version,
            "source": self.source,
            "database": self.database,
            "secret_key": key,
            "collections": [
                {"name": c.name, "file": c.file, "documents": c.documents, "sha256": c.sha256}
                for c in self.collections
            ],
        }


def line(document: dict[str, Any]) -> str:
    """One document as a line of the archive."""
    return json_util.dumps(document, json_options=JSON_OPTIONS)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for piece in iter(lambda: file.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


# -- dump -------------------------------------------------------------------------------


def check_target(target: Path) -> None:
    """An archive is written to a path that does not exist or is an empty directory."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ArchiveError(
            f"{target} exists and is not an empty directory; name a new path, so nothing "
            "is overwritten"
        )


class CollectionFile:
    """One collection's file of an archive being written: a document a line."""

    def __init__(self, directory: Path, name: str) -> None:
        self.name = name
        self.path = directory / f"{name}.jsonl"
        self._file = self.path.open("w", encoding="utf-8")
        self.count = 0

    def add(self, document: dict[str, Any]) -> None:
        self._file.write(line(document) + "\n")
        self.count += 1

    def close(self) -> Collection:
        """The file made durable and described for the manifest."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return Collection(self.name, self.path.name, self.count, _sha256(self.path))


def key_to_carry(settings: Settings, *, without_secret_key: bool) -> Path | None:
    """The key file an archive carries; ArchiveError when there is no key here, or when
    it is NXCE_SECRET_KEY alone and the operator did not say they keep it."""
    try:
        key = key_file(settings)
    except KeyMissing as missing:
        raise ArchiveError(str(missing)) from None
    if key is None and not without_secret_key:
        raise ArchiveError(not_carried(settings, "a dump"))
    return key


def start(target: Path) -> Path:
    """The directory an archive for `target` is built in (renamed by `finish`)."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    return partial


def finish(
    settings: Settings, partial: Path, target: Path, key: Path | None, files: list[Collection]
) -> Manifest:
    """Copy the key, write the manifest last, and rename the complete archive to
    `target`."""
    if key is not None:
        shutil.copy2(key, partial / KEY_FILE_NAME)
    ring = keyring(settings)
    manifest = Manifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        service_version=__version__,
        source="embedded" if settings.embedded else "mongodb",
        database=settings.database,
        key_fingerprint=fingerprint(ring.current),
        key_ring=tuple(fingerprint(secret) for secret in ring.secrets),
        key_file=KEY_FILE_NAME if key is not None else None,
        key_sha256=_sha256(partial / KEY_FILE_NAME) if key is not None else None,
        collections=tuple(files),
    )
    text = json.dumps(manifest.as_json(), ensure_ascii=False, indent=2) + "\n"
    (partial / MANIFEST).write_text(text, encoding="utf-8")
    fsync_directory(partial)
    if target.exists():
        target.rmdir()  # empty, checked before
    os.replace(partial, target)
    fsync_directory(target.parent)
    return manifest


async def dump(
    database: Any, settings: Settings, target: Path, *, without_secret_key: bool
) -> Manifest:
    """Write every collection of `database` to a new archive at `target` (built beside it
    and renamed once complete). Each collection is read in `_id` order; the archive is
    one snapshot only when nothing writes meanwhile (a store no process holds, or
    `nxce.store_ops.dump_snapshot` on the running service)."""
    check_target(target)
    key = key_to_carry(settings, without_secret_key=without_secret_key)
    partial = start(target)
    try:
        files = []
        for name in sorted(n for n in await database.list_collection_names() if ours(n)):
            file = CollectionFile(partial, name)
            try:
                async for document in database[name].find({}, sort=[("_id", 1)]):
                    file.add(document)
            finally:
                files.append(file.close())
        return finish(settings, partial, target, key, files)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def ours(name: str) -> bool:
    return not name.startswith("system.")


# -- reading an archive -----------------------------------------------------------------


def _field(raw: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = raw.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ArchiveError(f"{where}: {name} must be a {kind.__name__}, got {value!r}")
    return value


def _read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.is_file():
        raise ArchiveError(f"{source} is not an nxce archive: it has no {MANIFEST}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise ArchiveError(f"{path} is not JSON: {error}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        got = raw.get("format") if isinstance(raw, dict) else raw
        raise ArchiveError(f"{path}: format must be {FORMAT!r}, got {got!r}")
    if raw.get("version") != VERSION:
        raise ArchiveError(
            f"{path}: archive version {raw.get('version')!r}; this service "
            f"({__version__}) reads version {VERSION} only"
        )
    return raw


def _collection(raw: Any, where: str) -> Collection:
    if not isinstance(raw, dict):
        raise ArchiveError(f"{where}: each collection must be an object, got {raw!r}")
    name = _field(raw, "name", str, where)
    if not NAME.match(name) or raw.get("file") != f"{name}.jsonl":
        raise ArchiveError(
            f"{where}: collection {name!r} must be a plain name with its file {name}.jsonl, "
            f"got file {raw.get('file')!r}"
        )
    documents = _field(raw, "documents", int, where)
    return Collection(name, raw["file"], documents, _field(raw, "sha256", str, where))


def _check_file(source: Path, collection: Collection) -> None:
    """The file is there, hashes as the manifest says, holds that many documents, each
    line Extended JSON of a document with an `_id`."""
    path = source / collection.file
    if not path.is_file():
        raise ArchiveError(f"{path} is missing: the manifest lists it")
    if _sha256(path) != collection.sha256:
        raise ArchiveError(
            f"{path} does not match its SHA-256 in the manifest: the archive is damaged or "
            "was changed; nothing was loaded"
        )
    count = 0
    for number, document in enumerate(_documents(path), start=1):
        if "_id" not in document:
            raise ArchiveError(f"{path}, line {number}: a document without _id")
        count = number
    if count != collection.documents:
        raise ArchiveError(
            f"{path} holds {count} documents; the manifest says {collection.documents}"
        )


# What a damaged line may raise while decoded: bad UTF-8 and JSON (ValueError), a wrong
# Extended JSON value (TypeError, bson's own errors: an ObjectId, a date out of range; a
# decimal's ArithmeticError), a nesting too deep to decode (RecursionError).
_UNDECODABLE = (ValueError, TypeError, ArithmeticError, RecursionError, BSONError)


def _documents(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            try:
                document = json_util.loads(raw.decode("utf-8"), json_options=JSON_OPTIONS)
            except _UNDECODABLE as error:
                raise ArchiveError(f"{path}, line {number}: not Extended JSON: {error}") from None
            if not isinstance(document, dict):
                raise ArchiveError(f"{path}, line {number}: not a document")
            yield document


def _check_migrations(source: Path, collections: tuple[Collection, ...], written_by: Any) -> None:
    """Every migration the archive's store records is one this release knows.

    The start refuses a store that records any other (`migrations.check_known`: it was
    written by a newer release); loaded, such an archive would give a store no service of
    this release starts on, so it is refused here, before anything is written. A record
    the start could not even read (an `_id` that is not a name, an `applied_at` that is
    not a date) is refused as damaged."""
    from nxce.app import MIGRATIONS

    listed = next((c for c in collections if c.name == migrations.COLLECTION), None)
    if listed is None:  # a store no service has started on records none
        return
    path = source / listed.file
    known = {name for name, _ in MIGRATIONS}
    unknown: list[str] = []
    for number, record in enumerate(_documents(path), start=1):
        name, applied = record["_id"], record.get("applied_at")
        if not isinstance(name, str) or (applied is not None and not isinstance(applied, datetime)):
            raise ArchiveError(
                f"{path}, line {number}: a migration record must be a name with the date it "
                f"was applied, got _id {name!r}, applied_at {applied!r}"
            )
        if name not in known:
            unknown.append(name)
    if not unknown:
        return
    # Our reading: the manifest's service_version is the release that wrote the archive,
    # so that release (or a later one, which knows every earlier name) can load it.
    release = f"nxce {written_by}" if isinstance(written_by, str) and written_by else None
    raise ArchiveError(
        f"{source} was written by {release or 'a newer release'}: its store records "
        f"{len(unknown)} migration(s) this release (nxce {__version__}) does not know: "
        f"{', '.join(unknown)}; load it with {release or 'the release that wrote it'} or "
        "newer (a service of this release would refuse to start on it)"
    )


def read(source: Path) -> Manifest:
    """The archive at `source`, checked whole: format, version, every file's hash, count
    and lines, the migrations its store records (each known to this release), the key
    file's hash. Raises ArchiveError naming what is wrong."""
    raw = _read_manifest(source)
    where = str(source / MANIFEST)
    listed = raw.get("collections")
    if not isinstance(listed, list):
        raise ArchiveError(f"{where}: collections must be a list, got {listed!r}")
    collections = tuple(_collection(entry, where) for entry in listed)
    if len({c.name for c in collections}) != len(collections):
        raise ArchiveError(f"{where}: a collection is listed twice")
    for collection in collections:
        _check_file(source, collection)
    _check_migrations(source, collections, raw.get("service_version"))
    key = raw.get("secret_key")
    if not isinstance(key, dict):
        raise ArchiveError(f"{where}: secret_key must be an object, got {key!r}")
    key_name = KEY_FILE_NAME if key.get("included") is True else None
    if key_name is not None:
        path = source / key_name
        if not path.is_file() or _sha256(path) != key.get("sha256"):
            raise ArchiveError(f"{path} is missing or does not match its SHA-256")
    current = _field(key, "fingerprint", str, where)
    ring = key.get("ring", [current])  # archives before the keyring name one key
    if not isinstance(ring, list) or not all(isinstance(f, str) for f in ring) or not ring:
        raise ArchiveError(f"{where}: secret_key.ring must be a list of fingerprints, got {ring!r}")
    return Manifest(
        created_at=str(raw.get("created_at")),
        service_version=str(raw.get("service_version")),
        source=str(raw.get("source")),
        database=str(raw.get("database")),
        key_fingerprint=current,
        key_ring=tuple(ring),
        key_file=key_name,
        key_sha256=key.get("sha256") if key_name else None,
        collections=collections,
    )


# -- load -------------------------------------------------------------------------------


def _lacking(manifest: Manifest, ring: Keyring) -> list[str]:
    """The archive's keys (fingerprints) that `ring` does not hold."""
    held = {fingerprint(secret) for secret in ring.secrets}
    return [f for f in manifest.key_ring if f not in held]


def _named(fingerprints: list[str]) -> str:
    return ", ".join(f"{f[:8]} (fingerprint {f})" for f in fingerprints)


def key_plan(
    manifest: Manifest, source: Path, settings: Settings, *, replace: bool = False
) -> Path | None:
    """The key file to copy into the data directory (None: nothing to copy), so that the
    loaded service reads the archive's id numbers with the archive's keys; raises
    ArchiveError naming the keys missing when the keyring it would use lacks one of the
    archive's (a different `secret.key` in the data directory is set aside for the
    archive's with `replace`). A ring that holds the archive's keys and more is fine."""
    if settings.secret_key is not None:
        try:
            lacking = _lacking(manifest, keyring(settings))
        except KeyMissing as wrong:
            raise ArchiveError(str(wrong)) from None
        if lacking:
            raise ArchiveError(
                "NXCE_SECRET_KEY and NXCE_SECRET_KEYS_PREVIOUS lack keys this archive was "
                f"written with: {_named(lacking)}; the loaded id numbers could not be read. "
                "Add them (the archive's current key as NXCE_SECRET_KEY or a previous key)"
            )
        return None
    existing = settings.data_dir / KEY_FILE_NAME
    if existing.exists():
        try:
            lacking = _lacking(manifest, read_ring_file(existing))
        except KeyMissing as wrong:
            raise ArchiveError(str(wrong)) from None
        if not lacking:
            return None
        if not replace or manifest.key_file is None:
            raise ArchiveError(
                f"{existing} lacks keys this archive was written with: {_named(lacking)}; "
                "the loaded id numbers could not be read. Load into a new data directory, "
                "or (the store being empty) `--replace-secret-key` to set that keyring "
                "aside for the archive's"
            )
    if manifest.key_file is None:
        raise ArchiveError(
            "the archive does not carry its secret keys (they were NXCE_SECRET_KEY and "
            f"NXCE_SECRET_KEYS_PREVIOUS, kept by the operator: {_named(list(manifest.key_ring))})"
            ": set those variables to these keys and load again"
        )
    return source / manifest.key_file


async def check_empty(database: Any, settings: Settings) -> None:
    """The target holds no document; else ArchiveError naming what it holds."""
    held = []
    for name in sorted(await database.list_collection_names()):
        if ours(name) and (count := await database[name].count_documents({})):
            held.append(f"{name} ({count})")
    if held:
        where = (
            f"the embedded store in {settings.data_dir}"
            if settings.embedded
            else f"the MongoDB database {settings.database!r}"
        )
        raise ArchiveError(
            f"{where} is not empty: it holds {', '.join(held)}. A load goes into an empty "
            "store only: name a new NXCE_DATA_DIR or NXCE_DATABASE"
        )


async def insert(database: Any, manifest: Manifest, source: Path) -> int:
    """Insert every document in batches of BATCH; when a batch fails, the collections
    loaded so far are dropped (the target was empty) and the error raised.

    Batches are ordered: the target is empty, so any failure (a duplicate `_id`, or on
    MongoDB a document breaking a unique index built first) means the archive is not
    what it says, the load stops at the first one and is undone; unordered batches would
    only go on inserting what is dropped right after. The driver splits a batch into
    messages under MongoDB's size limits."""
    loaded: list[str] = []
    total = 0
    try:
        for collection in manifest.collections:
            loaded.append(collection.name)
            batch: list[dict[str, Any]] = []
            for document in _documents(source / collection.file):
                batch.append(document)
                if len(batch) == BATCH:
                    await database[collection.name].insert_many(batch, ordered=True)
                    total, batch = total + len(batch), []
            if batch:
                await database[collection.name].insert_many(batch, ordered=True)
                total += len(batch)
    except BaseException as error:
        for name in loaded:
            await database[name].drop()
        if isinstance(error, db.BulkWriteError | db.DuplicateKeyError):
            raise ArchiveError(
                f"{loaded[-1]}: two documents with one _id or one unique key "
                f"({_first_error(error)}); the collections loaded were removed, the target "
                "is empty again"
            ) from None
        raise
    return total


def _first_error(error: Exception) -> str:
    details = getattr(error, "details", None) or {}
    errors = details.get("writeErrors") if isinstance(details, dict) else None
    if errors:
        return str(errors[0].get("errmsg", errors[0]))[:300]
    return str(error)[:300]


@dataclass(frozen=True, slots=True)
class _Installed:
    """The archive's key installed, and the key it set aside (None: there was none)."""

    path: Path
    replaced: Path | None

    def undo(self) -> None:
        """The data directory's keys as they were before the load."""
        self.path.unlink(missing_ok=True)
        if self.replaced is not None:
            self.replaced.replace(self.path)
        fsync_directory(self.path.parent)


def _install_key(key: Path, settings: Settings) -> _Installed:
    """The archive's key into the data directory; a different key there is kept beside it
    as `secret.key.replaced-<UTC time>` (`key_plan` allowed it), never deleted."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    installed = settings.data_dir / KEY_FILE_NAME
    replaced = None
    if installed.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        replaced = installed.with_name(f"{KEY_FILE_NAME}.replaced-{stamp}")
        installed.replace(replaced)
    fresh = installed.with_name(KEY_FILE_NAME + ".new")
    shutil.copy2(key, fresh)
    fresh.chmod(0o600)
    fresh.replace(installed)
    fsync_directory(settings.data_dir)
    return _Installed(installed, replaced)


def _reopen(client: Any, settings: Settings) -> Any:
    """The embedded store is read back from its file, as a service would start on it."""
    db.close(client)
    return db.connect(settings)


async def _empty_again(database: Any) -> None:
    """Every collection dropped: the target was checked empty before the load."""
    for name in await database.list_collection_names():
        if ours(name):
            await database[name].drop()


async def load(
    client: Any, settings: Settings, manifest: Manifest, source: Path, *, key: Path | None
) -> Any:
    """Load the checked archive (`read`) into the store of `client` (checked empty here),
    then copy `key` (`key_plan`) into the data directory; answers the client to close (the
    embedded one is reopened from its file first). When the start on the loaded store
    fails (on the embedded store, a unique index built after the documents went in), the
    load is undone: the collections dropped, the key put back as it was."""
    from nxce.app import DOCUMENTS, open_store

    database = db.database(client, settings)
    await check_empty(database, settings)
    if not settings.embedded:
        # MongoDB: the indexes first, so each unique one checks the documents as they go in
        # (a later index build would fail on a duplicate after the whole load), and a
        # service started meanwhile finds them. The embedded store builds them after: its
        # unique checks are quadratic until its hash indexes exist.
        await db.init_documents(database, DOCUMENTS)
    await insert(database, manifest, source)
    given = client
    installed = _install_key(key, settings) if key is not None else None
    try:
        if settings.embedded:
            client = _reopen(client, settings)
        await open_store(settings, seed=False, client=client)
    except BaseException as error:
        await _empty_again(db.database(client, settings))
        if installed is not None:
            installed.undo()
        if client is not given:  # the caller closes the client it gave
            db.close(client)
        if isinstance(error, db.BulkWriteError | db.DuplicateKeyError):
            raise ArchiveError(
                f"two documents with one unique key ({_first_error(error)}), found when the "
                "indexes were built; the collections loaded were removed, the target is "
                "empty again"
            ) from None
        raise
    return client
