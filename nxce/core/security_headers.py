"""Security headers on every response, and a Content-Security-Policy on the pages.

The pages (web/) load only their own stylesheet and scripts from /static, fetch JSON from
this origin and post forms to it: no inline script or style, no other origin, no frames.
The policy allows exactly that. FastAPI's API documentation pages (/docs, /redoc) load
Swagger UI and ReDoc from a CDN with inline code, so they get only `frame-ancestors`.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",  # the browser's own /favicon.ico request
        "connect-src 'self'",  # search suggestions, export progress
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
FRAMING_POLICY = "frame-ancestors 'none'"

EVERY_RESPONSE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware: `EVERY_RESPONSE` on every answer, `PAGE_POLICY` on HTML ones
    (`FRAMING_POLICY` on the HTML of the paths in `documentation`). A header a route set
    itself is kept."""

    def __init__(self, app: ASGIApp, documentation: Collection[str] = ()) -> None:
        self.app = app
        self.documentation = frozenset(documentation)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = FRAMING_POLICY if scope.get("path") in self.documentation else PAGE_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in EVERY_RESPONSE.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("content-security-policy", policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)
