"""Clients live in the store: `nxce clients create` writes it directly when no process
holds the data directory, else hands the client over to the running service in
`clients.json`, which applies each entry once (a client disabled in the store is never
restored by a restart), and a data directory of the previous version comes up with its
clients, applied once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from click.testing import Result

from nxce.core import clients, passwords
from nxce.core.client_handover import FILE_NAME, ClientHandover
from nxce.core.clients import Scope
from tests.conftest import basic
from tests.nxce import tiny_store
from tests.nxce.test_store_archive import nxce

EDITOR = "bianji"  # 编辑: the catalog editor's client


def _secret(result: Result) -> str:
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    return next(line.split()[1] for line in lines if line.startswith("secret:"))


async def _create(data: Path, key: str = EDITOR) -> Result:
    args = ("clients", "create", "--name", "课程编辑", "--scope", "admin", "--key", key)
    return await asyncio.to_thread(nxce, data, *args)


async def _status(http: httpx.AsyncClient, key: str, secret: str) -> int:
    """401 for a client the service refuses; 404 (no such learner) once it is let in."""
    answer = await http.get("/learners/nobody", headers=basic(key, secret))
    return answer.status_code


async def _disable(key: str) -> None:
    """What disabling a client does to the store (as an admin operation would)."""
    stored = await clients.get_by_key(key=key)
    assert stored is not None
    stored.disabled = True
    await stored.save()


def test_a_client_handed_over_to_the_running_service_is_applied_once(tmp_path: Path) -> None:
    data = tmp_path / "data"

    async def run() -> None:
        async with tiny_store.service(tiny_store.durable(data)) as (_, http):
            made = await _create(data)
            assert "handed over to process" in made.output
            secret = _secret(made)
            handed = json.loads((data / FILE_NAME).read_text(encoding="utf-8"))
            assert [e["key"] for e in handed] == [EDITOR] and secret not in json.dumps(handed)
            assert await _status(http, EDITOR, secret) == 404  # applied at its first use
            assert not (data / FILE_NAME).exists()  # applied entries leave the file
            [record] = await ClientHandover.find_all().to_list()
            assert (record.key, record.handover) == (EDITOR, handed[0]["id"])

    asyncio.run(run())


def test_a_client_disabled_in_the_store_is_not_restored_by_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"

    async def first() -> tuple[str, str]:
        async with tiny_store.service(tiny_store.durable(data)) as (_, http):
            secret = _secret(await _create(data))
            text = (data / FILE_NAME).read_text(encoding="utf-8")
            assert await _status(http, EDITOR, secret) == 404
            await _disable(EDITOR)
            assert await _status(http, EDITOR, secret) == 401
            return secret, text

    secret, text = asyncio.run(first())
    # The file is even put back as it was before it was applied (a copy restored, a file
    # the service could not rewrite): its entry is recorded as applied in the store.
    (data / FILE_NAME).write_text(text, encoding="utf-8")

    async def restarted() -> None:
        async with tiny_store.service(tiny_store.durable(data)) as (_, http):
            assert await _status(http, EDITOR, secret) == 401
            stored = await clients.get_by_key(key=EDITOR)
            assert stored is not None and stored.disabled

    asyncio.run(restarted())


def test_creating_the_key_again_hands_over_a_new_secret_that_enables_it(tmp_path: Path) -> None:
    data = tmp_path / "data"

    async def run() -> None:
        async with tiny_store.service(tiny_store.durable(data)) as (_, http):
            old = _secret(await _create(data))
            assert await _status(http, EDITOR, old) == 404
            await _disable(EDITOR)
            new = _secret(await _create(data))  # the operator's new act: a new entry
            assert await _status(http, EDITOR, new) == 404
            assert await _status(http, EDITOR, old) == 401

    asyncio.run(run())


def test_with_no_service_the_command_writes_the_store_directly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = asyncio.run(_create(data))
    secret = _secret(made)
    assert f"the embedded store in {data}" in made.output
    assert not (data / FILE_NAME).exists()

    async def run() -> None:
        async with tiny_store.service(tiny_store.durable(data)) as (_, http):
            assert await _status(http, EDITOR, secret) == 404
            assert await ClientHandover.find_all().count() == 0  # nothing was handed over

    asyncio.run(run())


def _previous_version_file(data: Path, secret: str) -> str:
    """clients.json as the previous version wrote it: records without an id, which that
    version applied again at every start."""
    record = clients.ClientRecord(
        key=EDITOR, name="课程编辑", scopes=[Scope.admin], secret_hash=passwords.hash_secret(secret)
    )
    text = json.dumps([record.model_dump(mode="json")], ensure_ascii=False, indent=1)
    data.mkdir(parents=True, exist_ok=True)
    (data / FILE_NAME).write_text(text, encoding="utf-8")
    return text


def test_a_data_directory_of_the_previous_version_comes_up_with_its_clients_once(
    tmp_path: Path,
) -> None:
    data, secret = tmp_path / "data", "编辑的旧密钥-old-secret"
    text = _previous_version_file(data, secret)

    async def first() -> None:
        async with tiny_store.service(tiny_store.durable(data)) as (_, http):
            assert await _status(http, EDITOR, secret) == 404  # applied at start
            assert not (data / FILE_NAME).exists()
            await _disable(EDITOR)

    asyncio.run(first())
    (data / FILE_NAME).write_text(text, encoding="utf-8")  # the old file once more

    async def restarted() -> None:
        async with tiny_store.service(tiny_store.durable(data)) as (_, http):
            assert await _status(http, EDITOR, secret) == 401  # named by its content: applied

    asyncio.run(restarted())


@pytest.mark.parametrize("broken", ["{not json", '{"key": "bianji"}'])
def test_a_broken_file_is_left_alone_and_the_stored_clients_keep_working(
    tmp_path: Path, broken: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / FILE_NAME).write_text(broken, encoding="utf-8")

    async def run() -> None:
        async with tiny_store.service(tiny_store.durable(data)) as (_, http):
            assert (await http.get("/learners/nobody")).status_code == 404  # the admin
            assert await ClientHandover.find_all().count() == 0

    asyncio.run(run())
    assert (data / FILE_NAME).read_text(encoding="utf-8") == broken
