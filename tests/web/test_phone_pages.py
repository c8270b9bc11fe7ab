"""The auditor's page of a learner shows the phone number as the API does: in full to
auditors (with the full id number, whose view is in the trail), masked to admins."""

from __future__ import annotations

import httpx

from nxce.core import clients
from nxce.core.clients import Scope
from tests.conftest import ADMIN_KEY, ADMIN_SECRET
from tests.credits.conftest import register
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.web.test_pages import sign_in


async def test_auditor_page_shows_the_phone_in_full_to_auditors_only(
    client: httpx.AsyncClient,
) -> None:
    await register(client, phone="13812345678")
    await sign_in(client, ADMIN_KEY, ADMIN_SECRET)
    page = await client.get("/auditor/learners/zhangwei")
    assert page.status_code == 200, page.text
    assert "138****5678" in page.text and "13812345678" not in page.text
    await clients.create(
        key="pingshen", name="评审委员会", scopes=[Scope.auditor], secret="pingshen-secret"
    )
    client.cookies.clear()
    await sign_in(client, "pingshen", "pingshen-secret")
    page = await client.get("/auditor/learners/zhangwei")
    assert page.status_code == 200 and "13812345678" in page.text
