"""The `nxce` command."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from nxce.app import create_app
from nxce.cli import app as cli
from nxce.settings import Settings, get_settings
from tests.conftest import basic

runner = CliRunner()


@pytest.fixture(autouse=True)
def embedded_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.delenv("NXCE_MONGODB_URL", raising=False)
    monkeypatch.setenv("NXCE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_fixtures_check_passes() -> None:
    result = runner.invoke(cli, ["fixtures", "check"])
    assert result.exit_code == 0, result.output
    assert "4344 courses, 8255 hours" in result.output


def test_cli_catalog_stats_prints_totals_and_series() -> None:
    result = runner.invoke(cli, ["catalog", "stats"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split() == ["all", "4344", "8255"]
    assert any(line.startswith("肉牛和滩羊") for line in lines)


def test_cli_fixtures_load_on_embedded_store_explains_itself() -> None:
    result = runner.invoke(cli, ["fixtures", "load"])
    assert result.exit_code == 2
    assert "NXCE_MONGODB_URL" in result.output


def test_cli_clients_create_rejects_an_unknown_scope() -> None:
    result = runner.invoke(cli, ["clients", "create", "--name", "x", "--scope", "everything"])
    assert result.exit_code == 2
    assert "everything" in result.output


async def test_cli_clients_create_reaches_the_running_embedded_service_in_memory(
    tmp_path: Path, settings: Settings, store_copy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store in memory lives inside the service alone: the command always hands the
    client over in clients.json (a durable store: tests/nxce/test_client_handover.py)."""
    monkeypatch.setenv("NXCE_EMBEDDED_IN_MEMORY", "true")
    application = create_app(settings, store=store_copy)  # data in tmp_path, as the CLI's
    async with application.router.lifespan_context(application):
        result = runner.invoke(
            cli,
            ["clients", "create", "--name", "课程管理员", "--scope", "admin", "--key", "editor"],
        )
        assert result.exit_code == 0, result.output
        secret = next(
            line.split()[1] for line in result.output.splitlines() if line.startswith("secret:")
        )
        stored = json.loads((tmp_path / "clients.json").read_text(encoding="utf-8"))
        assert stored[0]["key"] == "editor" and secret not in json.dumps(stored)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.delete("/courses/GX-0001", headers=basic("editor", secret))
            assert response.status_code == 200
            wrong = await http.delete("/courses/GX-0002", headers=basic("editor", "guess"))
            assert wrong.status_code == 401


def test_cli_search_reindex_builds_the_embedded_index(embedded_env: Path) -> None:
    result = runner.invoke(cli, ["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "index rebuilt (4344 courses" in result.output
    assert (embedded_env / "search").is_dir()


async def test_cli_search_reindex_refuses_an_index_a_service_holds(
    settings: Settings, store_copy: Any
) -> None:
    application = create_app(settings, store=store_copy)  # its index in the CLI's data dir
    async with application.router.lifespan_context(application):
        result = await asyncio.to_thread(runner.invoke, cli, ["search", "reindex"])
    assert result.exit_code == 2
    assert "POST /search/reindex" in result.output
