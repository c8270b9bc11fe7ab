"""`nxce transcript` and `nxce export` against a running service (a real HTTP server in a
thread, the embedded store inside it), as an auditor uses them."""

from __future__ import annotations

import io
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pypdf
import pytest
import uvicorn
from typer.testing import CliRunner

from nxce.app import create_app
from nxce.cli import app as cli
from nxce.settings import get_settings
from tests.conftest import ADMIN, embedded_settings
from tests.credits.conftest import learner_body, manual

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The service on a local port, with two learners of one employer and an auditor."""
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
        for learner_id, name, sequence in (
            ("zhangwei", "张伟", "123"),
            ("wangfang", "王芳", "125"),
        ):
            response = admin.post("/learners", json=learner_body(learner_id, name, sequence))
            assert response.status_code == 201, response.text
            response = admin.post(
                f"/learners/{learner_id}/credits", json=manual("2020-03-01", "public", 12)
            )
            assert response.status_code == 201, response.text
    get_settings.cache_clear()  # the command reads this test's NXCE_DATA_DIR
    created = runner.invoke(
        cli,
        ["clients", "create", "--name", "评审委员会", "--scope", "auditor", "--key", "pingshen"],
        # the service keeps its store in memory: the command hands the client over to it
        env={
            "NXCE_DATA_DIR": str(tmp_path),
            "NXCE_MONGODB_URL": "",
            "NXCE_EMBEDDED_IN_MEMORY": "true",
        },
    )
    assert created.exit_code == 0, created.output
    secret = next(
        line.split()[1] for line in created.output.splitlines() if line.startswith("secret:")
    )
    get_settings.cache_clear()
    try:
        yield f"{url} {secret}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def env(served: str) -> dict[str, str]:
    url, secret = served.split()
    return {"NXCE_URL": url, "NXCE_CLIENT": "pingshen", "NXCE_CLIENT_SECRET": secret}


def test_transcript_command_saves_a_pdf(served: str, tmp_path: Path) -> None:
    out = tmp_path / "张伟.pdf"
    result = runner.invoke(
        cli, ["transcript", "zhangwei", "-o", str(out), "--level", "intermediate"], env=env(served)
    )
    assert result.exit_code == 0, result.output
    assert "verification code" in result.output
    text = pypdf.PdfReader(out).pages[0].extract_text().replace(" ", "")
    assert "张伟" in text and "申报2022年中级职称" in text


def test_transcript_command_reports_the_refusal(served: str, tmp_path: Path) -> None:
    result = runner.invoke(
        cli,
        ["transcript", "zhangwei", "-o", str(tmp_path / "x.pdf"), "--from", "2021", "--to", "2018"],
        env=env(served),
    )
    assert result.exit_code == 1
    assert "422" in result.output and "from" in result.output
    assert not (tmp_path / "x.pdf").exists()
    wrong = runner.invoke(
        cli,
        ["transcript", "zhangwei", "-o", str(tmp_path / "x.pdf")],
        env={**env(served), "NXCE_CLIENT_SECRET": "not-the-secret"},
    )
    assert wrong.exit_code == 1 and "401" in wrong.output


def test_export_command_saves_the_zip_with_progress(served: str, tmp_path: Path) -> None:
    out = tmp_path / "export.zip"
    result = runner.invoke(
        cli,
        ["export", "--employer", "宁夏建工集团有限公司", "--format", "csv", "-o", str(out)],
        env=env(served),
    )
    assert result.exit_code == 0, result.output
    assert "2/2" in result.output  # the progress bar reached the end
    names = zipfile.ZipFile(io.BytesIO(out.read_bytes())).namelist()
    assert sorted(names) == ["summary.csv", "wangfang_王芳.csv", "zhangwei_张伟.csv"]
