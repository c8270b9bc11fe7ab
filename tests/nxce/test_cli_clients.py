"""`nxce clients list | new-secret | disable | enable` against a running service (a real
HTTP server in a thread, the embedded store inside it), through GET and POST /clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from nxce.app import create_app
from nxce.cli import app as cli
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET, basic, embedded_settings
from tests.nxce.test_cli_transcripts import free_port

runner = CliRunner()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The service on a local port, with two clients made through the API."""
    settings = embedded_settings(tmp_path, seed_fixtures=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, headers=ADMIN) as admin:
        for key, name, scopes in (
            ("yinchuan-sync", "银川市 学时同步", ["statements/write"]),
            ("pingshen", "评审委员会", ["auditor"]),
        ):
            made = admin.post("/clients", json={"key": key, "name": name, "scopes": scopes})
            assert made.status_code == 201, made.text
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def nxce(url: str, *arguments: str) -> list[str]:
    as_admin = ["--url", url, "--client", ADMIN_KEY, "--secret", ADMIN_SECRET]
    done = runner.invoke(cli, ["clients", *arguments, *as_admin])
    assert done.exit_code == 0, done.output
    return done.output.splitlines()


def test_clients_are_listed_given_a_new_secret_disabled_and_enabled(served: str) -> None:
    listed = nxce(served, "list")
    assert [line.split("\t")[0] for line in listed] == [ADMIN_KEY, "pingshen", "yinchuan-sync"]
    assert "银川市 学时同步\tstatements/write\t-\tenabled\tnever" in listed[2]
    assert nxce(served, "list", "--scope", "auditor", "--name", "评审")[0].startswith("pingshen\t")

    printed = nxce(served, "new-secret", "yinchuan-sync")
    secret = next(line.split()[1] for line in printed if line.startswith("secret:"))
    statements = {"X-Experience-API-Version": "2.0.0", **basic("yinchuan-sync", secret)}
    with httpx.Client(base_url=served) as http:
        assert http.post("/xapi/statements", json=[], headers=statements).status_code != 401
        assert nxce(served, "disable", "yinchuan-sync") == ["yinchuan-sync: disabled"]
        assert http.post("/xapi/statements", json=[], headers=statements).status_code == 401
        assert nxce(served, "list", "--disabled")[0].startswith("yinchuan-sync\t")
        assert nxce(served, "enable", "yinchuan-sync") == ["yinchuan-sync: enabled"]
        assert http.post("/xapi/statements", json=[], headers=statements).status_code != 401


def test_refusals_of_the_service_are_printed_and_exit_1(served: str) -> None:
    as_admin = ["--url", served, "--client", ADMIN_KEY, "--secret", ADMIN_SECRET]
    itself = runner.invoke(cli, ["clients", "disable", ADMIN_KEY, *as_admin])
    assert itself.exit_code == 1 and "409: a client cannot disable itself" in itself.output
    missing = runner.invoke(cli, ["clients", "enable", "nobody", *as_admin])
    assert missing.exit_code == 1 and "404: no client with key 'nobody'" in missing.output
    wrong = ["--url", served, "--client", ADMIN_KEY, "--secret", "not-the-secret"]
    refused = runner.invoke(cli, ["clients", "list", *wrong])
    assert refused.exit_code == 1 and "401" in refused.output
