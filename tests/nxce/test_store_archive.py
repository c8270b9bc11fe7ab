"""`nxce store dump` and `nxce store load`: an archive of the embedded store loads into a
fresh one that serves the same records and dumps to the same files; a bad archive or a
target that is not empty is refused, naming why, and nothing is written."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from click.testing import Result
from typer.testing import CliRunner

from nxce.archive import FORMAT, VERSION, CollectionFile, _documents
from nxce.cli import app as cli
from nxce.core.embedded_medium import FILE_NAME, DirectoryLock
from nxce.core.keys import fingerprint, key_id
from nxce.settings import get_settings
from tests.nxce import tiny_store

runner = CliRunner()


def nxce(data: Path, *args: str, **env: str | None) -> Result:
    """The command on the durable embedded store in `data`, whatever NXCE_* is set."""
    get_settings.cache_clear()
    base: dict[str, str | None] = {
        "NXCE_DATA_DIR": str(data),
        "NXCE_MONGODB_URL": None,
        "NXCE_EMBEDDED_IN_MEMORY": "false",
        "NXCE_SECRET_KEY": None,
        "NXCE_DATABASE": None,
    }
    try:
        return runner.invoke(cli, list(args), env={**base, **env})
    finally:
        get_settings.cache_clear()


class Source:
    """The tiny store, what a client reads of it, and its archive."""

    def __init__(self, data: Path, seen: dict[str, Any], archive: Path) -> None:
        self.data, self.seen, self.archive = data, seen, archive


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    data = tmp_path_factory.mktemp("source") / "data"
    seen = tiny_store.build(data)
    archive = data.parent / "archive"
    dumped = nxce(data, "store", "dump", str(archive))
    assert dumped.exit_code == 0, dumped.output
    return Source(data, seen, archive)


@pytest.fixture(scope="module")
def loaded(source: Source) -> Path:
    """A fresh data directory the archive was loaded into."""
    target = source.data.parent / "loaded"
    result = nxce(target, "store", "load", str(source.archive))
    assert result.exit_code == 0, result.output
    # 2 clients (admin, auditor), 1 course, 1 learner, 1 statement… as the manifest counts
    assert "documents loaded" in result.output
    return target


def _files(archive: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in archive.iterdir() if p.suffix == ".jsonl"}


def test_an_archive_lists_each_collection_with_its_count_and_hash(source: Source) -> None:
    manifest = json.loads((source.archive / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["format"], manifest["version"]) == (FORMAT, VERSION)
    counts = {c["name"]: c["documents"] for c in manifest["collections"]}
    # one learner (张伟), one statement, one course, the admin and the auditor
    assert counts["learners"] == 1 and counts["statements"] == 1 and counts["courses"] == 1
    assert counts["clients"] == 2
    assert manifest["secret_key"]["included"] is True
    assert (source.archive / "secret.key").read_bytes() == (source.data / "secret.key").read_bytes()
    first = (source.archive / "statements.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert tiny_store.STATEMENT_ID in first and '"$date"' in first  # canonical Extended JSON


def test_a_round_trip_through_an_archive_gives_the_same_collection_files(
    source: Source, loaded: Path
) -> None:
    again = source.data.parent / "again"
    result = nxce(loaded, "store", "dump", str(again))
    assert result.exit_code == 0, result.output
    assert _files(again) == _files(source.archive)
    assert len(_files(again)) >= 8


def test_the_loaded_store_serves_the_same_statements_learners_and_ledger(
    source: Source, loaded: Path
) -> None:
    served = tiny_store.read_back(loaded, source.seen["activity"])
    assert served == source.seen  # 张伟's id number read in full with the archive's key
    assert served["ledger"][0]["learner_id"] == "zhangwei"


def test_a_load_into_a_store_that_is_not_empty_is_refused_and_changes_nothing(
    source: Source,
) -> None:
    before = tiny_store.rows(source.data)
    result = nxce(source.data, "store", "load", str(source.archive))
    assert result.exit_code == 1
    assert "is not empty: it holds" in result.output and "statements (1)" in result.output
    assert tiny_store.rows(source.data) == before


def _copy_archive(source: Source, tmp_path: Path) -> Path:
    return Path(shutil.copytree(source.archive, tmp_path / "archive"))


def test_an_archive_of_another_version_is_refused_and_nothing_is_written(
    source: Source, tmp_path: Path
) -> None:
    archive = _copy_archive(source, tmp_path)
    manifest = json.loads((archive / "manifest.json").read_text(encoding="utf-8"))
    manifest["version"] = 2
    (archive / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    target = tmp_path / "target"
    result = nxce(target, "store", "load", str(archive))
    assert result.exit_code == 1
    assert "archive version 2" in result.output and "reads version 1 only" in result.output
    assert not target.exists()


def test_a_changed_collection_file_is_refused_and_nothing_is_written(
    source: Source, tmp_path: Path
) -> None:
    archive = _copy_archive(source, tmp_path)
    learners = archive / "learners.jsonl"
    text = learners.read_text(encoding="utf-8")
    zhang, li = json.dumps("张伟")[1:-1], json.dumps("李伟")[1:-1]  # \u escapes, as dumped
    assert zhang in text
    learners.write_text(text.replace(zhang, li), encoding="utf-8")
    target = tmp_path / "target"
    result = nxce(target, "store", "load", str(archive))
    assert result.exit_code == 1
    assert "learners.jsonl does not match its SHA-256" in result.output
    assert not target.exists()


def test_a_manifest_naming_a_file_outside_the_archive_is_refused(
    source: Source, tmp_path: Path
) -> None:
    archive = _copy_archive(source, tmp_path)
    manifest = json.loads((archive / "manifest.json").read_text(encoding="utf-8"))
    manifest["collections"][0] |= {"name": "../outside", "file": "../outside.jsonl"}
    (archive / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = nxce(tmp_path / "target", "store", "load", str(archive))
    assert result.exit_code == 1
    assert "'../outside' must be a plain name" in result.output


def test_a_dump_to_a_path_that_exists_and_is_not_empty_is_refused(
    source: Source, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("备份说明", encoding="utf-8")
    result = nxce(source.data, "store", "dump", str(tmp_path))
    assert result.exit_code == 1
    assert "exists and is not an empty directory" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_dump_while_a_process_holds_the_data_directory_names_it(
    source: Source, tmp_path: Path
) -> None:
    lock = DirectoryLock(source.data)
    lock.acquire()
    try:
        result = nxce(source.data, "store", "dump", str(tmp_path / "archive"))
    finally:
        lock.release()
    assert result.exit_code == 1  # it goes through the service: an admin client is needed
    assert f"process {os.getpid()} holds the data directory: the dump goes through it" in (
        result.output
    )
    assert "--client" in result.output
    assert not (tmp_path / "archive").exists()


def test_a_key_kept_in_NXCE_SECRET_KEY_goes_with_the_operator_not_the_archive(
    source: Source, tmp_path: Path
) -> None:
    key = (source.data / "secret.key").read_text(encoding="ascii").strip()
    data = tiny_store.copy(source.data, tmp_path / "data")
    (data / "secret.key").unlink()  # the deployment sets NXCE_SECRET_KEY instead
    archive = tmp_path / "archive"
    refused = nxce(data, "store", "dump", str(archive), NXCE_SECRET_KEY=key)
    assert refused.exit_code == 1
    assert (
        "comes from NXCE_SECRET_KEY" in refused.output and "--without-secret-key" in refused.output
    )
    assert not archive.exists()
    dumped = nxce(data, "store", "dump", str(archive), "--without-secret-key", NXCE_SECRET_KEY=key)
    assert dumped.exit_code == 0, dumped.output
    assert not (archive / "secret.key").exists()

    target = tmp_path / "target"
    no_key = nxce(target, "store", "load", str(archive))
    assert no_key.exit_code == 1 and "set those variables to these keys" in no_key.output
    wrong = nxce(target, "store", "load", str(archive), NXCE_SECRET_KEY="另一把钥匙-another-key")
    assert wrong.exit_code == 1 and "lack keys this archive was written with" in wrong.output
    assert not (target / FILE_NAME).exists()
    right = nxce(target, "store", "load", str(archive), NXCE_SECRET_KEY=key)
    assert right.exit_code == 0, right.output
    served = tiny_store.read_back(target, source.seen["activity"], secret_key=key)
    assert served["learner"]["id_number"] == source.seen["learner"]["id_number"]


def test_an_archive_carries_the_keyring_and_a_load_lacking_one_of_its_keys_is_refused(
    source: Source, tmp_path: Path
) -> None:
    """After `nxce keys rotate` the ring is two keys, the learner's id number still under
    the old one: the archive names both, a load with the new key alone is refused naming
    the old one, and a load carrying the ring reads the number, then re-keys it."""
    data = tiny_store.copy(source.data, tmp_path / "data")
    old = (data / "secret.key").read_text(encoding="ascii").strip()
    rotated = nxce(data, "keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    new, kept = (data / "secret.key").read_text(encoding="ascii").split()
    assert kept == old and new != old
    assert (data / "secret.key").stat().st_mode & 0o777 == 0o600
    archive = tmp_path / "archive"
    assert nxce(data, "store", "dump", str(archive)).exit_code == 0
    manifest = json.loads((archive / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["secret_key"]["ring"] == [fingerprint(new.encode()), fingerprint(old.encode())]

    alone = nxce(tmp_path / "alone", "store", "load", str(archive), NXCE_SECRET_KEY=new)
    assert alone.exit_code == 1
    assert "lack keys this archive was written with" in alone.output
    assert key_id(old.encode()) in alone.output and old not in alone.output

    target = tmp_path / "target"
    assert nxce(target, "store", "load", str(archive)).exit_code == 0
    served = tiny_store.read_back(target, source.seen["activity"])
    assert served["learner"]["id_number"] == source.seen["learner"]["id_number"]
    status = nxce(target, "keys", "status")
    assert status.exit_code == 0, status.output
    assert f"id numbers by key: {key_id(old.encode())}: 1" in status.output
    moved = nxce(target, "keys", "reencrypt")
    assert moved.exit_code == 0, moved.output
    assert "re-keyed: 1 id numbers" in moved.output
    after = nxce(target, "keys", "status")
    assert f"id numbers by key: {key_id(new.encode())}: 1" in after.output
    assert "not under the current key: 0" in after.output


def test_a_load_that_fails_halfway_leaves_the_target_empty(source: Source, tmp_path: Path) -> None:
    archive = _copy_archive(source, tmp_path)
    # The statement twice, the manifest's count and hash made to match: the archive checks,
    # and its second copy fails to insert (one _id).
    statements = archive / "statements.jsonl"
    statements.write_text(statements.read_text(encoding="utf-8") * 2, encoding="utf-8")
    manifest = json.loads((archive / "manifest.json").read_text(encoding="utf-8"))
    entry = next(c for c in manifest["collections"] if c["name"] == "statements")
    entry |= {"documents": 2, "sha256": hashlib.sha256(statements.read_bytes()).hexdigest()}
    (archive / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    target = tmp_path / "target"
    result = nxce(target, "store", "load", str(archive))
    assert result.exit_code == 1, result.output
    assert "statements: two documents with one _id" in result.output
    assert tiny_store.rows(target) == []


def test_a_dump_with_no_key_anywhere_is_refused_and_makes_none(
    source: Source, tmp_path: Path
) -> None:
    data = tiny_store.copy(source.data, tmp_path / "data")
    (data / "secret.key").unlink()  # lost, or NXCE_SECRET_KEY forgotten in this shell
    result = nxce(data, "store", "dump", str(tmp_path / "archive"))
    assert result.exit_code == 1
    assert "there is no secret key here" in result.output
    assert not (data / "secret.key").exists() and not (tmp_path / "archive").exists()


# -- archives a service of this release would not start on ---------------------------------

PREVIOUS = Path(__file__).parents[1] / "data" / "previous" / "archive"


def _previous(tmp_path: Path) -> Path:
    """A copy of the previous release's archive (tests/data/previous), to alter."""
    return Path(shutil.copytree(PREVIOUS, tmp_path / "archive"))


def _rewrite(archive: Path, name: str, documents: list[dict[str, Any]]) -> None:
    """`name`'s file written afresh by the archive's own writer, the manifest made to
    match (count, hash): the archive checks whole, as one a release wrote would."""
    written = CollectionFile(archive, name)
    for document in documents:
        written.add(document)
    collection = written.close()
    _describe(archive, name, documents=collection.documents, sha256=collection.sha256)


def _describe(archive: Path, name: str, **entry: Any) -> None:
    manifest = json.loads((archive / "manifest.json").read_text(encoding="utf-8"))
    next(c for c in manifest["collections"] if c["name"] == name).update(entry)
    (archive / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _one_line(result: Result) -> str:
    """The command's output: one line on standard error, no traceback."""
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.output.count("\n") == 1, result.output
    return result.output


def test_an_archive_of_a_newer_release_with_a_migration_unknown_here_is_refused_before_writing(
    tmp_path: Path,
) -> None:
    """A service of this release refuses to start on a store recording a migration it does
    not know (nxce/core/migrations.py): the load refuses the archive first, naming the
    migration and the release to load it with, and the target stays as it was."""
    archive = _previous(tmp_path)
    recorded = [*_documents(archive / "migrations.jsonl")]
    recorded.append({"_id": "credits-9001-from-a-newer-release", "applied_at": datetime.now(UTC)})
    _rewrite(archive, "migrations", recorded)
    manifest = json.loads((archive / "manifest.json").read_text(encoding="utf-8"))
    manifest["service_version"] = "9.1.0"
    (archive / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    target = tmp_path / "target"
    result = nxce(target, "store", "load", str(archive))
    assert result.exit_code == 1
    message = _one_line(result)
    assert f"nothing loaded: {archive} was written by nxce 9.1.0" in message
    assert "does not know: credits-9001-from-a-newer-release;" in message
    assert "load it with nxce 9.1.0 or newer" in message
    assert not target.exists()

    target.mkdir()  # a data directory made for it, its key there: left as it was
    shutil.copy2(archive / "secret.key", target / "secret.key")
    assert nxce(target, "store", "load", str(archive)).exit_code == 1
    assert sorted(p.name for p in target.iterdir()) == ["secret.key"]


def test_a_migration_record_that_is_not_a_name_is_refused_as_damaged(tmp_path: Path) -> None:
    archive = _previous(tmp_path)
    recorded = [*_documents(archive / "migrations.jsonl"), {"_id": 7, "applied_at": "昨天"}]
    _rewrite(archive, "migrations", recorded)
    target = tmp_path / "target"
    result = nxce(target, "store", "load", str(archive))
    assert result.exit_code == 1
    assert "migrations.jsonl, line 3: a migration record must be a name" in _one_line(result)
    assert not target.exists()


@pytest.mark.parametrize(
    "line",
    [
        b'{"_id": "\xff\xfe"}',  # not UTF-8
        b'{"_id": {"$oid": "not-an-object-id"}}',
        b'{"_id": {"$numberDecimal": "\xe5\x8d\x81"}}',  # 十
        b'{"_id": {"$date": {"$numberLong": "99999999999999999999"}}}',
        b"[" * 100_000,
    ],
)
def test_a_line_that_does_not_decode_is_refused_naming_it(tmp_path: Path, line: bytes) -> None:
    """The manifest matches (count and hash), the line does not decode: one line naming
    the file and the line, nothing written."""
    archive = _previous(tmp_path)
    bases = archive / "bases.jsonl"
    bases.write_bytes(line + b"\n")
    _describe(archive, "bases", documents=1, sha256=hashlib.sha256(line + b"\n").hexdigest())
    target = tmp_path / "target"
    result = nxce(target, "store", "load", str(archive))
    assert result.exit_code == 1
    assert "bases.jsonl, line 1: not Extended JSON" in _one_line(result)
    assert not target.exists()


def test_two_documents_with_one_unique_key_are_refused_and_the_target_left_empty(
    tmp_path: Path,
) -> None:
    """Two courses of one code, under two `_id`s: the embedded store finds it when it
    builds its indexes, after the documents went in. The load is undone: the collections
    and the key it installed are removed, and the message is one line."""
    archive = _previous(tmp_path)
    courses = [*_documents(archive / "courses.jsonl")]
    _rewrite(archive, "courses", [*courses, {**courses[0], "_id": ObjectId()}])
    target = tmp_path / "target"
    result = nxce(target, "store", "load", str(archive))
    assert result.exit_code == 1
    assert "two documents with one unique key" in _one_line(result)
    assert "the target is empty again" in result.output
    assert tiny_store.rows(target) == []
    assert not (target / "secret.key").exists()
