"""Authentication and scope checks, as FastAPI dependencies: HTTP Basic for clients, and
Bearer access tokens for apps signed in as a learner (nxce/core/app_tokens.py)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBearer

from nxce.core import clients, devices, passwords
from nxce.core.app_tokens import BEARER_CHALLENGE, AppTokens
from nxce.core.client_handover import HandoverFile
from nxce.core.clients import Scope
from nxce.core.errors import Forbidden, Unauthorized
from nxce.core.throttle import Throttle

_CACHE_LIMIT = 4096
_HASHING_AT_ONCE = 2  # scrypt runs off the event loop, at most this many at a time
# Verified against when the key is unknown, so unknown and known keys take as long.
_DUMMY_HASH = passwords.hash_secret("nxce: no client has this secret")

# Declares HTTP Basic in the OpenAPI document (so /docs can authorise); parsing is ours.
_basic_scheme = HTTPBasic(auto_error=False, realm="nxce")
# Declares the app's Bearer access tokens next to it (POST /auth/app-sign-in).
_bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An app's access token (POST /auth/app-sign-in): a learner-bound client.",
)

# What an app signed in as a learner may do: the scopes of a learner-bound app client.
APP_SCOPES = (
    Scope.statements_write.value,
    Scope.statements_read_mine.value,
    Scope.state.value,
)


def app_principal_key(learner_id: str) -> str:
    """The client key every app token of `learner_id` acts under, whatever the device or
    sign-in: one writer per learner for the authority, store-once and voiding rules. A
    colon never occurs in a client key, so it never names a client."""
    return "learner:" + learner_id


@dataclass(frozen=True)
class Principal:
    """The authenticated client of a request."""

    key: str
    name: str
    scopes: tuple[str, ...]
    learner_id: str | None = None
    base_id: str | None = None  # the base a client of scope `base` acts for
    device_id: str | None = None  # the device of an app's access token

    def holds(self, scope: Scope) -> bool:
        return clients.holds(list(self.scopes), scope)


def acts_for_base(principal: Principal, base_id: str) -> bool:
    """Whether `principal` may act for the base `base_id` (its projects' enrolments and
    results, §五(二)): an admin for any base; a client of scope `base` for its own only."""
    if principal.holds(Scope.admin):
        return True
    return (
        Scope.base.value in principal.scopes
        and principal.base_id is not None
        and principal.base_id == base_id
    )


class Verifier:
    """Checks Basic credentials; remembers verified (client, secret) pairs.

    scrypt costs tens of milliseconds, too much for every request. A pair is
    remembered with the stored hash it matched, so a changed secret or a
    re-hashed client is verified afresh; nothing but a digest of the secret is kept.
    """

    def __init__(self, handovers: HandoverFile | None = None, *, prune: bool = False) -> None:
        self._verified: dict[tuple[str, bytes], str] = {}
        self._hashing: asyncio.Semaphore | None = None
        self.handovers = handovers  # clients.json on the embedded store
        self.prune = prune
        self.throttle = Throttle()

    async def principal(self, authorization: str | None, address: str) -> Principal:
        key, secret = _parse_basic(authorization)
        await self.throttle.check(key, address)
        if self.handovers is not None and self.handovers.changed():
            await self.handovers.apply(prune=self.prune)
        client = await clients.authenticating(key)
        stored_hash = client.secret_hash if client is not None else _DUMMY_HASH
        verified = await self._verify(key, secret, stored_hash)
        if client is None or client.disabled or not verified:
            await self.throttle.failed(key, address)
            raise Unauthorized("unknown client key or wrong secret")
        # The client is as stored now (a disabled one is refused at once); its
        # "last used" is written at most once a minute, not on every request.
        await clients.note_used(client)
        return Principal(
            key=client.key,
            name=client.name,
            scopes=tuple(client.scopes),
            learner_id=client.learner_id,
            base_id=client.base_id,
        )

    async def _verify(self, key: str, secret: str, secret_hash: str) -> bool:
        memo = (key, hashlib.sha256(secret.encode()).digest())
        if self._verified.get(memo) == secret_hash:
            return True
        if self._hashing is None:
            self._hashing = asyncio.Semaphore(_HASHING_AT_ONCE)
        async with self._hashing:
            ok = await asyncio.to_thread(passwords.verify_secret, secret, secret_hash)
        if not ok or secret_hash == _DUMMY_HASH:
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


async def bearer_principal(tokens: AppTokens, token: str) -> Principal:
    """The app signed in as a learner that holds the access token `token`: verified, then
    its device read (one find by a unique index), so a device signed out is refused at
    once, whatever is left of its token's lifetime. 401 otherwise."""
    learner_id, device_id = tokens.verify_access(token)
    device = await devices.get(device_id=device_id)
    if device is None or device.learner_id != learner_id:
        raise Unauthorized("the access token is not valid", challenge=BEARER_CHALLENGE)
    if device.revoked_at is not None:
        raise Unauthorized("this device was signed out: sign in again", challenge=BEARER_CHALLENGE)
    return Principal(
        key=app_principal_key(learner_id),
        name=learner_id,
        scopes=APP_SCOPES,
        learner_id=learner_id,
        device_id=device_id,
    )


def _bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    if not token.strip():
        raise Unauthorized("malformed Bearer credentials: no token", challenge=BEARER_CHALLENGE)
    return token.strip()


async def authenticate(request: Request) -> Principal:
    """The client of `request` by its Basic credentials, or the app signed in as a learner
    by its Bearer access token (401 or 429 otherwise)."""
    authorization = request.headers.get("authorization")
    token = _bearer_token(authorization)
    if token is not None:
        tokens: AppTokens = request.app.state.app_tokens
        return await bearer_principal(tokens, token)
    verifier: Verifier = request.app.state.verifier
    address = request.client.host if request.client else "unknown"
    return await verifier.principal(authorization, address)


def require(scope: Scope) -> Any:
    """A dependency answering the request's `Principal`, 401/403 unless it holds `scope`.
    The OpenAPI document names Bearer for it only when an app's token can hold `scope`."""

    async def dependency(
        request: Request, _: Annotated[Any, Depends(_basic_scheme)] = None
    ) -> Principal:
        principal = await authenticate(request)
        if not principal.holds(scope):
            raise Forbidden(f"client {principal.key!r} lacks the scope {scope.value!r}")
        return principal

    async def with_bearer(
        request: Request,
        _: Annotated[Any, Depends(_basic_scheme)] = None,
        __: Annotated[Any, Depends(_bearer_scheme)] = None,
    ) -> Principal:
        return await dependency(request)

    return Depends(with_bearer if scope.value in APP_SCOPES else dependency)


async def _any_client(
    request: Request,
    _: Annotated[Any, Depends(_basic_scheme)] = None,
    __: Annotated[Any, Depends(_bearer_scheme)] = None,
) -> Principal:
    return await authenticate(request)


# The authenticated client of a request, whatever it holds (routes check it themselves);
# the OpenAPI document names both schemes for the route.
Authenticated = Annotated[Principal, Depends(_any_client)]

ADMIN = require(Scope.admin)
Admin = Annotated[Principal, ADMIN]
