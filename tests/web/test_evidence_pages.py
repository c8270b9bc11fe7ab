"""Evidence documents on the auditor's learner page, over HTTP: the missing document is
named, the form attaches a file (CSRF token required, bad files refused with a page), the
link downloads it for a signed-in auditor only."""

from __future__ import annotations

import httpx

from nxce.core import clients
from nxce.core.clients import Scope
from tests.credits.conftest import entry, register
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.credits.test_evidence import DEGREE, PDF
from tests.web.test_pages import sign_in, token

PAGE = "/auditor/learners/zhangwei"


async def auditor_signed_in(client: httpx.AsyncClient) -> None:
    await clients.create(
        key="pingshen-web", name="评审", scopes=[Scope.auditor], secret="pingshen-web-secret"
    )
    assert (await sign_in(client, "pingshen-web", "pingshen-web-secret")).status_code == 303


async def test_the_form_attaches_a_degree_certificate_and_the_link_downloads_it(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    degree = await entry(client, DEGREE)
    await auditor_signed_in(client)
    page = await client.get(PAGE)
    assert "缺少证明材料：学历证明" in page.text
    action = f"{PAGE}/entries/{degree['id']}/documents"
    files = {"file": ("学历证明-张伟.pdf", PDF, "application/pdf")}

    refused = await client.post(action, data={"csrf": "wrong"}, files=files)
    assert refused.status_code == 403
    sent = await client.post(action, data={"csrf": token(page.text)}, files=files)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{PAGE}?done=attach&entry={degree['id']}"

    page = await client.get(sent.headers["location"])
    assert "缺少证明材料" not in page.text and "已上传证明材料" in page.text
    link = page.text.split('download href="', 1)[1].split('"', 1)[0]
    assert link.startswith(f"{PAGE}/entries/{degree['id']}/documents/")
    got = await client.get(link)
    assert got.status_code == 200 and got.content == PDF
    assert "filename*=UTF-8''%E5%AD%A6%E5%8E%86" in got.headers["content-disposition"]
    elsewhere = await client.get(link, headers={"Sec-Fetch-Site": "cross-site"})
    assert elsewhere.status_code == 403

    client.cookies.clear()
    assert (await client.get(link)).status_code == 303  # signed out: sign in first


async def test_a_file_of_another_type_gets_a_page_saying_why(client: httpx.AsyncClient) -> None:
    await register(client)
    degree = await entry(client, DEGREE)
    await auditor_signed_in(client)
    page = await client.get(PAGE)
    files = {"file": ("学历证明.png", PDF, "image/png")}  # a PDF named and typed as PNG
    sent = await client.post(
        f"{PAGE}/entries/{degree['id']}/documents", data={"csrf": token(page.text)}, files=files
    )
    assert sent.status_code == 422 and "无法上传" in sent.text and "not image/png" in sent.text
