"""Authentication: the client file of the embedded store, throttling, hashing off the loop."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from fastapi import FastAPI

from nxce.core import clients, passwords
from nxce.core.client_handover import FILE_NAME, HandoverFile
from nxce.core.clients import ClientRecord, Scope
from tests.conftest import basic


def write_client(data_dir: Path, key: str, secret: str) -> None:
    HandoverFile(data_dir).append(
        ClientRecord(
            key=key, name="编辑", scopes=[Scope.admin], secret_hash=passwords.hash_secret(secret)
        )
    )


async def retire(http: httpx.AsyncClient, key: str, secret: str, code: str = "GX-0001") -> int:
    return (await http.delete(f"/courses/{code}", headers=basic(key, secret))).status_code


async def test_client_file_secret_rotation_takes_effect_at_once(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    write_client(tmp_path, "editor", "first-secret-123")
    assert await retire(client, "editor", "first-secret-123") == 200
    write_client(tmp_path, "editor", "second-secret-456")
    assert await retire(client, "editor", "first-secret-123") == 401
    assert await retire(client, "editor", "second-secret-456") == 200


async def test_client_disabled_in_the_store_stays_disabled(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    write_client(tmp_path, "editor", "first-secret-123")
    assert await retire(client, "editor", "first-secret-123") == 200
    stored = await clients.get_by_key(key="editor")
    assert stored is not None
    stored.disabled = True
    await stored.save()
    write_client(tmp_path, "another", "another-secret-1")
    assert await retire(client, "another", "another-secret-1") == 200
    assert await retire(client, "editor", "first-secret-123") == 401


async def test_broken_client_file_keeps_existing_clients(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    (tmp_path / FILE_NAME).write_text("{not json", encoding="utf-8")
    assert await retire(client, "nobody", "whatever-secret") == 401
    assert await retire(client, "admin", "admin-secret-for-tests") == 200


async def test_client_file_records_are_hashed(tmp_path: Path) -> None:
    write_client(tmp_path, "editor", "first-secret-123")
    text = (tmp_path / FILE_NAME).read_text(encoding="utf-8")
    assert "first-secret-123" not in text
    assert json.loads(text)[0]["secret_hash"].startswith("scrypt$")


async def test_repeated_failures_are_throttled_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    statuses = [await retire(client, "admin", f"guess-{n}") for n in range(12)]
    assert statuses[:10] == [401] * 10
    response = await client.delete("/courses/GX-0001", headers=basic("admin", "guess-x"))
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert (await client.get("/courses/GX-0001")).json()["status"] == "published"


async def test_valid_credential_works_after_60_failures_from_its_address(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Many apps share one carrier NAT address: others' failures slow down failures only."""
    app.state.verifier.throttle.penalty_seconds = 0  # the slow-down itself is not tested here
    assert await retire(client, "admin", "admin-secret-for-tests") == 200  # verified once
    write_client(tmp_path, "editor", "editor-secret-123")  # never verified before
    statuses = [await retire(client, f"stranger-{n}", "guess", "GX-0002") for n in range(60)]
    assert statuses[:50] == [401] * 50
    assert set(statuses[50:]) == {429}  # failures past the address's limit: told to wait
    assert await retire(client, "admin", "admin-secret-for-tests", "GX-0003") == 200
    assert await retire(client, "editor", "editor-secret-123", "GX-0004") == 200
    assert (await client.get("/courses/GX-0002")).json()["status"] == "published"


async def test_failures_past_the_address_limit_are_slowed_down(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    throttle = app.state.verifier.throttle
    throttle.penalty_seconds = 0
    for n in range(50):
        await throttle.failed(f"stranger-{n}", "127.0.0.1")
    throttle.penalty_seconds = 0.5
    started = time.monotonic()
    response = await client.delete("/courses/GX-0001", headers=basic("stranger-x", "guess"))
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
    assert time.monotonic() - started >= 0.5
    assert "a valid key and secret are still accepted" in response.json()["detail"]


async def test_key_under_attack_is_limited_even_with_its_right_secret(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    write_client(tmp_path, "editor", "editor-secret-123")
    assert await retire(client, "editor", "editor-secret-123") == 200  # verified and cached
    statuses = [await retire(client, "editor", f"guess-{n}", "GX-0002") for n in range(10)]
    assert statuses == [401] * 10
    refused = await client.delete("/courses/GX-0002", headers=basic("editor", "editor-secret-123"))
    assert refused.status_code == 429
    assert "'editor'" in refused.json()["detail"]
    assert (await client.get("/courses/GX-0002")).json()["status"] == "published"
    assert await retire(client, "admin", "admin-secret-for-tests", "GX-0002") == 200
