"""Signed, HTTP-only session cookies and CSRF tokens for the web pages.

A session is the key of the client that signed in, an expiry and a CSRF token, signed
with an HMAC keyed from the service's secret key. The client is read afresh on every
request, so a disabled client or changed scopes take effect at once. Forms carry the
session's CSRF token; the sign-in form, before any session, a double-submit token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from fastapi import Request, Response

from nxce import clients
from nxce.auth import Principal

COOKIE = "nxce_session"
CSRF_COOKIE = "nxce_csrf"
LIFETIME = 8 * 3600  # a working day
_LABEL = b"nxce web sessions v1"


@dataclass(frozen=True, slots=True)
class Session:
    key: str
    expires: int
    csrf: str


class Sessions:
    def __init__(self, secret_key: bytes) -> None:
        self._key = hmac.new(secret_key, _LABEL, hashlib.sha256).digest()

    def _sign(self, payload: bytes) -> str:
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def encode(self, session: Session) -> str:
        payload = json.dumps({"k": session.key, "e": session.expires, "c": session.csrf})
        data = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return f"{data}.{self._sign(data.encode())}"

    def decode(self, value: str | None) -> Session | None:
        """The session a cookie holds, or None when it is missing, forged or expired."""
        if not value or "." not in value or len(value) > 1024:
            return None
        data, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac, self._sign(data.encode())):
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
            session = Session(str(fields["k"]), int(fields["e"]), str(fields["c"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def start(self, response: Response, key: str, request: Request) -> Session:
        session = Session(key, int(time.time()) + LIFETIME, secrets.token_urlsafe(24))
        response.set_cookie(
            COOKIE,
            self.encode(session),
            max_age=LIFETIME,
            httponly=True,
            secure=request.url.scheme == "https",
            samesite="lax",
            path="/",
        )
        response.delete_cookie(CSRF_COOKIE, path="/")
        return session

    def end(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/")

    def current(self, request: Request) -> Session | None:
        return self.decode(request.cookies.get(COOKIE))


async def principal_of(sessions: Sessions, request: Request) -> Principal | None:
    """The signed-in client, read afresh (None when signed out or the client is gone)."""
    session = sessions.current(request)
    if session is None:
        return None
    client = await clients.get_by_key(key=session.key)
    if client is None or client.disabled:
        return None
    return Principal(
        key=client.key, name=client.name, scopes=tuple(client.scopes), learner_id=client.learner_id
    )


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
