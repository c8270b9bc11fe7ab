"""multipart/mixed for statements with attachments (Communication 1.5.2, RFC 2046).

The first part holds the statements (`application/json`); each further part holds the raw
data of one attachment, found by its `X-Experience-API-Hash` (the sha2 of the data).
"""

from __future__ import annotations

import email.message
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from nxce.core.errors import BadRequest


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "text/plain")


_HASHES = {56: hashlib.sha224, 64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


def hash_matches(data: bytes, sha2: str) -> bool:
    """True when `data` hashes to `sha2` (SHA-224/256/384/512 chosen by its length)."""
    if not sha2.isascii():
        return False
    algorithm = _HASHES.get(len(sha2))
    return algorithm is not None and hmac.compare_digest(algorithm(data).hexdigest(), sha2.lower())


def media_type(content_type: str | None) -> str:
    """`application/json` of `application/json; charset=utf-8`."""
    return (content_type or "").split(";")[0].strip().lower()


def boundary_of(content_type: str) -> str:
    message = email.message.Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise BadRequest("multipart/mixed needs a boundary parameter (RFC 2046)")
    return boundary


def parse(body: bytes, content_type: str) -> list[Part]:
    """The parts of a multipart/mixed body; 400 when it is not well formed."""
    delimiter = b"--" + boundary_of(content_type).encode("latin-1")
    if body.startswith(delimiter):
        body = b"\r\n" + body
    sections = body.split(b"\r\n" + delimiter)
    if len(sections) < 3 and not (len(sections) == 2 and sections[1].startswith(b"--")):
        raise BadRequest("multipart/mixed body has no parts between its boundaries")
    parts = []
    for section in sections[1:]:
        if section.startswith(b"--"):
            break  # the close delimiter
        section = section.split(b"\r\n", 1)[1] if b"\r\n" in section else b""
        head, separator, content = section.partition(b"\r\n\r\n")
        if not separator:
            if section.startswith(b"\r\n"):  # no headers at all
                head, content = b"", section[2:]
            else:
                raise BadRequest("a multipart/mixed part has no blank line after its headers")
        headers = {}
        for line in head.split(b"\r\n"):
            if not line.strip():
                continue
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise BadRequest(f"malformed part header {line[:60]!r}")
            headers[name.strip().lower()] = value.strip()
        parts.append(Part(headers=headers, body=content))
    else:
        raise BadRequest("multipart/mixed body does not end with its close delimiter")
    return parts


def build(first: bytes, attachments: list[tuple[str, str, bytes]]) -> tuple[str, bytes]:
    """A multipart/mixed body: the JSON `first`, then (sha2, content type, data) parts;
    answers (Content-Type header, body)."""
    boundary = secrets.token_hex(16)
    delimiter = f"--{boundary}".encode()
    chunks = [delimiter, b"\r\nContent-Type: application/json\r\n\r\n", first]
    for sha2, content_type, data in attachments:
        chunks += [
            b"\r\n",
            delimiter,
            f"\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode("latin-1"),
            data,
        ]
    chunks += [b"\r\n", delimiter, b"--\r\n"]
    return f"multipart/mixed; boundary={boundary}", b"".join(chunks)
