"""The CLI's client of a running nxce service: transcripts and exports go through the
API (and its roles), so the same commands work on the embedded store, which lives inside
`nxce serve`, and on MongoDB."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
                problem = response.json()
            except ValueError:
                problem = None
            detail = problem.get("detail") if isinstance(problem, dict) else None
            raise RemoteError(f"{response.status_code}: {detail or response.text[:300]}")
        return response

    def backup(self, *, without_secret_key: bool) -> dict[str, Any]:
        """Ask the service for a backup of its embedded store; answers where it is."""
        params = {"without_secret_key": "true"} if without_secret_key else {}
        answer: dict[str, Any] = self._call("POST", "/admin/store/backup", params=params).json()
        return answer

    def dump(self, *, without_secret_key: bool) -> dict[str, Any]:
        """Ask the service for an archive of its embedded store; answers where it is."""
        params = {"without_secret_key": "true"} if without_secret_key else {}
        answer: dict[str, Any] = self._call("POST", "/admin/store/dump", params=params).json()
        return answer

    def rebuild_credits(self, *, learner_id: str | None) -> dict[str, Any]:
        """Ask the service to rebuild the credit ledger; answers what changed."""
        params = {"learner": learner_id} if learner_id else {}
        answer: dict[str, Any] = self._call("POST", "/admin/credits/rebuild", params=params).json()
        return answer

    def clients(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every client account matching `params` (GET /clients, page after page)."""
        found: list[dict[str, Any]] = []
        page: dict[str, Any] = self._call("GET", "/clients", params=params).json()
        found.extend(page["clients"])
        while page["next"]:
            page = self._call("GET", page["next"]).json()
            found.extend(page["clients"])
        return found

    def client_action(self, key: str, action: str) -> dict[str, Any]:
        """POST /clients/{key}/{action} (secret, disable, enable); answers the client."""
        answer: dict[str, Any] = self._call(
            "POST", f"/clients/{quote(key, safe='')}/{action}"
        ).json()
        return answer

    def key_status(self) -> dict[str, Any]:
        """The service's keyring (key ids) and the stored values under each key."""
        answer: dict[str, Any] = self._call("GET", "/admin/keys").json()
        return answer

    def reencrypt(self, *, batch: int) -> dict[str, Any]:
        """Ask the service to re-key every stored value under its current key."""
        params = {"batch": batch}
        answer: dict[str, Any] = self._call("POST", "/admin/keys/reencrypt", params=params).json()
        return answer

    def transcript(self, learner_id: str, params: dict[str, Any], out: Path) -> str:
        """Save a learner's transcript; answers its verification code."""
        response = self._call("GET", f"/learners/{learner_id}/transcript", params=params)
        out.write_bytes(response.content)
        return str(response.headers.get("X-Verification-Code", ""))

    def programme_plan(self, year: int, fmt: str) -> httpx.Response:
        """The programme's plan of `year` (§二) in `fmt` (json, csv or xlsx)."""
        return self._call("GET", "/programme/plan", params={"year": year, "format": fmt})

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
        digest = hashlib.sha256()
        partial = out.with_name(out.name + ".part")
        try:
            with self._http.stream("GET", job["file"]["url"]) as response:
                if response.status_code != 200:
                    raise RemoteError(f"{response.status_code}: the export's file")
                with partial.open("wb") as file:
                    for piece in response.iter_bytes():
                        digest.update(piece)
                        file.write(piece)
        except httpx.HTTPError as error:
            partial.unlink(missing_ok=True)
            raise RemoteError(f"the export's file: {error}") from error
        if digest.hexdigest() != job["file"]["sha256"]:
            partial.unlink(missing_ok=True)
            raise RemoteError("the export's file arrived damaged (its SHA-256 differs)")
        partial.replace(out)
        return job
