"""The app's credentials: short-lived signed access tokens and opaque refresh tokens.

An access token is a JWT (PyJWT, HS256, a key derived for this purpose alone) naming the
learner (`sub`) and the device (`dev`); it lives `ACCESS_SECONDS`. A refresh token is 32
random bytes (URL-safe base64), stored only as an HMAC digest under a key of its own.

The answer to a refresh can be lost on a bad network, and the app then retries with the
token it still holds. So that the retry gets the same new pair without keeping tokens in
the store, the pair a refresh answers is derived from the token it consumed: the new
refresh token is an HMAC of the old one, and the access token is signed with the time of
the rotation as `iat` (HS256 signatures are deterministic).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from nxce.core import keys
from nxce.core.errors import Unauthorized

# RFC 6750 §3: the challenge of a refused access token.
BEARER_CHALLENGE = 'Bearer realm="nxce", error="invalid_token"'

ACCESS_SECONDS = 15 * 60
_ALGORITHM = "HS256"
_LEEWAY_SECONDS = 30  # clocks of replicas may differ a little
_CHAIN_LABEL = b"nxce refresh token chain: "


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str


class AppTokens:
    """Issues and verifies the app's tokens with keys derived from the secret key."""

    def __init__(self, secret: bytes) -> None:
        self._access_key = keys.derive(secret, keys.Purpose.app_tokens)
        self._refresh_key = keys.derive(secret, keys.Purpose.refresh_tokens)

    def issue_access(
        self, *, learner_id: str, device_id: str, now: datetime | None = None
    ) -> tuple[str, int]:
        """A signed access token of `learner_id` on `device_id`, and its lifetime in s."""
        issued = int((now or datetime.now(UTC)).timestamp())
        claims = {
            "sub": learner_id,
            "dev": device_id,
            "iat": issued,
            "exp": issued + ACCESS_SECONDS,
            "typ": "access",
        }
        return jwt.encode(claims, self._access_key, algorithm=_ALGORITHM), ACCESS_SECONDS

    def verify_access(self, token: str) -> tuple[str, str]:
        """(learner id, device id) of a valid, unexpired access token; 401 otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._access_key,
                algorithms=[_ALGORITHM],
                options={"require": ["sub", "dev", "iat", "exp", "typ"]},
                leeway=_LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized(
                "the access token has expired: refresh it", challenge=BEARER_CHALLENGE
            ) from None
        except jwt.PyJWTError:
            raise Unauthorized(
                "the access token is not valid", challenge=BEARER_CHALLENGE
            ) from None
        learner_id, device_id = claims.get("sub"), claims.get("dev")
        valid = isinstance(learner_id, str) and isinstance(device_id, str)
        if claims.get("typ") != "access" or not valid:
            raise Unauthorized("the access token is not valid", challenge=BEARER_CHALLENGE)
        return str(learner_id), str(device_id)

    @staticmethod
    def new_refresh() -> str:
        """A new opaque refresh token (for a new sign-in)."""
        return secrets.token_urlsafe(32)

    def next_refresh(self, refresh_token: str) -> str:
        """The refresh token that replaces `refresh_token` at its rotation: derived from
        it, so a retry of the same refresh is answered the same."""
        mac = hmac.new(self._refresh_key, _CHAIN_LABEL + refresh_token.encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")

    def refresh_digest(self, refresh_token: str) -> str:
        """The keyed digest under which a refresh token is stored."""
        return hmac.new(self._refresh_key, refresh_token.encode(), hashlib.sha256).hexdigest()
