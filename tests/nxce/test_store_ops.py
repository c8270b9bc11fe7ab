"""`nxce store dump` and `nxce credits rebuild` on the embedded store through the running
service that holds it (POST /admin/store/dump, POST /admin/credits/rebuild), directly when
none does: a dump through the service is one snapshot, the same files a direct dump
writes; each operation runs one at a time; `nxce store load` restores the archive's key."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from nxce import store_ops
from nxce.core import embedded_medium
from nxce.core.embedded_medium import Medium, Op
from tests.conftest import ADMIN_KEY, ADMIN_SECRET
from tests.nxce import tiny_store
from tests.nxce.test_store_archive import nxce


def _jsonl(archive: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in archive.iterdir() if p.suffix == ".jsonl"}


def _post(data: Path, *paths: str, **overrides: Any) -> list[Any]:
    """POST each path once, with the service running on `data`."""

    async def run() -> list[Any]:
        async with tiny_store.service(tiny_store.durable(data, **overrides)) as (_, http):
            return [await http.post(path) for path in paths]

    return asyncio.run(run())


def test_a_dump_through_the_service_writes_the_files_a_direct_dump_writes(
    data: Path, tmp_path: Path
) -> None:
    (answer,) = _post(data, "/admin/store/dump")
    assert answer.status_code == 200, answer.text
    made = answer.json()
    served = Path(made["path"])
    assert served.parent == (data / store_ops.DUMPS_DIR).resolve()
    assert made["secret_key"] == "included" and (served / "secret.key").exists()
    manifest = json.loads((served / "manifest.json").read_text(encoding="utf-8"))
    assert made["documents"] == sum(c["documents"] for c in manifest["collections"])
    assert made["collections"] == len(manifest["collections"]) >= 8
    direct = tmp_path / "direct"
    result = nxce(data, "store", "dump", str(direct))  # the service stopped: directly
    assert result.exit_code == 0, result.output
    served_files, direct_files = _jsonl(served), _jsonl(direct)
    # the direct dump holds one line more of the admin log: the served dump's own
    logged = direct_files.pop("admin_log.jsonl").splitlines()
    assert served_files.pop("admin_log.jsonl").splitlines() == logged[:-1]
    assert b'"action": "store.dumped"' in logged[-1]
    assert served_files == direct_files
    assert not list(data.glob(".dump-*"))  # the scratch copy of the data file is gone


def test_a_dump_through_the_service_is_one_snapshot(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write committed once the data file is copied is not in the archive, whatever the
    dump reads after."""
    copy = Medium.backup

    def copy_then_write(medium: Medium, target: Path) -> int:
        documents = copy(medium, target)
        late = {"_id": "晚到的", "learner_id": "wangfang", "name": "王芳"}
        key = embedded_medium.encode_key(late["_id"])
        medium.submit([Op("nxce.learners", key, embedded_medium.encode_document(late))]).result()
        return documents

    monkeypatch.setattr(Medium, "backup", copy_then_write)
    (answer,) = _post(data, "/admin/store/dump")
    assert answer.status_code == 200, answer.text
    learners = (Path(answer.json()["path"]) / "learners.jsonl").read_text(encoding="utf-8")
    assert len(learners.splitlines()) == 1 and "wangfang" not in learners  # 张伟 alone
    assert ("nxce.learners", embedded_medium.encode_key("晚到的")) in {
        row[:2] for row in tiny_store.rows(data)
    }  # the write itself was committed


def test_dumps_are_one_a_minute_and_refused_on_a_store_in_memory(data: Path) -> None:
    first, again, elsewhere = _post(
        data, "/admin/store/dump", "/admin/store/dump", "/admin/store/dump?path=/tmp/x"
    )
    assert first.status_code == 200
    assert again.status_code == 429 and 0 < int(again.headers["Retry-After"]) <= 60
    assert elsewhere.status_code == 422 and "path" in elsewhere.json()["detail"]
    assert len(list((data / store_ops.DUMPS_DIR).iterdir())) == 1
    (memory,) = _post(data, "/admin/store/dump", embedded_in_memory=True)
    assert memory.status_code == 409 and "memory only" in memory.json()["detail"]


def test_a_dump_without_the_key_is_refused_unless_the_operator_keeps_it(data: Path) -> None:
    key = (data / "secret.key").read_text(encoding="ascii").strip()
    (data / "secret.key").unlink()
    refused, taken = _post(
        data, "/admin/store/dump", "/admin/store/dump?without_secret_key=true", secret_key=key
    )
    assert refused.status_code == 409 and "comes from NXCE_SECRET_KEY" in refused.text
    assert taken.status_code == 200, taken.text  # the refusal did not count
    assert taken.json()["secret_key"].startswith("not included")


def test_a_rebuild_through_the_service_changes_nothing_and_names_an_unknown_learner(
    data: Path,
) -> None:
    everyone, zhang, nobody, unknown = _post(
        data,
        "/admin/credits/rebuild",
        "/admin/credits/rebuild?learner=zhangwei",
        "/admin/credits/rebuild?learner=lisi",
        "/admin/credits/rebuild?learner=zhangwei&all=1",
    )
    assert everyone.status_code == 200, everyone.text
    # 张伟: the completion credited by the projection and the manual entry of 12 hours
    assert (everyone.json()["entries"], everyone.json()["changed"]) == (2, 0)
    assert (zhang.json()["learner_id"], zhang.json()["entries"]) == ("zhangwei", 2)
    assert nobody.status_code == 404 and "lisi" in nobody.json()["detail"]
    assert unknown.status_code == 422 and "all" in unknown.json()["detail"]


def test_one_rebuild_at_a_time(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def slow(*, credits: Any, learner_id: str | None) -> store_ops.Rebuilt:
        await asyncio.sleep(0.5)
        return store_ops.Rebuilt(finished=0, entries=2, changed=0)

    monkeypatch.setattr(store_ops, "rebuild_credits", slow)

    async def run() -> list[Any]:
        async with tiny_store.service(tiny_store.durable(data)) as (_, http):
            both = await asyncio.gather(
                http.post("/admin/credits/rebuild"), http.post("/admin/credits/rebuild")
            )
            return [*both, await http.post("/admin/credits/rebuild")]

    first, second, after = asyncio.run(run())
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    refused = first if first.status_code == 409 else second
    assert "one at a time" in refused.json()["detail"]
    assert after.status_code == 200  # once it ended


def test_the_dump_command_goes_through_the_service_that_holds_the_directory(
    built: tuple[Path, dict[str, Any]], data: Path, running: str, tmp_path: Path
) -> None:
    archive = tmp_path / "归档"
    admin = ("--url", running, "--client", ADMIN_KEY, "--secret", ADMIN_SECRET)
    result = nxce(data, "store", "dump", str(archive), *admin)
    assert result.exit_code == 0, result.output
    assert f"through the service (process {os.getpid()})" in result.output
    assert "secret key: included" in result.output
    assert (archive / "manifest.json").exists() and (archive / "secret.key").exists()
    assert list((data / store_ops.DUMPS_DIR).iterdir()) == []  # moved to the path asked for
    loaded = tmp_path / "loaded"
    assert nxce(loaded, "store", "load", str(archive)).exit_code == 0
    served = tiny_store.read_back(loaded, built[1]["activity"])
    assert served["learner"]["id_number"] == built[1]["learner"]["id_number"]  # the key came


def test_the_rebuild_command_goes_through_the_service_that_holds_the_directory(
    data: Path, running: str
) -> None:
    admin = ("--url", running, "--client", ADMIN_KEY, "--secret", ADMIN_SECRET)
    result = nxce(data, "credits", "rebuild", *admin)
    assert result.exit_code == 0, result.output
    assert f"through the service (process {os.getpid()})" in result.output
    assert "ledger rebuilt: 2 entries; 0 differed from the ledger before" in result.output
    without = nxce(data, "credits", "rebuild", "--url", running)
    assert without.exit_code == 1 and "give an admin client" in without.output


def test_the_rebuild_command_works_directly_when_no_process_holds_the_store(data: Path) -> None:
    result = nxce(data, "credits", "rebuild", "--learner", "zhangwei")
    assert result.exit_code == 0, result.output
    assert "directly" in result.output and "2 entries; 0 differed" in result.output


def test_a_load_sets_a_different_key_aside_only_when_told(
    built: tuple[Path, dict[str, Any]], data: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    assert nxce(data, "store", "dump", str(archive)).exit_code == 0
    target = tmp_path / "target"
    target.mkdir()
    (target / "secret.key").write_text("other-deployment-key-0123456789", encoding="utf-8")
    refused = nxce(target, "store", "load", str(archive))
    assert refused.exit_code == 1 and "--replace-secret-key" in refused.output
    assert not (target / embedded_medium.FILE_NAME).exists()
    loaded = nxce(target, "store", "load", str(archive), "--replace-secret-key")
    assert loaded.exit_code == 0, loaded.output
    assert (target / "secret.key").read_bytes() == (archive / "secret.key").read_bytes()
    [aside] = target.glob("secret.key.replaced-*")
    assert aside.read_text(encoding="utf-8") == "other-deployment-key-0123456789"
    served = tiny_store.read_back(target, built[1]["activity"])
    assert served["learner"]["id_number"] == built[1]["learner"]["id_number"]


def test_the_start_up_log_says_where_the_data_is_kept_not_that_it_is_lost(
    data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nxce")
    _post(data)  # start and stop
    said = [r.getMessage() for r in caplog.records if r.name.startswith("nxce")]
    kept = (data / embedded_medium.FILE_NAME).resolve()
    assert any(f"data kept in {kept}" in line for line in said), said
    assert not any("lost" in line.lower() for line in said), said
