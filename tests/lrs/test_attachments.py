"""Attachments (Data 2.4.11, Communication 1.5.2): multipart/mixed statements with raw
parts, fileUrl attachments in JSON, and `attachments=true` answers in multipart."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from tests.lrs.conftest import (
    STATEMENTS,
    fetch,
    get_statements,
    new_id,
    post_statements,
    problem_detail,
    statement,
    xapi,
)

BOUNDARY = "-------314159265358979323846"
CERTIFICATE = "结业证书：张伟 完成《基层常见病中医适宜技术》2.5 学时".encode()
NOTES = "学习笔记：艾灸的操作规范".encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def attachment(data: bytes, **overrides: Any) -> dict[str, Any]:
    return {
        "usageType": "https://nxce.example/xapi/attachments/certificate",
        "display": {"zh-CN": "结业证书"},
        "description": {"zh-CN": "继续教育结业证书"},
        "contentType": "text/plain; charset=utf-8",
        "length": len(data),
        "sha2": sha256(data),
        **overrides,
    }


def part(data: bytes, content_type: str = "text/plain; charset=utf-8", **headers: str) -> bytes:
    lines = {"Content-Type": content_type, "Content-Transfer-Encoding": "binary", **headers}
    head = "".join(f"{k}: {v}\r\n" for k, v in lines.items()).encode()
    return head + b"\r\n" + data


def multipart(first: Any, *parts: bytes, first_type: str = "application/json") -> bytes:
    """A multipart/mixed body: the statements as JSON, then the given parts."""
    json_part = (
        f"Content-Type: {first_type}\r\n\r\n".encode()
        + json.dumps(first, ensure_ascii=False).encode()
    )
    chunks = [json_part, *parts]
    body = b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + c + b"\r\n" for c in chunks)
    return body + b"--" + BOUNDARY.encode() + b"--\r\n"


async def post_multipart(
    client: httpx.AsyncClient,
    body: bytes,
    content_type: str = f"multipart/mixed; boundary={BOUNDARY}",
) -> httpx.Response:
    return await client.post(
        STATEMENTS, content=body, headers={**xapi(), "Content-Type": content_type}
    )


def parse_multipart(response: httpx.Response) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart/mixed response, as (lower-case headers, body)."""
    kind, _, parameter = response.headers["content-type"].partition("; ")
    assert kind == "multipart/mixed" and parameter.startswith("boundary=")
    delimiter = b"--" + parameter.removeprefix("boundary=").encode()
    sections = response.content.split(delimiter)
    assert sections[0] == b"" and sections[-1].startswith(b"--")
    parts = []
    for section in sections[1:-1]:
        assert section.startswith(b"\r\n") and section.endswith(b"\r\n")
        head, _, body = section[2:-2].partition(b"\r\n\r\n")
        headers = dict(line.decode().split(": ", 1) for line in head.split(b"\r\n"))
        parts.append(({k.lower(): v for k, v in headers.items()}, body))
    return parts


async def test_attachments_multipart_with_data_part_is_200(client: httpx.AsyncClient) -> None:
    body = multipart(
        statement(attachments=[attachment(CERTIFICATE)]),
        part(CERTIFICATE, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
    )
    response = await post_multipart(client, body)
    assert response.status_code == 200, response.text
    [statement_id] = response.json()
    assert (await fetch(client, statement_id))["attachments"] == [attachment(CERTIFICATE)]


async def test_attachments_true_answers_multipart_with_statement_and_raw_data(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    sent = statement(id=statement_id, attachments=[attachment(CERTIFICATE)])
    body = multipart(sent, part(CERTIFICATE, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}))
    assert (await post_multipart(client, body)).status_code == 200
    response = await get_statements(client, {"statementId": statement_id, "attachments": "true"})
    assert response.status_code == 200
    [(json_headers, json_body), (data_headers, data)] = parse_multipart(response)
    assert json_headers["content-type"] == "application/json"
    assert json.loads(json_body)["id"] == statement_id
    assert data == CERTIFICATE
    assert data_headers["x-experience-api-hash"] == sha256(CERTIFICATE)
    assert data_headers["content-transfer-encoding"] == "binary"
    assert data_headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content.count(sha256(CERTIFICATE).encode()) == 2


async def test_attachments_true_on_a_query_answers_every_part_once(
    client: httpx.AsyncClient,
) -> None:
    first = statement(attachments=[attachment(CERTIFICATE), attachment(NOTES)])
    second = statement(attachments=[attachment(CERTIFICATE)])
    body = multipart(
        [first, second],
        part(CERTIFICATE, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
        part(NOTES, **{"X-Experience-API-Hash": sha256(NOTES)}),
    )
    assert (await post_multipart(client, body)).status_code == 200
    response = await get_statements(client, {"attachments": "true"})
    [(_, json_body), *raw] = parse_multipart(response)
    assert len(json.loads(json_body)["statements"]) == 2
    assert sorted(data for _, data in raw) == sorted([CERTIFICATE, NOTES])


async def test_attachments_false_answers_plain_json(client: httpx.AsyncClient) -> None:
    statement_id = new_id()
    body = multipart(
        statement(id=statement_id, attachments=[attachment(CERTIFICATE)]),
        part(CERTIFICATE, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
    )
    assert (await post_multipart(client, body)).status_code == 200
    response = await get_statements(client, {"statementId": statement_id, "attachments": "false"})
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["id"] == statement_id


async def test_attachments_missing_data_part_is_400(client: httpx.AsyncClient) -> None:
    statement_id = new_id()
    body = multipart(
        statement(id=statement_id, attachments=[attachment(CERTIFICATE), attachment(NOTES)]),
        part(CERTIFICATE, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
    )
    response = await post_multipart(client, body)
    assert response.status_code == 400
    assert sha256(NOTES) in problem_detail(response)
    assert (await get_statements(client, {"statementId": statement_id})).status_code == 404


async def test_attachments_without_file_url_in_json_is_400(client: httpx.AsyncClient) -> None:
    response = await post_statements(client, statement(attachments=[attachment(CERTIFICATE)]))
    assert response.status_code == 400
    assert problem_detail(response).startswith("statement.attachments[0]: ")


async def test_attachments_part_without_hash_header_is_400(client: httpx.AsyncClient) -> None:
    body = multipart(statement(attachments=[attachment(CERTIFICATE)]), part(CERTIFICATE))
    response = await post_multipart(client, body)
    assert response.status_code == 400
    assert "X-Experience-API-Hash" in problem_detail(response)


async def test_attachments_part_matching_no_attachment_is_400(client: httpx.AsyncClient) -> None:
    body = multipart(
        statement(attachments=[attachment(CERTIFICATE)]),
        part(CERTIFICATE, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
        part(NOTES, **{"X-Experience-API-Hash": sha256(NOTES)}),
    )
    response = await post_multipart(client, body)
    assert response.status_code == 400
    assert sha256(NOTES) in problem_detail(response)


async def test_attachments_base64_part_is_400(client: httpx.AsyncClient) -> None:
    encoded = part(CERTIFICATE, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}).replace(
        b"binary", b"base64"
    )
    response = await post_multipart(
        client, multipart(statement(attachments=[attachment(CERTIFICATE)]), encoded)
    )
    assert response.status_code == 400
    assert "base64" in problem_detail(response)


async def test_attachments_first_part_not_json_is_400(client: httpx.AsyncClient) -> None:
    body = multipart(
        statement(attachments=[attachment(CERTIFICATE)]),
        part(CERTIFICATE, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
        first_type="text/plain",
    )
    assert (await post_multipart(client, body)).status_code == 400


@pytest.mark.parametrize(
    "content_type",
    ["multipart/mixed;", f"multipart/form-data; boundary={BOUNDARY}", "text/plain"],
)
async def test_attachments_wrong_content_type_is_400(
    client: httpx.AsyncClient, content_type: str
) -> None:
    body = multipart(
        statement(attachments=[attachment(CERTIFICATE)]),
        part(CERTIFICATE, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
    )
    assert (await post_multipart(client, body, content_type)).status_code == 400


async def test_attachments_body_without_close_delimiter_is_400(client: httpx.AsyncClient) -> None:
    body = multipart(statement()).removesuffix(b"--" + BOUNDARY.encode() + b"--\r\n")
    assert (await post_multipart(client, body)).status_code == 400


async def test_attachments_file_url_only_in_json_is_200(client: httpx.AsyncClient) -> None:
    linked = attachment(CERTIFICATE, fileUrl="https://nxce.example/certificates/张伟.txt")
    response = await post_statements(client, statement(attachments=[linked]))
    assert response.status_code == 200
    assert (await fetch(client, response.json()[0]))["attachments"] == [linked]


async def test_attachments_multipart_with_only_the_statement_part_is_200(
    client: httpx.AsyncClient,
) -> None:
    linked = attachment(CERTIFICATE, fileUrl="https://nxce.example/certificates/张伟.txt")
    assert (
        await post_multipart(client, multipart(statement(attachments=[linked])))
    ).status_code == 200
    assert (await post_multipart(client, multipart(statement()))).status_code == 200


async def test_attachments_part_is_accepted_without_checking_length(
    client: httpx.AsyncClient,
) -> None:
    """The conformance suite sends hex text while declaring the binary length."""
    declared = attachment(CERTIFICATE, length=len(CERTIFICATE) // 2)
    body = multipart(
        statement(attachments=[declared]),
        part(CERTIFICATE, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
    )
    assert (await post_multipart(client, body)).status_code == 200


async def test_attachments_put_multipart_is_204(client: httpx.AsyncClient) -> None:
    statement_id = new_id()
    body = multipart(
        statement(attachments=[attachment(NOTES)]),
        part(NOTES, **{"X-Experience-API-Hash": sha256(NOTES)}),
    )
    response = await client.put(
        STATEMENTS,
        params={"statementId": statement_id},
        content=body,
        headers={**xapi(), "Content-Type": f"multipart/mixed; boundary={BOUNDARY}"},
    )
    assert response.status_code == 204
    got = await get_statements(client, {"statementId": statement_id, "attachments": "true"})
    assert [data for _, data in parse_multipart(got)[1:]] == [NOTES]


async def test_attachments_part_whose_data_does_not_match_its_hash_is_400(
    client: httpx.AsyncClient,
) -> None:
    forged = "伪造的证书".encode()
    body = multipart(
        statement(attachments=[attachment(CERTIFICATE)]),
        part(forged, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
    )
    response = await post_multipart(client, body)
    assert response.status_code == 400


async def test_attachments_forged_part_does_not_replace_later_real_data(
    client: httpx.AsyncClient,
) -> None:
    forged = "伪造的证书".encode()
    await post_multipart(
        client,
        multipart(
            statement(attachments=[attachment(CERTIFICATE)]),
            part(forged, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
        ),
    )
    statement_id = new_id()
    real = multipart(
        statement(id=statement_id, attachments=[attachment(CERTIFICATE)]),
        part(CERTIFICATE, **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
    )
    assert (await post_multipart(client, real)).status_code == 200
    got = await get_statements(client, {"statementId": statement_id, "attachments": "true"})
    assert [data for _, data in parse_multipart(got)[1:]] == [CERTIFICATE]
