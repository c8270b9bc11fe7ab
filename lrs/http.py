"""HTTP rules every xAPI resource shares, as one ASGI middleware on `/xapi`:

- the version header (Communication 3.3): required on every request but About, answered on
  every response (errors included) with the version served;
- the alternate request syntax (Communication 1.3): in 1.0.x a POST with `?method=X` and a
  form body carrying headers, parameters and `content` is rewritten into the request it
  stands for, before authentication and routing; xAPI 2.0 removed it, so it is refused.
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lrs import versions
from lrs.statements import primitives, sequence
from nxce.core.asgi import header
from nxce.core.problems import send_problem

PREFIX = "/xapi"
_FORM_HEADERS = {
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
}
_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}
CONSISTENT = b"x-experience-api-consistent-through"
MAX_FIELDS = 64  # query parameters, or fields of an alternate-syntax form


log = logging.getLogger("nxce.lrs")


async def _consistent_text() -> str:
    """Communication 2.1.3 on a refused Statements request: the high-water mark, as the
    routes answer (lrs/statements/sequence.py). When the store cannot say, the epoch: a
    client pulling `since` it misses nothing."""
    try:
        mark = await sequence.visible_through()
    except Exception:  # the store is down: say nothing that could be too late
        log.warning("the high-water mark of `stored` could not be read", exc_info=True)
        mark = 0
    return primitives.format_timestamp(sequence.time_of(mark))


async def _refuse(send: Send, status: int, detail: str, version: str, scope: Scope) -> None:
    title = "Request body too large" if status == 413 else "Bad request"
    headers = {versions.HEADER: version}
    if scope.get("path", "").rstrip("/") == f"{PREFIX}/statements":
        headers[CONSISTENT.decode()] = await _consistent_text()  # Communication 2.1.3
    await send_problem(send, status, "xapi", title, detail, headers)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it is longer than `limit`."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class XapiMiddleware:
    """Version negotiation and the alternate request syntax for the xAPI resources."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = 15 * 1_048_576) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # The version each client (by its Authorization header) last spoke: a request that
        # forgets the header is refused in that version's terms; newcomers get 2.0.0.
        self._spoken: dict[bytes, versions.XapiVersion] = {}

    def _remember(self, scope: Scope, version: versions.XapiVersion | None) -> versions.XapiVersion:
        credentials = header(scope, b"authorization")
        if credentials is None:
            return version or versions.V2
        key = hashlib.sha256(credentials.encode("latin-1", "replace")).digest()
        if version is None:
            return self._spoken.get(key, versions.V2)
        if len(self._spoken) > 10_000:
            self._spoken.clear()
        self._spoken[key] = version
        return version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        try:
            query = dict(
                parse_qsl(
                    scope.get("query_string", b"").decode("latin-1"),
                    keep_blank_values=True,
                    max_num_fields=MAX_FIELDS,
                )
            )
        except ValueError:
            served = versions.parse(header(scope, b"x-experience-api-version")) or versions.V2
            detail = f"a request has at most {MAX_FIELDS} query parameters"
            await _refuse(send, 400, detail, served.served, scope)
            return
        if scope["method"] == "POST" and "method" in query:
            rewritten = await self._alternate(scope, receive, send, query)
            if rewritten is None:
                return
            scope, receive = rewritten
        version = versions.parse(header(scope, b"x-experience-api-version"))
        remembered = self._remember(scope, version)
        is_about = scope["path"].rstrip("/") == f"{PREFIX}/about"
        if version is None and not is_about:
            given = header(scope, b"x-experience-api-version")
            detail = (
                f"X-Experience-API-Version must be one of {', '.join(versions.SUPPORTED)}"
                f" (or 2.0.x), got {given!r}"
                if given is not None
                else "the X-Experience-API-Version header is required"
            )
            await _refuse(send, 400, detail, remembered.served, scope)
            return
        served = version or remembered
        scope.setdefault("state", {})["xapi_version"] = served
        statements = scope["path"].rstrip("/") == f"{PREFIX}/statements"

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"x-experience-api-version"
                ]
                headers.append((b"x-experience-api-version", served.served.encode()))
                if statements and not any(k.lower() == CONSISTENT for k, _ in headers):
                    # Communication 2.1.3: on every Statements response, errors included.
                    headers.append((CONSISTENT, (await _consistent_text()).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_version)

    async def _alternate(
        self, scope: Scope, receive: Receive, send: Send, query: dict[str, str]
    ) -> tuple[Scope, Receive] | None:
        """Communication 1.3: the request a `?method=` POST stands for, or None if refused."""
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            version = versions.parse(header(scope, b"x-experience-api-version"))
            served = (version or versions.V2).served
            detail = f"request body must be at most {self.max_body_bytes} bytes"
            await _refuse(send, 413, detail, served, scope)
            return None
        try:
            form = dict(
                parse_qsl(
                    body.decode("utf-8", errors="replace"),
                    keep_blank_values=True,
                    max_num_fields=MAX_FIELDS,
                )
            )
        except ValueError:
            detail = f"the form of method= has at most {MAX_FIELDS} fields"
            await _refuse(send, 400, detail, versions.V1.served, scope)
            return None
        header_version = header(scope, b"x-experience-api-version")
        version = versions.parse(form.get("X-Experience-API-Version") or header_version)
        served = (version or versions.V2).served
        if version is not None and version.is_2:
            await _refuse(
                send, 400, "xAPI 2.0 has no alternate request syntax (method=)", served, scope
            )
            return None
        method = query["method"].upper()
        if method not in _METHODS or len(query) > 1:
            detail = (
                f"method must be one of {', '.join(sorted(_METHODS))}, got {query['method']!r}"
                if method not in _METHODS
                else "with method=, every other parameter goes in the form body"
            )
            await _refuse(send, 400, detail, served, scope)
            return None
        content_type = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            await _refuse(
                send,
                400,
                "the alternate request syntax needs Content-Type: "
                "application/x-www-form-urlencoded",
                served,
                scope,
            )
            return None
        given = {name.lower() for name in form if name.lower() in _FORM_HEADERS}
        # The form's header parameters replace the request's; the form's own Content-Type
        # (x-www-form-urlencoded) never describes the content.
        replaced = given | {"content-type", "content-length"}
        headers = [
            (k, v)
            for k, v in scope.get("headers", [])
            if k.lower().decode("latin-1") not in replaced
        ]
        parameters = {}
        for name, value in form.items():
            if name.lower() in _FORM_HEADERS:
                headers.append((name.lower().encode("latin-1"), value.encode("latin-1", "replace")))
            elif name != "content":
                parameters[name] = value
        content = form.get("content", "").encode("utf-8")
        if "content-type" not in given and content:
            headers.append((b"content-type", b"application/json"))
        headers = [(k, v) for k, v in headers if k != b"content-length"]
        headers.append((b"content-length", str(len(content)).encode()))
        rewritten = {
            **scope,
            "method": method,
            "headers": headers,
            "query_string": urlencode(parameters).encode("latin-1", "replace"),
        }
        return rewritten, _replay(content)
