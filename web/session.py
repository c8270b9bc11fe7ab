"""Signed, HTTP-only session cookies and CSRF tokens for the web pages.

A session is who signed in, a digest of their secret's (or password's) hash, an id, an
expiry and a CSRF token, signed with an HMAC keyed from the service's secret key. Who signed
in is a client's key, or `learner:<id>` for a learner who signed in with an account name and
password (`app_principal_key`: a colon never occurs in a client key). The client, or the
learner's account, is read afresh on every request, so a disabled client, a new secret, a
new password or changed scopes take effect at once (a learner who changes their password
ends their sessions elsewhere); signing out records the session's id as ended (kept until
it would have expired), so a copied cookie is worth nothing after. Forms carry the
session's CSRF token; the sign-in and activation forms, before any session, a double-submit
token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from beanie import Document
from fastapi import Request, Response
from pymongo import ASCENDING, IndexModel

from accounts import service as account_service
from credits import learners as credit_learners
from nxce.core import clients, db, keys
from nxce.core.auth import APP_SCOPES, Principal, app_principal_key
from nxce.core.errors import NotFound

COOKIE = "nxce_session"
CSRF_COOKIE = "nxce_csrf"
LIFETIME = 8 * 3600  # a working day


@dataclass(frozen=True, slots=True)
class Session:
    key: str
    expires: int
    csrf: str
    sid: str = ""
    secret: str = ""  # a digest of the client's secret hash (a learner's password hash)


class EndedSession(Document):
    """A session signed out before it expired; forgotten once it would have expired."""

    sid: str
    expires_at: datetime

    class Settings:
        name = "ended_sessions"
        indexes = [
            IndexModel([("sid", ASCENDING)], unique=True, name="sid_unique"),
            # MongoDB drops them when they expire (a TTL index).
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry"),
        ]


def secret_digest(secret_hash: str) -> str:
    return hashlib.sha256(secret_hash.encode()).hexdigest()[:32]


class Sessions:
    """Session cookies: `<data>.<key id>.<MAC>`, signed with the key of the current secret
    key and opened with the key its id names (a cookie signed before a rotation stays
    good until it expires, while its key is in the ring). A cookie of the release before
    key ids (`<data>.<MAC>`) is checked against each key of the ring."""

    def __init__(self, ring: keys.Keyring) -> None:
        self._keys = ring.derived(keys.Purpose.web_sessions)

    @staticmethod
    def _sign(key: bytes, payload: bytes) -> str:
        mac = hmac.new(key, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def _signed(self, data: str, kid: str | None, mac: str) -> bool:
        if kid is None:
            candidates = self._keys.all
        else:
            key = self._keys.by_id(kid)
            candidates = (key,) if key is not None else ()
        return any([hmac.compare_digest(mac, self._sign(k, data.encode())) for k in candidates])

    def encode(self, session: Session) -> str:
        payload = json.dumps(
            {
                "k": session.key,
                "e": session.expires,
                "c": session.csrf,
                "i": session.sid,
                "s": session.secret,
            }
        )
        data = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        kid = self._keys.current_id
        return f"{data}.{kid}.{self._sign(self._keys.current, data.encode())}"

    def decode(self, value: str | None) -> Session | None:
        """The session a cookie holds, or None when it is missing, forged or expired."""
        if not value or "." not in value or len(value) > 1024:
            return None
        parts = value.split(".")
        if len(parts) not in (2, 3):
            return None
        data, mac = parts[0], parts[-1]
        if not self._signed(data, parts[1] if len(parts) == 3 else None, mac):
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
            session = Session(
                str(fields["k"]),
                int(fields["e"]),
                str(fields["c"]),
                str(fields["i"]),
                str(fields["s"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def start(
        self, response: Response, key: str, secret_hash: str, request: Request, secure: bool
    ) -> Session:
        session = Session(
            key,
            int(time.time()) + LIFETIME,
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(16),
            secret_digest(secret_hash),
        )
        response.set_cookie(
            COOKIE,
            self.encode(session),
            max_age=LIFETIME,
            httponly=True,
            secure=secure,
            samesite="lax",
            path="/",
        )
        response.delete_cookie(CSRF_COOKIE, path="/signin")
        return session

    async def end(self, response: Response, session: Session | None) -> None:
        response.delete_cookie(COOKIE, path="/")
        await self.forget(session)

    async def forget(self, session: Session | None) -> None:
        """Record `session` as ended: its cookie, wherever it is kept, is worth nothing."""
        if session is not None and session.sid:
            ended = EndedSession(
                sid=session.sid, expires_at=datetime.fromtimestamp(session.expires, UTC)
            )
            await db.collection(EndedSession).replace_one(
                {"sid": session.sid}, db.new_document(ended), upsert=True
            )

    def current(self, request: Request) -> Session | None:
        return self.decode(request.cookies.get(COOKIE))


LEARNER_PREFIX = app_principal_key("")


def learner_key(learner_id: str) -> str:
    """The session key of a learner signed in with their password."""
    return app_principal_key(learner_id)


async def principal_of(sessions: Sessions, request: Request) -> Principal | None:
    """The signed-in client or learner, read afresh (None when signed out, or the client
    is gone, disabled or has a new secret, or the learner has a new password or is gone).
    Read once per request: a page's dependencies and its rendering ask again."""
    session = sessions.current(request)
    if session is None:
        return None
    read: tuple[str, Principal | None] | None = getattr(request.state, "principal_read", None)
    if read is not None and read[0] == session.sid:
        return read[1]
    principal = await _read(session)
    request.state.principal_read = (session.sid, principal)
    return principal


async def _read(session: Session) -> Principal | None:
    if session.key.startswith(LEARNER_PREFIX):
        principal = await _learner(session.key.removeprefix(LEARNER_PREFIX), session.secret)
    else:
        principal = await _client(session.key, session.secret)
    if principal is None:
        return None
    if await db.collection(EndedSession).find_one({"sid": session.sid}, {"_id": 1}):
        return None
    return principal


async def _client(key: str, digest: str) -> Principal | None:
    client = await clients.get_by_key(key=key)
    if client is None or client.disabled:
        return None
    if not hmac.compare_digest(digest, secret_digest(client.secret_hash)):
        return None
    return Principal(
        key=client.key,
        name=client.name,
        scopes=tuple(client.scopes),
        learner_id=client.learner_id,
        base_id=client.base_id,
    )


async def _learner(learner_id: str, digest: str) -> Principal | None:
    """A learner signed in with their password: the scopes of a learner-bound app (the
    same as an app's access token), named as their record names them."""
    password_hash = await account_service.password_hash_of(learner_id=learner_id)
    if password_hash is None or not hmac.compare_digest(digest, secret_digest(password_hash)):
        return None
    try:
        learner = await credit_learners.get_learner(learner_id=learner_id)
    except NotFound:
        return None
    if learner.erased_at is not None:
        return None
    return Principal(
        key=learner_key(learner_id),
        name=learner.name,
        scopes=APP_SCOPES,
        learner_id=learner_id,
    )


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


DOCUMENTS = (EndedSession,)
