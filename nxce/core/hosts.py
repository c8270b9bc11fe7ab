"""The hosts the service answers for (NXCE_ALLOWED_HOSTS): a request naming any other
Host gets a 400 before any route runs.

Pages and transcripts build links from the request's address (a transcript's verification
link and QR code, when NXCE_PUBLIC_URL is unset); refusing unknown hosts here means such a
link can only ever name a host the configuration lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from nxce.core.asgi import headers
from nxce.core.problems import send_problem

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")

# A DNS name or IPv4 address, or an IPv6 address in brackets; then an optional port.
_HOST = re.compile(
    r"^(?P<name>\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]{0,62})(?:\.[a-z0-9-]{1,63})*)"
    r"(?::(?P<port>[0-9]{1,5}))?$"
)


@dataclass(frozen=True, slots=True)
class Host:
    """A host name (lower case, IPv6 in brackets) and a port, None for any port."""

    name: str
    port: int | None = None

    def admits(self, other: Host) -> bool:
        return self.name == other.name and self.port in (None, other.port)

    def __str__(self) -> str:
        return self.name if self.port is None else f"{self.name}:{self.port}"


def parse(text: str) -> Host | None:
    """`name`, `name:port`, `[v6]` or `[v6]:port` as a Host; None when it is none of those."""
    found = _HOST.match(text.strip().lower().removesuffix("."))
    if found is None:
        return None
    port = found["port"]
    if port is not None and not 0 < int(port) < 65536:
        return None
    return Host(found["name"], int(port) if port is not None else None)


class TrustedHosts:
    """ASGI middleware: answer only requests whose Host is one of `allowed` (400 else)."""

    def __init__(self, app: ASGIApp, allowed: tuple[Host, ...]) -> None:
        self.app = app
        self.allowed = allowed

    def refusal(self, scope: Scope) -> str | None:
        """Why the request's Host is refused, or None when it is allowed."""
        given = headers(scope, b"host")
        if not given:
            return "the Host header is required"
        if len(given) > 1:
            return "give the Host header once"  # RFC 9112 §3.2
        host = parse(given[0])
        if host is not None and any(a.admits(host) for a in self.allowed):
            return None
        names = ", ".join(str(a) for a in self.allowed)
        return (
            f"this service does not answer for the host {given[0][:100]!r}; it answers for "
            f"{names} (NXCE_ALLOWED_HOSTS)"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        detail = self.refusal(scope)
        if detail is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send_problem(
            send, 400, "unknown-host", "Unknown host", detail, headers={"connection": "close"}
        )
