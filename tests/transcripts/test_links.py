"""A transcript's verification link (and its QR code) names only a configured address:
NXCE_PUBLIC_URL, else a host NXCE_ALLOWED_HOSTS lists; a request to any other host is
refused before anything is issued."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from nxce.settings import Settings
from tests.conftest import ADMIN, TEST_HOSTS, embedded_settings
from tests.transcripts.conftest import mixed_ledger, transcript, transcript_json
from transcripts.models import ExportJob, IssuedTranscript

PUBLIC = "https://nxce.nx.gov.example"
FOREIGN = {"Host": "evil.example"}


@pytest.fixture
def settings(tmp_path: Path, search_index: Path, request: pytest.FixtureRequest) -> Settings:
    """The embedded service with the settings a test names (indirect parametrisation)."""
    shutil.copytree(search_index, tmp_path / "search")
    return embedded_settings(tmp_path, **getattr(request, "param", {}))


async def test_transcript_requested_for_a_foreign_host_is_400_and_nothing_is_issued(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await mixed_ledger(client, auditor)
    issued = await IssuedTranscript.count()
    for format in ("json", "pdf"):
        response = await client.get(
            "/learners/zhangwei/transcript", params={"format": format}, headers=auditor | FOREIGN
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "'evil.example'" in response.json()["detail"]
    export = await client.post(
        "/exports", json={"employer": "宁夏建工集团有限公司"}, headers=auditor | FOREIGN
    )
    assert export.status_code == 400
    page = await client.get("/me/transcript", headers=FOREIGN)
    assert page.status_code == 400
    assert await IssuedTranscript.count() == issued
    assert await ExportJob.count() == 0
    assert (await transcript(client, auditor)).status_code == 200  # the service's own host


@pytest.mark.parametrize("settings", [{"public_url": PUBLIC}], indirect=True)
async def test_transcript_link_uses_the_configured_public_address(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await mixed_ledger(client, auditor)
    body = await transcript_json(client, auditor)
    assert body["verify_url"] == f"{PUBLIC}/verify/{body['verification_code']}"
    public_host = {"Host": "nxce.nx.gov.example"}  # the public address is answered too
    response = await client.get("/learners/zhangwei/transcript", headers=auditor | public_host)
    assert response.status_code == 200, response.text
    assert response.json()["verify_url"].startswith(f"{PUBLIC}/verify/")
    refused = await client.get("/learners/zhangwei/transcript", headers=auditor | FOREIGN)
    assert refused.status_code == 400


@pytest.mark.parametrize(
    "settings", [{"allowed_hosts": f"{TEST_HOSTS},nxce.intranet.example:8443"}], indirect=True
)
async def test_without_a_public_address_the_link_names_an_allowed_host_only(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await mixed_ledger(client, auditor)
    allowed = {"Host": "nxce.intranet.example:8443"}
    response = await client.get("/learners/zhangwei/transcript", headers=auditor | allowed)
    body = response.json()
    assert body["verify_url"] == (
        f"http://nxce.intranet.example:8443/verify/{body['verification_code']}"
    )
    other_port = {"Host": "nxce.intranet.example:9999"}
    refused = await client.get("/learners/zhangwei/transcript", headers=auditor | other_port)
    assert refused.status_code == 400
    assert "'nxce.intranet.example:9999'" in refused.json()["detail"]
    assert (await client.get("/health", headers=ADMIN | other_port)).status_code == 400
