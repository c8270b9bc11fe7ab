"""Anyone holding a transcript can check it: the code verifies and shows the summary it
certified; a changed code, a changed document or a record altered in the store does not."""

from __future__ import annotations

import copy
import json

import httpx

from tests.credits.conftest import ZHANG_WEI
from tests.transcripts.conftest import mixed_ledger, transcript_json
from transcripts.models import IssuedTranscript

MASKED = ZHANG_WEI[:6] + "********" + ZHANG_WEI[-4:]


def tampered(code: str) -> str:
    """The code with one character changed, as a forger editing a PDF would."""
    last = "B" if code[-1] != "B" else "C"
    return code[:-1] + last


async def test_a_genuine_code_shows_the_certified_summary_to_anyone(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await mixed_ledger(client, auditor)
    body = await transcript_json(client, auditor, level="intermediate", year=2022)
    code = body["verification_code"]
    assert body["verify_url"] == f"http://testserver/verify/{code}"

    check = await client.get(f"/verify/{code}")  # no credentials
    assert check.status_code == 200, check.text
    found = check.json()
    assert found["genuine"] is True
    summary = found["summary"]
    assert summary["learner"] == {  # no account name: it can be an e-mail address
        "name": "张伟",
        "id_number": MASKED,  # masked, though the auditor's copy has it in full
        "employer": "宁夏建工集团有限公司",
    }
    assert summary["range"] == {"from": 2018, "to": 2021}
    assert summary["format"] == found["format"] == "json"
    assert summary["issued_at"] == body["issued_at"] == found["issued_at"]
    totals = body["totals"]
    for key in ("public", "professional", "total", "pending_review", "reversed"):
        assert summary["totals"][key] == totals[key]
    assert summary["entries"] == len(body["entries"])
    verdict = summary["verdict"]
    assert verdict["passed"] is body["audit"]["passed"]
    assert verdict["shortfall"] == body["audit"]["shortfall"]

    typed = "-".join(code[i : i + 4] for i in range(0, 24, 4)).lower()
    assert (await client.get(f"/verify/{typed}")).json()["code"] == code


async def test_a_tampered_code_is_not_genuine(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await mixed_ledger(client, auditor)
    code = (await transcript_json(client, auditor))["verification_code"]
    response = await client.get(f"/verify/{tampered(code)}")
    assert response.status_code == 404
    assert response.json()["genuine"] is False
    malformed = await client.get("/verify/not-a-code!")
    assert malformed.status_code == 422
    assert "code" in malformed.json()["detail"]


async def test_a_json_transcript_is_checked_whole(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """POST /verify with the JSON: the exact document matches; one hour changed does not,
    though its code is still genuine (the summary shows what was certified)."""
    await mixed_ledger(client, auditor)
    body = await transcript_json(client, auditor, level="intermediate", year=2022)
    exact = await client.post("/verify", json=body)
    assert exact.status_code == 200, exact.text
    assert exact.json()["content_matches"] is True

    edited = copy.deepcopy(body)
    edited["entries"][0]["hours"] += 10
    edited["totals"]["total"] += 10
    response = await client.post("/verify", json=edited)
    assert response.status_code == 200
    assert response.json()["content_matches"] is False

    forged = {**body, "verification_code": tampered(body["verification_code"])}
    assert (await client.post("/verify", json=forged)).status_code == 404
    odd = copy.deepcopy(body)
    odd["totals"]["total"] = "NOT-A-NUMBER"
    nan = await client.post(
        "/verify",
        content=json.dumps(odd, ensure_ascii=False).replace('"NOT-A-NUMBER"', "NaN"),
        headers={"Content-Type": "application/json"},
    )
    assert nan.status_code == 422, nan.text  # not JSON: refused by the decoder, named
    assert nan.json()["errors"][0]["field"] == "totals.total"
    missing = await client.post("/verify", json={"entries": []})
    assert missing.status_code == 422
    assert "verification_code" in missing.json()["detail"]


async def test_a_record_altered_in_the_store_fails(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """The code is a keyed hash of the summary: raising the totals in the stored record
    (by someone with database access but not the key) is caught."""
    await mixed_ledger(client, auditor)
    code = (await transcript_json(client, auditor))["verification_code"]
    record = await IssuedTranscript.find_one({"code": code})
    assert record is not None
    record.summary["totals"]["total"] += 100
    await record.save()
    response = await client.get(f"/verify/{code}")
    assert response.status_code == 404
    assert "altered" in response.json()["detail"]


async def test_the_public_address_names_the_verification_link(
    client: httpx.AsyncClient, auditor: dict[str, str], app: object
) -> None:
    app.state.settings.public_url = "https://nxce.nx.gov.example"  # type: ignore[attr-defined]
    await mixed_ledger(client, auditor)
    body = await transcript_json(client, auditor)
    assert body["verify_url"] == (f"https://nxce.nx.gov.example/verify/{body['verification_code']}")


async def test_verify_body_nested_too_deep_is_400(client: httpx.AsyncClient) -> None:
    """A body nested ~950 deep once ran the service out of recursion (a 500)."""
    for depth in (950, 5000):
        response = await client.post(
            "/verify",
            content=b'{"entries": ' + b"[" * depth + b"]" * depth + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "nested deeper than 64 levels" in response.json()["detail"]
