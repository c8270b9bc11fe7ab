"""The CLI's client of a running nxce service: transcripts and exports go through the
API (and its roles), so the same commands work on the embedded store, which lives inside
`nxce serve`, and on MongoDB."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"


class RemoteError(Exception):
    """The service refused (its problem detail), or could not be reached."""


class Remote:
    def __init__(self, url: str, key: str, secret: str, *, timeout: float = 120.0) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/"), auth=(key, secret), timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise RemoteError(f"{self._http.base_url}: {error}") from error
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise RemoteError(f"{response.status_code}: {detail}")
        return response

    def transcript(self, learner_id: str, params: dict[str, Any], out: Path) -> str:
        """Save a learner's transcript; answers its verification code."""
        response = self._call("GET", f"/learners/{learner_id}/transcript", params=params)
        out.write_bytes(response.content)
        return response.headers.get("X-Verification-Code", "")

    def export(
        self,
        body: dict[str, Any],
        out: Path,
        progress: Callable[[int, int], None],
        poll_seconds: float = 0.5,
    ) -> dict[str, Any]:
        """Start an export, report its progress until it ends, save the ZIP; answers the
        finished job (RemoteError when it failed)."""
        job: dict[str, Any] = self._call("POST", "/exports", json=body).json()
        while job["status"] not in ("done", "failed"):
            progress(job["progress"]["done"], job["progress"]["total"])
            time.sleep(poll_seconds)
            job = self._call("GET", f"/exports/{job['id']}").json()
        progress(job["progress"]["done"], job["progress"]["total"])
        if job["status"] == "failed":
            raise RemoteError(f"export {job['id']} failed: {job['error']}")
        with out.open("wb") as file, self._http.stream("GET", job["file"]["url"]) as response:
            if response.status_code != 200:
                raise RemoteError(f"{response.status_code}: the export's file")
            for piece in response.iter_bytes():
                file.write(piece)
        return job
