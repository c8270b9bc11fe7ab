"""Everything the account services need, built once per app (nxce/wiring.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from credits.context import Credits
from nxce.core import keys
from nxce.core.app_tokens import AppTokens
from nxce.core.throttle import Throttle

_HASHING_AT_ONCE = 2  # argon2 runs off the event loop, at most this many at a time


@dataclass
class Accounts:
    """The credit services (learners, their id numbers), the app's tokens, the sign-in
    throttle (shared with HTTP Basic clients, so one address's failures count together)
    and the keys of activation codes (the current one for new codes, every key of the
    ring for checking one)."""

    credits: Credits
    tokens: AppTokens
    throttle: Throttle
    activation_keys: keys.Derived
    _hashing: asyncio.Semaphore | None = field(default=None, repr=False)

    @classmethod
    def build(cls, *, ring: keys.Keyring, credits: Credits, throttle: Throttle) -> Accounts:
        return cls(
            credits=credits,
            tokens=AppTokens(ring),
            throttle=throttle,
            activation_keys=ring.derived(keys.Purpose.activation_codes),
        )

    def hashing(self) -> asyncio.Semaphore:
        """Bounds the argon2 computations running at once (each takes a core)."""
        if self._hashing is None:
            self._hashing = asyncio.Semaphore(_HASHING_AT_ONCE)
        return self._hashing
