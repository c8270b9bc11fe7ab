"""A lean HTTP/1.1 load generator for the benches that measure the service's throughput.

The service and its load generator share the machine's two cores. httpx spends about
2 ms of CPU on each request (more than the service spends on a light one), so a
throughput figure taken with it measures the client as much as the service. This client
keeps one connection open, sends bytes prepared once, and reads the answer's status
line, headers and body (Content-Length or chunked): a few tens of microseconds a request.
It is for the benches only: no TLS, no redirects, no compression.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code, self.headers, self.content = status, headers, body

    def json(self) -> Any:
        return json.loads(self.content)


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, url: str, auth: tuple[str, str], headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        fixed = {"Host": f"{self.host}:{self.port}", "Authorization": f"Basic {basic}"}
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in (fixed | headers).items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()

    def prepare(self, method: str, path: str, body: Any = None) -> bytes:
        """The request's bytes (a body other than bytes is sent as JSON)."""
        if body is None:
            return f"{method} {path} HTTP/1.1\r\n{self.fixed}\r\n".encode()
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\n{self.fixed}"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        return head.encode() + data

    async def send(self, request: bytes) -> Answer:
        """Send prepared bytes; answers the response. Raises ConnectionError when the
        service is gone."""
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            raise ConnectionError("the connection closed") from error
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = b""
        return Answer(status, headers, body)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
