"""HTTP Basic authentication of clients and scope checks, as FastAPI dependencies."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from nxce import clients, passwords
from nxce.clients import Scope
from nxce.errors import Forbidden, Unauthorized

_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class Principal:
    """The authenticated client of a request."""

    key: str
    name: str
    scopes: tuple[str, ...]

    def holds(self, scope: Scope) -> bool:
        return clients.holds(list(self.scopes), scope)


class Verifier:
    """Checks Basic credentials; remembers verified (client, secret) pairs.

    scrypt costs tens of milliseconds, too much for every request. A pair is
    remembered with the stored hash it matched, so a changed secret or a
    re-hashed client is verified afresh; nothing but a digest of the secret is kept.
    """

    def __init__(self, client_file: clients.ClientFile | None = None) -> None:
        self._verified: dict[tuple[str, bytes], str] = {}
        self.client_file = client_file

    async def principal(self, authorization: str | None) -> Principal:
        key, secret = _parse_basic(authorization)
        client = await clients.get_by_key(key=key)
        if client is None and self.client_file is not None and self.client_file.changed():
            await self.client_file.import_into_store()
            client = await clients.get_by_key(key=key)
        if client is None or client.disabled or not self._verify(key, secret, client.secret_hash):
            raise Unauthorized("unknown client key or wrong secret")
        return Principal(key=client.key, name=client.name, scopes=tuple(client.scopes))

    def _verify(self, key: str, secret: str, secret_hash: str) -> bool:
        memo = (key, hashlib.sha256(secret.encode()).digest())
        if self._verified.get(memo) == secret_hash:
            return True
        if not passwords.verify_secret(secret, secret_hash):
            return False
        if len(self._verified) >= _CACHE_LIMIT:
            self._verified.clear()
        self._verified[memo] = secret_hash
        return True


def _parse_basic(authorization: str | None) -> tuple[str, str]:
    if not authorization:
        raise Unauthorized("authentication required: send HTTP Basic credentials")
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise Unauthorized(f"use HTTP Basic authentication, got scheme {scheme[:20]!r}")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("malformed HTTP Basic credentials") from None
    key, sep, secret = decoded.partition(":")
    if not sep or not key:
        raise Unauthorized("malformed HTTP Basic credentials: expected key:secret")
    return key, secret


def require(scope: Scope) -> Any:
    """A dependency answering the request's `Principal`, 401/403 unless it holds `scope`."""

    async def dependency(request: Request) -> Principal:
        verifier: Verifier = request.app.state.verifier
        principal = await verifier.principal(request.headers.get("authorization"))
        if not principal.holds(scope):
            raise Forbidden(f"client {principal.key!r} lacks the scope {scope.value!r}")
        return principal

    return Depends(dependency)


Admin = Annotated[Principal, require(Scope.admin)]
