"""Signed statements (Data 2.6): a compact JWS over the statement, sent as a multipart
attachment with the signature usageType; malformed or mismatched signatures are 400."""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.lrs.conftest import (
    STATEMENTS,
    fetch,
    get_statements,
    new_id,
    problem_detail,
    statement,
    xapi,
)

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
BOUNDARY = "-------------4711"
HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}


@functools.cache
def private_key(seed: int = 0) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def certificate(key: rsa.RSAPrivateKey) -> str:
    """A self-signed certificate of `key`, base64 DER as in x5c."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "宁夏专业技术人员继续教育平台")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def jws(
    payload: Any, alg: str = "RS256", key: rsa.RSAPrivateKey | None = None, **header: Any
) -> bytes:
    """A compact JWS of `payload` (a JSON value, or raw bytes)."""
    encoded_payload = (
        payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    )
    signing_input = (
        f"{b64url(json.dumps({'alg': alg, **header}).encode())}.{b64url(encoded_payload)}"
    )
    if alg.startswith("HS"):
        secret = (key or private_key()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    else:
        signature = (key or private_key()).sign(
            signing_input.encode(), padding.PKCS1v15(), HASHES[alg]()
        )
    return f"{signing_input}.{b64url(signature)}".encode()


def signed_body(
    sent: dict[str, Any], token: bytes, content_type: str = "application/octet-stream"
) -> bytes:
    """The multipart body helper.signStatement of the conformance suite sends: a leading
    CRLF, no space after header colons, no CRLF after the close delimiter."""
    meta = {
        "usageType": SIGNATURE,
        "display": {"zh-CN": "签名", "en-US": "Signature"},
        "contentType": content_type,
        "length": len(token),
        "sha2": hashlib.sha256(token).hexdigest(),
    }
    first = json.dumps({**sent, "attachments": [meta]}, ensure_ascii=False).encode()
    return (
        f"\r\n--{BOUNDARY}\r\nContent-Type:application/json\r\n\r\n".encode()
        + first
        + f"\r\n--{BOUNDARY}\r\nContent-Type:{content_type}\r\nContent-Transfer-Encoding:binary"
        f"\r\nX-Experience-API-Hash:{meta['sha2']}\r\n\r\n".encode()
        + token
        + f"\r\n--{BOUNDARY}--".encode()
    )


async def post_signed(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post(
        STATEMENTS,
        content=body,
        headers={**xapi(), "Content-Type": f"multipart/mixed; boundary={BOUNDARY}"},
    )


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
async def test_signed_statement_with_rsa_jws_is_200(client: httpx.AsyncClient, alg: str) -> None:
    sent = statement(id=new_id())
    token = jws(sent, alg)
    response = await post_signed(client, signed_body(sent, token))
    assert response.status_code == 200, response.text
    assert response.json() == [sent["id"]]
    got = await get_statements(client, {"statementId": sent["id"], "attachments": "true"})
    assert got.content.count(token) == 1
    assert (await fetch(client, sent["id"]))["attachments"][0]["usageType"] == SIGNATURE


async def test_signed_statement_with_matching_certificate_is_200(
    client: httpx.AsyncClient,
) -> None:
    sent = statement(id=new_id())
    token = jws(sent, x5c=[certificate(private_key())])
    assert (await post_signed(client, signed_body(sent, token))).status_code == 200


async def test_signed_statement_whose_certificate_does_not_verify_is_400(
    client: httpx.AsyncClient,
) -> None:
    sent = statement(id=new_id())
    token = jws(sent, x5c=[certificate(private_key(1))])
    response = await post_signed(client, signed_body(sent, token))
    assert response.status_code == 400
    assert "certificate" in problem_detail(response)


async def test_signed_statement_payload_differing_from_statement_is_400(
    client: httpx.AsyncClient,
) -> None:
    sent = statement(id=new_id())
    other = statement(id=sent["id"], result={"success": True, "response": "合格"})
    response = await post_signed(client, signed_body(sent, jws(other)))
    assert response.status_code == 400
    assert "signed payload" in problem_detail(response)
    assert (await get_statements(client, {"statementId": sent["id"]})).status_code == 404


async def test_signed_statement_payload_with_other_id_is_400(client: httpx.AsyncClient) -> None:
    sent = statement(id=new_id())
    response = await post_signed(client, signed_body(sent, jws({**sent, "id": new_id()})))
    assert response.status_code == 400


async def test_signed_statement_with_hs256_is_400(client: httpx.AsyncClient) -> None:
    sent = statement(id=new_id())
    response = await post_signed(client, signed_body(sent, jws(sent, "HS256")))
    assert response.status_code == 400
    assert "'HS256'" in problem_detail(response)


async def test_signed_statement_payload_not_json_is_400(client: httpx.AsyncClient) -> None:
    sent = statement(id=new_id())
    broken = json.dumps(sent, ensure_ascii=False).replace('"', "'", 1).encode()
    response = await post_signed(client, signed_body(sent, jws(broken)))
    assert response.status_code == 400


async def test_signed_statement_with_text_content_type_is_400(client: httpx.AsyncClient) -> None:
    sent = statement(id=new_id())
    body = signed_body(sent, jws(sent), content_type="text/plain; charset=ascii")
    response = await post_signed(client, body)
    assert response.status_code == 400
    assert "application/octet-stream" in problem_detail(response)


async def test_signed_statement_duration_compares_to_hundredths(
    client: httpx.AsyncClient,
) -> None:
    signed = statement(id=new_id(), result={"duration": "P1DT12H36M0.12S"})
    sent = {**signed, "result": {"duration": "P1DT12H36M0.1237S"}}
    assert (await post_signed(client, signed_body(sent, jws(signed)))).status_code == 200
