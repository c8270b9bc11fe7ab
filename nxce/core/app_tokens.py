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

    def __init__(self, ring: keys.Keyring) -> None:
        self._access = ring.derived(keys.Purpose.app_tokens)
        self._refresh = ring.derived(keys.Purpose.refresh_tokens)

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
        token = jwt.encode(
            claims,
            self._access.current,
            algorithm=_ALGORITHM,
            headers={"kid": self._access.current_id},
        )
        return token, ACCESS_SECONDS

    def _access_keys(self, token: str) -> tuple[bytes, ...]:
        """The keys that may have signed `token`: the one its `kid` names (none when the
        ring lacks it), or every key of the ring for a token made before key ids."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return ()
        if kid is None:
            return self._access.all
        key = self._access.by_id(kid) if isinstance(kid, str) else None
        return (key,) if key is not None else ()

    def verify_access(self, token: str) -> tuple[str, str]:
        """(learner id, device id) of a valid, unexpired access token; 401 otherwise."""
        claims = None
        for key in self._access_keys(token):
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=[_ALGORITHM],
                    options={"require": ["sub", "dev", "iat", "exp", "typ"]},
                    leeway=_LEEWAY_SECONDS,
                )
                break
            except jwt.ExpiredSignatureError:
                raise Unauthorized(
                    "the access token has expired: refresh it", challenge=BEARER_CHALLENGE
                ) from None
            except jwt.PyJWTError:
                continue
        if claims is None:
            raise Unauthorized("the access token is not valid", challenge=BEARER_CHALLENGE)
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
        message = _CHAIN_LABEL + refresh_token.encode()
        mac = hmac.new(self._refresh.current, message, hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")

    def refresh_digest(self, refresh_token: str) -> str:
        """The keyed digest under which a refresh token is stored (the current key)."""
        return self._refresh_digest(self._refresh.current, refresh_token)

    def refresh_digests(self, refresh_token: str) -> list[str]:
        """The digests of a refresh token under every key of the ring, the current first:
        a device signed in before a rotation keeps refreshing while its key is kept."""
        return [self._refresh_digest(key, refresh_token) for key in self._refresh.all]

    @staticmethod
    def _refresh_digest(key: bytes, refresh_token: str) -> str:
        return hmac.new(key, refresh_token.encode(), hashlib.sha256).hexdigest()
