"""Signed statements (Data 2.6): a JWS in an attachment, checked before the statement is
stored. Malformed signatures are refused with 400."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lrs.statements import compare
from nxce.core import json_input
from nxce.core.errors import BadRequest

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_CONTENT_TYPE = "application/octet-stream"
_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}


class SignatureInvalid(ValueError):
    """The statement's signature is malformed or does not match the statement."""


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SignatureInvalid("the JWS is not base64url encoded") from None


def is_signature(attachment: dict[str, Any]) -> bool:
    return attachment.get("usageType") == SIGNATURE_USAGE


def verify(statement: dict[str, Any], jws: bytes) -> None:
    """Data 2.6: decode the JWS, check its algorithm (RS256/384/512), check the signature
    against an x5c certificate when one is given, and check that the signed payload is the
    statement as it was before the signature was attached."""
    try:
        header_b64, payload_b64, signature_b64 = jws.decode("ascii").strip().split(".")
    except (UnicodeDecodeError, ValueError):
        raise SignatureInvalid("the signature is not a JWS in compact serialization") from None
    try:
        header = json_input.loads(_b64url(header_b64), "the JWS header")
        payload = json_input.loads(_b64url(payload_b64), "the JWS payload")
    except BadRequest as error:
        raise SignatureInvalid(error.detail) from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise SignatureInvalid("the JWS header and payload must be JSON objects")
    if not isinstance(payload.get("attachments", []), list) or not all(
        isinstance(a, dict) for a in payload.get("attachments", [])
    ):
        raise SignatureInvalid("the JWS payload's attachments must be an array of objects")
    algorithm = header.get("alg")
    if algorithm not in _HASHES:
        raise SignatureInvalid(
            f"the JWS algorithm must be RS256, RS384 or RS512, got {algorithm!r}"
        )
    chain = header.get("x5c")
    if chain:
        _check_with_certificate(chain, algorithm, f"{header_b64}.{payload_b64}", signature_b64)
    unsigned = dict(statement)
    unsigned["attachments"] = [a for a in statement.get("attachments", []) if not is_signature(a)]
    if not unsigned["attachments"]:
        del unsigned["attachments"]
    payload_attachments = payload.get("attachments")
    if payload_attachments is not None:
        payload = {
            **payload,
            "attachments": [a for a in payload_attachments if not is_signature(a)],
        }
        if not payload["attachments"]:
            del payload["attachments"]
    if not compare.same(payload, unsigned) or (
        "id" in payload
        and "id" in statement
        and str(payload["id"]).lower() != str(statement["id"]).lower()
    ):
        raise SignatureInvalid("the signed payload is not the statement it is attached to")


def _check_with_certificate(chain: Any, algorithm: str, signed: str, signature_b64: str) -> None:
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        raise SignatureInvalid("x5c must be a list of base64 certificates")
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
    except (ValueError, binascii.Error):
        raise SignatureInvalid("the x5c certificate cannot be read") from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureInvalid("the x5c certificate does not hold an RSA key")
    try:
        key.verify(
            _b64url(signature_b64), signed.encode("ascii"), padding.PKCS1v15(), _HASHES[algorithm]()
        )
    except InvalidSignature:
        raise SignatureInvalid(
            "the JWS signature does not verify against its certificate"
        ) from None
