"""Bad networks: gzip-compressed request bodies (bounded once inflated), compressed
responses for clients that accept them, and the batch size limit."""

from __future__ import annotations

import gzip
import json
import uuid

import httpx

from tests.lrs.conftest import STATEMENTS, statement, xapi
from tests.lrs.sync.conftest import pull

GZIP = {"Content-Encoding": "gzip", "Content-Type": "application/json"}


def batch(n: int) -> list[dict[str, object]]:
    return [statement(id=str(uuid.uuid4())) for _ in range(n)]


async def test_a_gzip_batch_is_stored(client: httpx.AsyncClient) -> None:
    sent = batch(50)
    body = gzip.compress(json.dumps(sent, ensure_ascii=False).encode())
    response = await client.post(STATEMENTS, content=body, headers={**xapi(), **GZIP})
    assert response.status_code == 200, response.text
    assert response.json() == [s["id"] for s in sent]
    found, _ = await pull(client, xapi())
    assert {s["id"] for s in found} == {s["id"] for s in sent}
    names = {s["actor"]["name"] for s in found}
    assert names == {"张伟"}  # the Chinese survived compression


async def test_gzip_also_works_outside_xapi(client: httpx.AsyncClient) -> None:
    base = {"name": "宁夏智慧教育基地", "level": "regional", "reason": "认定"}
    body = gzip.compress(json.dumps({**base, "effective_on": "2022-03-01"}).encode())
    response = await client.post("/bases", content=body, headers={**xapi(None), **GZIP})
    assert response.status_code == 201, response.text


async def test_a_gzip_bomb_is_413_and_stores_nothing(client: httpx.AsyncClient) -> None:
    """A few kilobytes that inflate past the 15 MiB limit are refused before anything is
    parsed."""
    padding = {"id": str(uuid.uuid4()), "padding": " " * (16 * 1_048_576)}
    body = gzip.compress(json.dumps(padding).encode())
    assert len(body) < 100_000
    response = await client.post(STATEMENTS, content=body, headers={**xapi(), **GZIP})
    assert response.status_code == 413
    assert "inflated" in response.json()["detail"]
    assert response.headers["X-Experience-API-Version"] == "2.0.0"
    found, _ = await pull(client, xapi())
    assert found == []


async def test_broken_or_unknown_encodings_are_refused(client: httpx.AsyncClient) -> None:
    whole = gzip.compress(json.dumps(batch(1)).encode())
    cases = [
        (b"not gzip at all", GZIP, 400, "gzip"),
        (whole[:-8], GZIP, 400, "one whole gzip stream"),
        (whole + b"trailing", GZIP, 400, "one whole gzip stream"),
        (whole, {**GZIP, "Content-Encoding": "br"}, 415, "Content-Encoding"),
    ]
    for body, headers, status, words in cases:
        response = await client.post(STATEMENTS, content=body, headers={**xapi(), **headers})
        assert response.status_code == status, (headers, response.text)
        assert words in response.json()["detail"]
    found, _ = await pull(client, xapi())
    assert found == []


async def test_responses_are_compressed_for_clients_that_accept_it(
    client: httpx.AsyncClient,
) -> None:
    await client.post(STATEMENTS, json=batch(20), headers=xapi())
    compressed = await client.get(STATEMENTS, headers={**xapi(), "Accept-Encoding": "gzip"})
    assert compressed.headers["content-encoding"] == "gzip"
    assert len(compressed.json()["statements"]) == 20  # httpx inflates it
    assert int(compressed.headers["content-length"]) < len(compressed.content) / 3
    plain = await client.get(STATEMENTS, headers={**xapi(), "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


async def test_a_batch_over_1000_statements_is_413_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(STATEMENTS, json=batch(1001), headers=xapi())
    assert response.status_code == 413
    assert "1000" in response.json()["detail"]
    found, _ = await pull(client, xapi())
    assert found == []
    assert (await client.post(STATEMENTS, json=batch(1000), headers=xapi())).status_code == 200
