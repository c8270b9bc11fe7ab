"""Transcripts build on the credits tests' world: the catalog loaded, learners with Chinese
names, an auditor, learner-bound clients; and a ledger with every kind of line."""

from __future__ import annotations

from typing import Any

import httpx

from tests.credits.conftest import (  # noqa: F401 - fixtures shared with the credits tests
    activity,
    auditor,
    bound_client,
    completion,
    entry,
    ledger,
    manual,
    register,
    review,
    send,
    settings,
    voiding_of,
)

INJECTED = '=HYPERLINK("http://evil.example","点击")'


async def mixed_ledger(client: httpx.AsyncClient, reviewer: dict[str, str]) -> dict[str, str]:
    """张伟's ledger: counted manual entries 2019-2021, a study tour, completions of 2021
    (one approved, one still pending, one approved then voided) and one of this year.
    Answers entry ids by role."""
    await register(client)
    ids: dict[str, str] = {}
    ids["public_2019"] = (await entry(client, manual("2019-05-10", "public", 30)))["id"]
    professional = manual("2020-06-01", "professional", 60, "单位组织的<技术>培训 & 考核")
    professional["evidence"] = INJECTED
    ids["professional_2020"] = (await entry(client, professional))["id"]
    tour = {
        "kind": "study_tour",
        "date": "2021-04-01",
        "days": 3,
        "description": "赴浙江考察枸杞产业",
        "evidence": "考察报告（宁人社函〔2021〕12号）",
    }
    ids["tour_2021"] = (await entry(client, tour))["id"]
    in_2021 = "2021-03-15T10:00:00+08:00"
    approved = completion(await activity(client, "GX-0002"), when=in_2021)
    pending = completion(await activity(client, "GX-0003"), when="2021-05-20T10:00:00+08:00")
    voided = completion(await activity(client, "GX-0001"), when=in_2021)
    await send(client, approved, pending, voided)
    rows = {e["source_ref"]: e for e in await ledger(client)}
    ids["approved"] = rows[approved["id"]]["id"]
    ids["pending"] = rows[pending["id"]]["id"]
    ids["voided"] = rows[voided["id"]]["id"]
    for key in ("approved", "voided"):
        response = await review(client, ids[key], "approve", auth=reviewer)
        assert response.status_code == 200, response.text
    await send(client, voiding_of(voided["id"]))
    [now_id] = await send(client, completion(await activity(client, "WS-0001")))
    ids["this_year"] = {e["source_ref"]: e for e in await ledger(client)}[now_id]["id"]
    return ids


async def transcript(
    client: httpx.AsyncClient, auth: dict[str, str], learner_id: str = "zhangwei", **params: Any
) -> httpx.Response:
    return await client.get(f"/learners/{learner_id}/transcript", params=params, headers=auth)


async def transcript_json(
    client: httpx.AsyncClient, auth: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await transcript(client, auth, **params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found
