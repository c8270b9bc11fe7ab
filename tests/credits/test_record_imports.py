"""§一(一) public hours come from the platform (公需课通过“宁夏专业技术人员继续教育培训网”进行
网络学习，由系统自动审核登记): an administrator's public-hours entry is a record import from
it, with its source and the platform's record number; the old `manual` body of public
hours keeps working and is recorded as an import of unspecified source."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from credits import ledger as credit_ledger
from credits.models import LedgerEntry
from tests.credits.conftest import add_entry, audit, entry, ledger, manual, register

PLATFORM = "宁夏专业技术人员继续教育培训网 (nxzj.chinahrt.com)"


async def test_a_record_import_names_its_source_and_reference_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """Item 8: 32 public hours of 2019 copied from the platform, with its record number:
    kind record_import, public, §一(一), the source and reference kept."""
    await register(client)
    found = await entry(
        client,
        {
            "kind": "record_import",
            "date": "2019-12-20",
            "hours": 32,
            "source": "宁夏专业技术人员继续教育培训网",
            "reference": "NXZJ-2019-0012345",
        },
    )
    assert (found["kind"], found["category"], found["hours"], found["clause"]) == (
        "record_import",
        "public",
        32.0,
        "§一(一)",
    )
    assert (found["source"]["source"], found["source"]["reference"]) == (
        "宁夏专业技术人员继续教育培训网",
        "NXZJ-2019-0012345",
    )
    assert (found["status"], found["policy_id"], found["year"]) == ("counted", "ningxia-2022", 2019)


async def test_a_record_import_without_a_source_names_the_platform_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """Item 8: `source` defaults to the policy's platform, stored with the entry."""
    await register(client)
    found = await entry(client, {"kind": "record_import", "date": "2020-06-30", "hours": 12.5})
    assert (found["source"]["source"], found["source"]["reference"]) == (PLATFORM, None)


async def test_typed_public_hours_are_a_record_import_of_unspecified_source_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """Item 8: the old body `{"kind": "manual", "category": "public", …}` still answers
    201 with its hours, but the notice does not let public hours be typed: the entry is a
    record import, source `unspecified`, its basis kept. Professional hours typed with a
    basis stay `manual` (§一(一) 行业主管部门规定的其他方式途径)."""
    await register(client)
    public = await entry(client, manual("2020-03-01", "public", 20, "自治区人社厅线下公需课"))
    professional = await entry(client, manual("2020-07-01", "professional", 15.5))
    assert (public["kind"], public["category"], public["hours"]) == (
        "record_import",
        "public",
        20.0,
    )
    assert public["source"]["source"] == "unspecified"
    assert public["source"]["basis"] == "自治区人社厅线下公需课"
    assert (professional["kind"], professional["category"]) == ("manual", "professional")


async def test_record_imports_are_for_admins_only(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """Roles: like `manual`, a record import is an admin's (403 for an auditor)."""
    await register(client)
    response = await add_entry(
        client, {"kind": "record_import", "date": "2020-06-30", "hours": 10}, auth=auditor
    )
    assert response.status_code == 403
    assert await ledger(client) == []


async def test_imported_public_hours_count_in_the_audit_s1_2(client: httpx.AsyncClient) -> None:
    """§一(二): imports are public hours of their year — 30 (2019) + 20 typed (2021) = 50
    public of the 120 an intermediate audit requires: short 70 public, 310 in total."""
    await register(client)
    await entry(client, {"kind": "record_import", "date": "2019-11-11", "hours": 30})
    await entry(client, manual("2021-04-01", "public", 20))
    verdict = await audit(client, "intermediate")
    assert verdict["earned"] == {"total": 50, "public": 50, "professional": 0}
    assert verdict["shortfall"] == {"total": 310, "public": 70}


async def test_a_rebuild_keeps_typed_public_hours_as_record_imports_s1_1(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Item 8, migration: rebuilding the ledger turns stored `manual` public entries into
    record imports (what the ledger entry says is computed from the stored entry)."""
    await register(client)
    typed = await entry(client, manual("2019-05-10", "public", 30))
    await LedgerEntry.find({"entry_id": typed["id"]}).update({"$set": {"kind": "manual"}})
    await credit_ledger.rebuild(credits=app.state.credits, learner_id="zhangwei")
    [rebuilt] = await ledger(client)
    assert (rebuilt["kind"], rebuilt["source"]["source"]) == ("record_import", "unspecified")
