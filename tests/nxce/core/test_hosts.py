"""The service answers only the hosts it is configured for (NXCE_ALLOWED_HOSTS)."""

from __future__ import annotations

import logging

import httpx
import pytest

from nxce.app import log_public_address
from nxce.core.hosts import Host, TrustedHosts, parse
from nxce.settings import Settings
from tests.conftest import ADMIN


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/courses/GQ-0001"),
        ("GET", "/"),
        ("GET", "/signin"),
        ("GET", "/static/app.css"),
        ("GET", "/xapi/about"),
        ("GET", "/verify/ABCD"),
        ("POST", "/verify"),
        ("DELETE", "/courses/GX-0001"),
    ],
)
async def test_request_to_a_foreign_host_is_400_naming_the_host(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    headers = ADMIN | {"Host": "evil.example:8000"}
    response = await client.request(method, path, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:nxce:problem:unknown-host"
    assert "'evil.example:8000'" in problem["detail"]
    assert "NXCE_ALLOWED_HOSTS" in problem["detail"]
    assert (await client.get("/courses/GX-0001")).json()["status"] == "published"


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000"])
async def test_loopback_hosts_are_answered(client: httpx.AsyncClient, host: str) -> None:
    assert (await client.get("/health", headers={"Host": host})).status_code == 200


@pytest.mark.parametrize(
    "host", ["127.0.0.1.evil.example", "localhost.", "evil.example@localhost", "[::2]", ""]
)
async def test_look_alike_hosts_are_refused(client: httpx.AsyncClient, host: str) -> None:
    expected = 200 if host == "localhost." else 400  # the same name, fully qualified
    assert (await client.get("/health", headers={"Host": host})).status_code == expected


def test_a_missing_or_repeated_host_header_is_refused() -> None:
    hosts = TrustedHosts(app=None, allowed=(Host("localhost"),))  # type: ignore[arg-type]
    assert hosts.refusal({"headers": []}) == "the Host header is required"
    twice = {"headers": [(b"host", b"localhost"), (b"host", b"evil.example")]}
    assert hosts.refusal(twice) == "give the Host header once"
    assert hosts.refusal({"headers": [(b"host", b"LocalHost:80")]}) is None


def test_an_entry_with_a_port_admits_that_port_only() -> None:
    entry = parse("nxce.example:8443")
    assert entry == Host("nxce.example", 8443)
    assert entry.admits(Host("nxce.example", 8443))
    assert not entry.admits(Host("nxce.example", 443))
    assert not entry.admits(Host("nxce.example"))
    assert Host("nxce.example").admits(Host("nxce.example", 443))
    assert parse("nxce.example:0") is None and parse("nxce.example:65536") is None


def test_default_hosts_are_the_loopback_names_only() -> None:
    settings = Settings(mongodb_url=None, allowed_hosts=None, public_url=None)
    assert [str(h) for h in settings.hosts] == ["localhost", "127.0.0.1", "[::1]"]
    assert "testserver" not in {h.name for h in settings.hosts}


def test_the_public_address_host_is_answered_besides_the_listed_ones() -> None:
    settings = Settings(
        allowed_hosts=" NXCE.intranet.example:8443 , 127.0.0.1",
        public_url="https://nxce.nx.gov.example/",
    )
    assert settings.allowed_hosts == "nxce.intranet.example:8443,127.0.0.1"
    assert [str(h) for h in settings.hosts] == [
        "nxce.intranet.example:8443",
        "127.0.0.1",
        "nxce.nx.gov.example",
    ]


def test_the_service_says_at_start_where_verification_links_point(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="nxce"):
        log_public_address(Settings(public_url="https://nxce.nx.gov.example"))
        log_public_address(
            Settings(mongodb_url="mongodb://db", public_url=None, allowed_hosts="nxce.example")
        )
    configured, unset = caplog.records
    assert "https://nxce.nx.gov.example/verify/" in configured.getMessage()
    assert configured.levelno == logging.INFO
    assert "NXCE_PUBLIC_URL is not set" in unset.getMessage()
    assert "nxce.example" in unset.getMessage() and unset.levelno == logging.WARNING
