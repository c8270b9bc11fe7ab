"""Continuing-education bases (§三): registration and the history of their status."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from tests.conftest import ADMIN

NEW_BASE: dict[str, Any] = {
    "name": "中卫市数字经济人才培训基地",
    "level": "municipal",
    "reason": "中卫市级继续教育基地认定",
    "effective_on": "2020-03-01",
}


async def create_base(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/bases", json=NEW_BASE, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_bases_fixture_is_loaded_with_histories(client: httpx.AsyncClient) -> None:
    bases = (await client.get("/bases")).json()
    assert len(bases) >= 10
    assert {b["status"] for b in bases} == {"certified", "commended", "revoked"}
    for base in bases:
        assert base["history"] and base["status"] == base["history"][-1]["status"]


async def test_bases_filter_by_status(client: httpx.AsyncClient) -> None:
    revoked = (await client.get("/bases", params={"status": "revoked"})).json()
    assert revoked and all(b["status"] == "revoked" for b in revoked)


async def test_base_create_answers_its_id(client: httpx.AsyncClient) -> None:
    base = await create_base(client)
    assert base["status"] == "certified"
    assert "recorded_by" not in base["history"][0]
    assert (await client.get(f"/bases/{base['id']}")).json()["name"] == NEW_BASE["name"]


async def test_base_create_same_name_is_409(client: httpx.AsyncClient) -> None:
    await create_base(client)
    assert (await client.post("/bases", json=NEW_BASE, headers=ADMIN)).status_code == 409


async def test_base_create_needs_admin(client: httpx.AsyncClient) -> None:
    assert (await client.post("/bases", json=NEW_BASE)).status_code == 401


async def test_base_revocation_keeps_history_and_answers_past_status(
    client: httpx.AsyncClient,
) -> None:
    base = await create_base(client)
    change = {
        "status": "revoked",
        "reason": "长期不开展继续教育活动，取消基地资格",
        "effective_on": "2022-06-30",
    }
    response = await client.post(f"/bases/{base['id']}/status", json=change, headers=ADMIN)
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert [h["status"] for h in response.json()["history"]] == ["certified", "revoked"]

    async def on(day: str) -> dict[str, Any]:
        answer = await client.get(f"/bases/{base['id']}/status", params={"on": day})
        return answer.json()  # type: ignore[no-any-return]

    assert (await on("2019-12-31"))["status"] is None
    assert (await on("2021-05-01")) | {"base_id": None} == {
        "base_id": None,
        "on": "2021-05-01",
        "status": "certified",
        "since": "2020-03-01",
        "rectify_by": None,
    }
    assert (await on("2022-06-30"))["status"] == "revoked"


async def test_base_backdated_change_is_placed_in_order(client: httpx.AsyncClient) -> None:
    base = await create_base(client)
    url = f"/bases/{base['id']}/status"
    await client.post(
        url,
        json={"status": "revoked", "reason": "整改不到位", "effective_on": "2022-01-10"},
        headers=ADMIN,
    )
    response = await client.post(
        url,
        json={"status": "commended", "reason": "2020年度考核优秀", "effective_on": "2021-01-15"},
        headers=ADMIN,
    )
    history = response.json()["history"]
    assert [h["effective_on"] for h in history] == ["2020-03-01", "2021-01-15", "2022-01-10"]
    assert response.json()["status"] == "revoked"


async def test_base_same_status_again_is_409(client: httpx.AsyncClient) -> None:
    base = await create_base(client)
    response = await client.post(
        f"/bases/{base['id']}/status",
        json={"status": "certified", "reason": "重复认定", "effective_on": "2021-01-01"},
        headers=ADMIN,
    )
    assert response.status_code == 409
    assert "it cannot become certified then (§三)" in response.json()["detail"]


async def test_base_future_change_is_422(client: httpx.AsyncClient) -> None:
    base = await create_base(client)
    future = (date.today() + timedelta(days=30)).isoformat()
    response = await client.post(
        f"/bases/{base['id']}/status",
        json={"status": "revoked", "reason": "预定取消", "effective_on": future},
        headers=ADMIN,
    )
    assert response.status_code == 422
    assert future in response.json()["detail"]
    assert (await client.get(f"/bases/{base['id']}")).json()["status"] == "certified"


async def test_base_bad_input_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    cases = [
        ({**NEW_BASE, "level": "county"}, "level"),
        ({**NEW_BASE, "effective_on": "2022-13-01"}, "effective_on"),
        ({**NEW_BASE, "reason": ""}, "reason"),
        ({k: v for k, v in NEW_BASE.items() if k != "name"}, "name"),
    ]
    for body, field in cases:
        response = await client.post("/bases", json=body, headers=ADMIN)
        assert response.status_code == 422, body
        assert field in response.json()["detail"]


async def test_base_unknown_id_is_404(client: httpx.AsyncClient) -> None:
    for base_id in ("000000000000000000000000", "not-an-id"):
        response = await client.get(f"/bases/{base_id}")
        assert response.status_code == 404
        assert base_id in response.json()["detail"]


async def test_base_status_on_needs_a_date(client: httpx.AsyncClient) -> None:
    base = await create_base(client)
    response = await client.get(f"/bases/{base['id']}/status", params={"on": "yesterday"})
    assert response.status_code == 422
    assert "'yesterday'" in response.json()["detail"]


async def test_base_revoked_twice_in_a_row_is_409(client: httpx.AsyncClient) -> None:
    base = await create_base(client)
    url = f"/bases/{base['id']}/status"
    revoke = {"status": "revoked", "reason": "整改不到位", "effective_on": "2022-01-10"}
    assert (await client.post(url, json=revoke, headers=ADMIN)).status_code == 200
    earlier = {**revoke, "effective_on": "2021-01-10"}
    response = await client.post(url, json=earlier, headers=ADMIN)
    assert response.status_code == 409
    assert "becomes revoked on 2022-01-10" in response.json()["detail"]


async def test_base_commended_before_certification_is_409(client: httpx.AsyncClient) -> None:
    base = await create_base(client)
    response = await client.post(
        f"/bases/{base['id']}/status",
        json={"status": "commended", "reason": "表扬", "effective_on": "2010-01-01"},
        headers=ADMIN,
    )
    assert response.status_code == 409
    assert "not yet certified on 2010-01-01" in response.json()["detail"]


async def test_base_revoked_cannot_be_commended(client: httpx.AsyncClient) -> None:
    base = await create_base(client)
    url = f"/bases/{base['id']}/status"
    await client.post(
        url,
        json={"status": "revoked", "reason": "取消", "effective_on": "2021-06-01"},
        headers=ADMIN,
    )
    response = await client.post(
        url,
        json={"status": "commended", "reason": "表扬", "effective_on": "2022-01-01"},
        headers=ADMIN,
    )
    assert response.status_code == 409
    recertified = await client.post(
        url,
        json={"status": "certified", "reason": "重新认定", "effective_on": "2022-01-01"},
        headers=ADMIN,
    )
    assert recertified.status_code == 200 and recertified.json()["status"] == "certified"


async def test_base_create_starts_certified_and_takes_no_status(client: httpx.AsyncClient) -> None:
    response = await client.post("/bases", json={**NEW_BASE, "status": "revoked"}, headers=ADMIN)
    assert response.status_code == 422
    assert "unknown field 'status'" in response.json()["detail"]


async def test_base_dates_must_be_iso_strings(client: httpx.AsyncClient) -> None:
    for value in (0, "2022-01-01T00:00:00", "20220101"):
        response = await client.post(
            "/bases", json={**NEW_BASE, "effective_on": value}, headers=ADMIN
        )
        assert response.status_code == 422, value
        assert "effective_on" in response.json()["detail"]


async def test_base_patch_corrects_name_and_level(client: httpx.AsyncClient) -> None:
    base = await create_base(client)
    response = await client.patch(
        f"/bases/{base['id']}",
        json={"name": "中卫市数字经济人才培训中心", "level": "regional"},
        headers=ADMIN,
    )
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["level"]) == (
        "中卫市数字经济人才培训中心",
        "regional",
    )
    assert response.json()["history"] == base["history"]


async def test_base_patch_to_a_taken_name_is_409(client: httpx.AsyncClient) -> None:
    base = await create_base(client)
    bases = (await client.get("/bases")).json()
    taken = next(b["name"] for b in bases if b["id"] != base["id"])
    response = await client.patch(f"/bases/{base['id']}", json={"name": taken}, headers=ADMIN)
    assert response.status_code == 409


async def test_base_patch_needs_admin(client: httpx.AsyncClient) -> None:
    base = await create_base(client)
    response = await client.patch(f"/bases/{base['id']}", json={"level": "national"})
    assert response.status_code == 401
