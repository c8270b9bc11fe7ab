"""Backups of the embedded store: through the admin API while the service runs (under
`$NXCE_DATA_DIR/backups/`, one a minute) and with `nxce store backup PATH`, directly or
through the running service; a backup is a data directory that serves what was stored,
and carries the secret key or refuses, saying why."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from nxce.core.embedded_backup import BACKUPS_DIR
from nxce.core.embedded_medium import FILE_NAME
from tests.conftest import ADMIN_KEY, ADMIN_SECRET, embedded_settings
from tests.nxce import tiny_store
from tests.nxce.test_store_archive import nxce


def _post_backups(data: Path, *queries: str, **overrides: Any) -> list[Any]:
    """POST /admin/store/backup once per query, with the service running on `data`."""

    async def run() -> list[Any]:
        async with tiny_store.service(tiny_store.durable(data, **overrides)) as (_, http):
            return [await http.post(f"/admin/store/backup{query}") for query in queries]

    return asyncio.run(run())


def test_a_backup_while_the_service_runs_serves_what_was_stored(
    built: tuple[Path, dict[str, Any]], data: Path
) -> None:
    (answer,) = _post_backups(data, "")
    assert answer.status_code == 200, answer.text
    made = answer.json()
    path = Path(made["path"])
    assert path.parent == (data / BACKUPS_DIR).resolve()
    assert sorted(p.name for p in path.iterdir()) == ["secret.key", FILE_NAME]
    assert made["secret_key"] == "included"
    assert made["bytes"] == sum(p.stat().st_size for p in path.iterdir())
    assert made["documents"] == len(tiny_store.rows(path)) >= 9
    served = tiny_store.read_back(path, built[1]["activity"])
    assert served == built[1]


def test_backups_are_one_a_minute_and_go_only_where_the_service_puts_them(data: Path) -> None:
    first, again, elsewhere = _post_backups(data, "", "", "?path=/tmp/elsewhere")
    assert first.status_code == 200
    assert again.status_code == 429 and 0 < int(again.headers["Retry-After"]) <= 60
    assert elsewhere.status_code == 422 and "path" in elsewhere.json()["detail"]
    assert len(list((data / BACKUPS_DIR).iterdir())) == 1


def test_a_key_only_in_NXCE_SECRET_KEY_is_refused_unless_the_operator_keeps_it(
    data: Path,
) -> None:
    key = (data / "secret.key").read_text(encoding="ascii").strip()
    (data / "secret.key").unlink()
    refused, taken = _post_backups(data, "", "?without_secret_key=true", secret_key=key)
    assert refused.status_code == 409
    assert "comes from NXCE_SECRET_KEY" in refused.json()["detail"]
    assert taken.status_code == 200, taken.text  # a refusal does not count against the minute
    assert taken.json()["secret_key"].startswith("not included")
    assert [p.name for p in Path(taken.json()["path"]).iterdir()] == [FILE_NAME]


def test_a_store_in_memory_has_no_backup(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path, seed_fixtures=False)

    async def run() -> Any:
        async with tiny_store.service(settings) as (_, http):
            return await http.post("/admin/store/backup")

    answer = asyncio.run(run())
    assert answer.status_code == 409 and "memory only" in answer.json()["detail"]


def test_the_command_backs_up_a_directory_no_process_holds(
    built: tuple[Path, dict[str, Any]], data: Path, tmp_path: Path
) -> None:
    target = tmp_path / "备份"
    result = nxce(data, "store", "backup", str(target))
    assert result.exit_code == 0, result.output
    assert "directly" in result.output and "secret key: included" in result.output
    assert tiny_store.read_back(target, built[1]["activity"]) == built[1]


def test_the_command_goes_through_the_service_that_holds_the_directory(
    data: Path, running: str, tmp_path: Path
) -> None:
    target = tmp_path / "backup"
    admin = ("--url", running, "--client", ADMIN_KEY, "--secret", ADMIN_SECRET)
    result = nxce(data, "store", "backup", str(target), *admin)
    assert result.exit_code == 0, result.output
    assert f"through the service (process {os.getpid()})" in result.output
    assert sorted(p.name for p in target.iterdir()) == ["secret.key", FILE_NAME]
    assert list((data / BACKUPS_DIR).iterdir()) == []  # moved to the path asked for


def test_the_command_needs_an_admin_client_when_a_service_holds_the_directory(
    data: Path, running: str, tmp_path: Path
) -> None:
    result = nxce(data, "store", "backup", str(tmp_path / "backup"), "--url", running)
    assert result.exit_code == 1
    assert f"process {os.getpid()} holds the data directory" in result.output
    assert "--client" in result.output


def test_the_command_refuses_a_path_that_exists_and_is_not_empty(
    data: Path, tmp_path: Path
) -> None:
    target = tmp_path / "full"
    target.mkdir()
    (target / "store.sqlite3").write_bytes(b"an older backup")
    result = nxce(data, "store", "backup", str(target))
    assert result.exit_code == 1 and "exists and is not an empty directory" in result.output
    assert (target / "store.sqlite3").read_bytes() == b"an older backup"


def test_a_backup_with_no_key_anywhere_is_refused_and_makes_none(
    data: Path, tmp_path: Path
) -> None:
    (data / "secret.key").unlink()  # lost, or NXCE_SECRET_KEY forgotten in this shell
    result = nxce(data, "store", "backup", str(tmp_path / "backup"))
    assert result.exit_code == 1
    assert "there is no secret key here" in result.output and "NXCE_SECRET_KEY" in result.output
    assert not (data / "secret.key").exists() and not (tmp_path / "backup").exists()
