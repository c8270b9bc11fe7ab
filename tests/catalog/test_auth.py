"""Catalog writes need an admin client over HTTP Basic; reads are public."""

from __future__ import annotations

import httpx

from nxce.core import clients
from nxce.core.clients import Scope
from tests.catalog.test_courses import NEW_COURSE
from tests.conftest import ADMIN_KEY, basic


async def test_catalog_reads_need_no_credentials(client: httpx.AsyncClient) -> None:
    for path in ("/courses", "/courses/GX-0001", "/catalog/stats", "/bases"):
        assert (await client.get(path)).status_code == 200, path


async def test_course_write_without_credentials_is_401_with_challenge(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/courses", json=NEW_COURSE)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="nxce"'
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/courses/WS-9001")).status_code == 404


async def test_course_write_with_wrong_secret_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/courses", json=NEW_COURSE, headers=basic(ADMIN_KEY, "wrong"))
    assert response.status_code == 401
    assert "wrong secret" in response.json()["detail"]


async def test_course_write_with_unknown_client_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/courses", json=NEW_COURSE, headers=basic("nobody", "x" * 20))
    assert response.status_code == 401


async def test_malformed_authorization_is_401(client: httpx.AsyncClient) -> None:
    for header in ("Basic", "Basic !!!notbase64", "Bearer abc", "Basic " + "bm9jb2xvbg=="):
        response = await client.delete("/courses/GX-0001", headers={"Authorization": header})
        assert response.status_code == 401, header
    assert (await client.get("/courses/GX-0001")).json()["status"] == "published"


async def test_course_write_without_admin_scope_is_403(client: httpx.AsyncClient) -> None:
    await clients.create(
        key="mobile-app",
        name="手机客户端",
        scopes=[Scope.statements_write],
        secret="app-secret-123456",
    )
    response = await client.post(
        "/courses", json=NEW_COURSE, headers=basic("mobile-app", "app-secret-123456")
    )
    assert response.status_code == 403
    assert "lacks the scope 'admin'" in response.json()["detail"]


async def test_disabled_client_is_401(client: httpx.AsyncClient) -> None:
    created = await clients.create(
        key="ops", name="运维", scopes=[Scope.admin], secret="ops-secret-123456"
    )
    assert (
        await client.delete("/courses/GX-0001", headers=basic("ops", "ops-secret-123456"))
    ).status_code == 200
    created.disabled = True
    await created.save()
    response = await client.delete("/courses/GX-0002", headers=basic("ops", "ops-secret-123456"))
    assert response.status_code == 401


async def test_secrets_are_stored_hashed(client: httpx.AsyncClient) -> None:
    stored = await clients.get_by_key(key=ADMIN_KEY)
    assert stored is not None
    assert stored.secret_hash.startswith("scrypt$")
    assert "admin-secret-for-tests" not in stored.secret_hash
