"""GET /metrics (Prometheus): counters that move, route templates as labels (never a
learner's id), and who may read it (NXCE_METRICS_ALLOW, else an admin client)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from nxce.metrics import Metrics, allowed
from nxce.settings import Settings
from tests.conftest import ADMIN, basic, embedded_settings
from tests.credits.conftest import (
    completion,
    course,
    ledger,
    policy_covering_this_year,
    register,
    send,
)


@pytest.fixture
def settings(tmp_path: Path, search_index: Path) -> Settings:
    """The catalog, and a policy covering the current year (completions credit now)."""
    shutil.copytree(search_index, tmp_path / "search")
    return embedded_settings(tmp_path, policy_dir=policy_covering_this_year(tmp_path / "p"))


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` (labels in any order), 0 when absent."""
    for line in text.splitlines():
        sample = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if sample is None or sample.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample.group(2) or ""))
        if found == labels:
            return float(sample.group(3))
    return 0.0


async def test_a_request_is_counted_under_its_route_template_never_its_path(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "wanglei", "王磊", "125")
    assert (await client.get("/learners/wanglei/credits", headers=ADMIN)).status_code == 200
    assert (await client.get("/没有/wanglei")).status_code == 404
    assert (await client.request("BREW", "/catalog/stats")).status_code == 405
    text = await scrape(client)
    assert "wanglei" not in text and "没有" not in text
    credits_routes = set(re.findall(r'route="(/learners/[^"]*/credits)"', text))
    assert len(credits_routes) == 1
    [template] = credits_routes
    assert re.fullmatch(r"/learners/\{\w+\}/credits", template)
    labels = {"method": "GET", "route": template, "status": "200"}
    assert value(text, "nxce_http_requests_total", **labels) == 1
    assert value(text, "nxce_http_request_duration_seconds_count", **labels) == 1
    assert value(text, "nxce_http_requests_total", method="GET", route="unmatched", status="404")
    assert "BREW" not in text  # any method outside HTTP's own is counted as "other"
    assert value(
        text, "nxce_http_requests_total", method="other", route="/catalog/stats", status="405"
    )


async def test_statements_stored_and_credits_registered_move_once(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    gx = await course(client, "GX-0002")
    before = await scrape(client)
    statement = completion(gx["activity_id"])
    await send(client, statement)
    await send(client, statement)  # sent again: stored once, credited once
    assert len(await ledger(client)) == 1
    after = await scrape(client)
    stored = "nxce_statements_stored_total"
    assert value(after, stored) - value(before, stored) == 1
    credited = "nxce_credits_registered_total"
    assert value(after, credited, category="public") - value(before, credited, category="public")
    assert value(after, credited, category="public") == 1


async def test_export_jobs_by_state_and_search_latency(client: httpx.AsyncClient) -> None:
    assert (await client.get("/search", params={"q": "枸杞"})).status_code == 200
    text = await scrape(client)
    for state in ("queued", "running", "done", "failed"):
        assert f'nxce_export_jobs{{state="{state}"}} 0.0' in text
    assert value(text, "nxce_search_duration_seconds_count", operation="search") >= 1


async def test_an_address_not_allowed_gets_403_unless_an_admin_asks(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        refused = await http.get("/metrics")
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert "203.0.113.7" in refused.json()["detail"]
        assert "NXCE_METRICS_ALLOW" in refused.json()["detail"]
        wrong = await http.get("/metrics", headers=basic("admin", "not-the-secret"))
        assert wrong.status_code == 401
        admitted = await http.get("/metrics", headers=ADMIN)
        assert admitted.status_code == 200
        assert "nxce_http_requests_total" in admitted.text


def test_metrics_allow_takes_addresses_and_networks() -> None:
    settings = Settings(metrics_allow="10.0.0.0/8, 192.168.1.5 ,::1")
    networks = settings.metrics_networks
    assert allowed("10.20.30.40", networks) and allowed("192.168.1.5", networks)
    assert allowed("::1", networks) and allowed("::ffff:10.0.0.9", networks)
    assert not allowed("192.168.1.6", networks) and not allowed("testclient", networks)
    default = Settings().metrics_networks
    assert allowed("127.0.0.1", default) and not allowed("172.17.0.1", default)
    assert Settings(metrics_allow="").metrics_networks == ()
    with pytest.raises(ValidationError, match=re.escape("'10.0.0.0/33'")):
        Settings(metrics_allow="10.0.0.0/8,10.0.0.0/33")


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.statements_stored(3)
    assert value(first.render().decode(), "nxce_statements_stored_total") == 3
    assert value(second.render().decode(), "nxce_statements_stored_total") == 0
