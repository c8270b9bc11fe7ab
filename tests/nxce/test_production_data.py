"""Production data: compose starts without the synthetic catalog and fictional bases
(NXCE_SEED_FIXTURES=false); the real catalog goes in with `nxce fixtures load PATH`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from nxce.app import create_app
from nxce.cli import app as cli
from nxce.settings import Settings, get_settings
from tests.conftest import embedded_settings

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

COURSES = [
    {
        "code": "NX-GQ-001",
        "title": "枸杞产业高质量发展实务",
        "description": "宁夏枸杞种植、加工与品牌建设的实务课程。",
        "category": "professional",
        "series": "枸杞",
        "subject": "枸杞栽培",
        "hours": 2.5,
        "year": 2022,
        "base": "宁夏农林科学院",
        "delivery": "web",
        "tags": ["枸杞", "产业发展"],
    },
    {
        "code": "NX-GX-001",
        "title": "专业技术人员职业道德与诚信建设",
        "description": "公需课：职业道德、诚信建设与法治素养。",
        "category": "public",
        "series": None,
        "subject": "职业道德",
        "hours": 1.5,
        "year": 2022,
        "base": "宁夏专业技术人员继续教育公共服务中心",
        "delivery": "both",
        "tags": ["公需课"],
    },
]


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )
    return path


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A durable embedded data directory, seeding off, as an operator sets it."""
    monkeypatch.delenv("NXCE_MONGODB_URL", raising=False)
    monkeypatch.setenv("NXCE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NXCE_SEED_FIXTURES", "false")
    monkeypatch.setenv("NXCE_EMBEDDED_IN_MEMORY", "false")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_seed_fixtures_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NXCE_SEED_FIXTURES", "false")
    assert Settings().seed_fixtures is False
    monkeypatch.delenv("NXCE_SEED_FIXTURES")
    assert Settings().seed_fixtures is True  # the embedded default keeps its fixture


def test_compose_starts_without_the_fixture() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    value = compose["services"]["api"]["environment"]["NXCE_SEED_FIXTURES"]
    assert Settings(seed_fixtures=value).seed_fixtures is False


async def test_a_service_without_seeding_starts_empty(tmp_path: Path) -> None:
    application = create_app(embedded_settings(tmp_path, seed_fixtures=False))
    async with application.router.lifespan_context(application):
        await application.state.indexer.wait()
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            stats = (await http.get("/catalog/stats")).json()
            assert (stats["courses"], stats["hours"]) == (0, 0)
            assert (await http.get("/bases")).json() == []
            found = (await http.get("/search", params={"q": "枸杞"})).json()
            assert found["total"] == 0
            assert (await http.get("/health")).status_code == 200


def test_fixtures_load_path_loads_that_catalog_only(production_env: Path) -> None:
    path = jsonl(production_env / "catalog.jsonl", COURSES)
    result = runner.invoke(cli, ["fixtures", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "courses: 2 created, 0 updated, 0 unchanged" in result.output
    assert "nxce search reindex" in result.output  # a running service's index is told how

    stats = runner.invoke(cli, ["catalog", "stats"])
    assert stats.exit_code == 0, stats.output
    lines = stats.output.splitlines()
    assert lines[1].split() == ["all", "2", "4"]  # not the fixture's 4344 courses
    assert any(line.startswith("枸杞") and line.split()[1:] == ["1", "2.5"] for line in lines)

    again = runner.invoke(cli, ["fixtures", "load", str(path)])
    assert "courses: 0 created, 0 updated, 2 unchanged" in again.output
    assert "reindex" not in again.output  # nothing changed


def test_fixtures_load_path_names_the_bad_line_and_loads_nothing(production_env: Path) -> None:
    bad = [COURSES[0], {**COURSES[1], "hours": 1.3}]
    result = runner.invoke(cli, ["fixtures", "load", str(jsonl(production_env / "c.jsonl", bad))])
    assert result.exit_code == 2
    assert "c.jsonl:2: hours:" in result.output
    stats = runner.invoke(cli, ["catalog", "stats"])
    assert stats.output.splitlines()[1].split() == ["all", "0", "0"]


def test_fixtures_load_path_refuses_a_file_that_is_not_utf8(production_env: Path) -> None:
    path = production_env / "gbk.jsonl"
    path.write_bytes(json.dumps(COURSES[0], ensure_ascii=False).encode("gbk") + b"\n")
    result = runner.invoke(cli, ["fixtures", "load", str(path)])
    assert result.exit_code == 2
    assert "utf-8" in result.output.lower()
