"""Pages carry security headers (a Content-Security-Policy as tight as the pages allow, no
framing), every response says nosniff, and sign-in follows the failures-only rule."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from nxce.core import clients
from nxce.core.clients import Scope
from nxce.core.security_headers import PAGE_POLICY
from tests.conftest import ADMIN
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.web.test_pages import sign_in

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.mark.parametrize(
    "path", ["/", "/?q=枸杞", "/course/GQ-0001", "/signin", "/activate", "/verify/ABCD", "/me"]
)
async def test_pages_carry_the_content_security_policy_and_no_framing(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"Accept": "text/html"}, follow_redirects=True)
    assert response.headers["content-type"].startswith("text/html"), path
    policy = response.headers["content-security-policy"]
    assert policy == PAGE_POLICY
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    for name, value in COMMON.items():
        assert response.headers[name] == value, (path, name)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/courses/GQ-0001", {}),
        ("/health", {}),
        ("/xapi/about", {}),
        ("/static/app.js", {}),
        ("/learners", ADMIN),
        ("/courses/NOPE-1", {}),  # a problem+json
    ],
)
async def test_every_response_says_nosniff_and_no_framing(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    response = await client.get(path, headers=headers)
    for name, value in COMMON.items():
        assert response.headers[name] == value, (path, name)
    assert "content-security-policy" not in response.headers  # not a page


async def test_api_documentation_may_load_its_cdn_but_not_be_framed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/docs")
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["x-frame-options"] == "DENY"


async def test_web_sign_in_with_a_valid_secret_works_after_60_failures_from_its_address(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.state.verifier.throttle.penalty_seconds = 0  # the slow-down itself is not tested here
    await clients.create(
        key="pingshen", name="工程系列评审委员会", scopes=[Scope.auditor], secret="评审委员会的密钥"
    )
    statuses = [
        (await sign_in(client, f"guess-{n}", "wrong-secret")).status_code for n in range(60)
    ]
    assert statuses[:50] == [401] * 50 and set(statuses[50:]) == {429}
    signed_in = await sign_in(client, "pingshen", "评审委员会的密钥")
    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"] == "/"
