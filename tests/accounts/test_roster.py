"""The roster import (POST /learners/roster): a dry run's per-row report, refused rows
naming row, field and value, applying (all or nothing, or the valid rows), activation
codes answered once (JSON and the printable CSV), limits, and a learner from a roster
activating and signing in."""

from __future__ import annotations

import csv
import io
from datetime import date

import httpx
import pytest
from fastapi import FastAPI

from accounts import roster_rows
from accounts.models import Account
from credits import registration
from credits.id_numbers import masked
from credits.models import Learner
from nxce.core import clients
from nxce.core.clients import Scope
from tests.accounts.conftest import PASSWORD
from tests.accounts.roster_support import (
    HEADER_EN,
    HEADER_ZH,
    cells,
    csv_file,
    errors_of,
    person,
    post_roster,
    xlsx_file,
)
from tests.conftest import ADMIN, basic
from tests.credits.conftest import activity, completion, id_number, ledger, register, send


@pytest.fixture
async def auditor(app: FastAPI) -> dict[str, str]:
    """A client of the 评审委员会 holding the auditor scope only."""
    await clients.create(
        key="pingshen", name="卫生系列评审委员会", scopes=[Scope.auditor], secret="pingshen-secret"
    )
    return basic("pingshen", "pingshen-secret")


async def _learners() -> int:
    return await Learner.find_all().count()


async def test_dry_run_reports_each_row_and_writes_nothing(client: httpx.AsyncClient) -> None:
    before = await _learners()
    response = await post_roster(client, csv_file([person(1), person(2), person(3)]))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["dry_run"] is True and answer["created"] == 0 and answer["refused"] == 0
    assert [(r["row"], r["status"], r["errors"]) for r in answer["rows"]] == [
        (2, "create", []),
        (3, "create", []),
        (4, "create", []),
    ]
    assert all(r["learner_id"].startswith("nx") and r["code"] is None for r in answer["rows"])
    assert await _learners() == before


async def test_refused_rows_name_the_row_the_field_and_the_value(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await register(client, phone="13700000001")  # 张伟, id number 640102198503121239
    bad_check = id_number("077")[:17] + ("0" if id_number("077")[17] != "0" else "1")
    rows = [
        person(1, id_number=id_number("123")),  # 张伟's id number: registered already
        person(2, id_number=bad_check),
        person(3, series="炼丹"),
        person(4, phone="139000000"),
        person(5, phone="13900000006"),
        person(6),  # phone 13900000006, as row 6 (person 5) has
        person(7, id_number=person(8)["id_number"]),
        person(8),
        person(9, phone="13700000001"),  # 张伟's phone
        person(10),
    ]
    response = await post_roster(client, csv_file(rows), headers=auditor)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["created"], answer["refused"]) == (0, 9)
    found = errors_of(answer)
    registered = "already registered — contact the department"
    assert found[2] == [("id_number", masked(id_number("123")), registered)]
    assert found[3][0][:2] == ("id_number", masked(bad_check))
    assert "check digit" in found[3][0][2]
    assert found[4] == [("series", "炼丹", "must be one of the 23 series")]
    assert found[5][0][:2] == ("phone", "139**0000")
    assert "11 digits starting with 1" in found[5][0][2]
    assert found[6] == [("phone", "139****0006", "the same phone as row 7 of this file")]
    assert found[7] == [("phone", "139****0006", "the same phone as row 6 of this file")]
    same_id = masked(person(8)["id_number"])
    assert found[8] == [("id_number", same_id, "the same id number as row 9 of this file")]
    assert found[9] == [("id_number", same_id, "the same id number as row 8 of this file")]
    assert found[10] == [("phone", "137****0001", registered)]
    assert 11 not in found
    assert "zhangwei" not in response.text and "张伟" not in response.text  # naming no one
    trail = (await client.get("/audit/events", headers=auditor)).json()
    hits = sorted(
        (e["kind"], e["learner_id"], e["detail"]["row"], e["detail"]["operation"])
        for e in trail
        if e["kind"] in ("id_number_conflict", "phone_conflict")
    )
    assert hits == [
        ("id_number_conflict", "zhangwei", 2, "roster dry run"),
        ("phone_conflict", "zhangwei", 10, "roster dry run"),
    ]


async def test_apply_creates_the_learners_with_a_code_each_once(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    rows = [person(1), person(2, phone="", title_level="", title_obtained_on="")]
    response = await post_roster(client, csv_file(rows), dry_run="false")
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    answer = response.json()
    assert (answer["dry_run"], answer["created"], answer["refused"]) == (False, 2, 0)
    first, second = answer["rows"]
    assert first["status"] == "created" and len(first["code"]) == 14
    assert first["expires_at"] > "2026"
    learner = (await client.get(f"/learners/{first['learner_id']}", headers=ADMIN)).json()
    assert (learner["name"], learner["series"], learner["title_level"]) == (
        person(1)["name"],
        "卫生",
        "intermediate",
    )
    assert learner["title_obtained_on"] == "2019-07-01" and learner["degree"] == "bachelor"
    assert learner["phone"] == "139****0001"
    assert learner["id_number"] == masked(person(1)["id_number"])
    other = (await client.get(f"/learners/{second['learner_id']}", headers=ADMIN)).json()
    assert other["phone"] is None and other["title_level"] == "none"
    trail = (
        await client.get("/audit/events", params={"kind": "roster_import"}, headers=auditor)
    ).json()
    assert [(e["by"], e["detail"]["created"]) for e in trail] == [("admin", 2)]
    assert sorted(trail[0]["detail"]["learner_ids"]) == sorted(
        [first["learner_id"], second["learner_id"]]
    )
    again = (await post_roster(client, csv_file(rows))).json()  # the same file again
    assert [r["status"] for r in again["rows"]] == ["refused", "refused"]


async def test_a_refused_row_creates_nothing_unless_rows_valid(client: httpx.AsyncClient) -> None:
    rows = [person(1), person(2, series="炼丹"), person(3)]
    before = await _learners()
    refused = await post_roster(client, csv_file(rows), dry_run="false")
    assert refused.status_code == 422
    problem = refused.json()
    assert "nothing was created" in problem["detail"]
    assert (problem["created"], problem["refused"]) == (0, 1)
    assert [r["status"] for r in problem["rows"]] == ["create", "refused", "create"]
    assert await _learners() == before
    applied = await post_roster(client, csv_file(rows), dry_run="false", rows="valid")
    assert applied.status_code == 200, applied.text
    answer = applied.json()
    assert [r["status"] for r in answer["rows"]] == ["created", "refused", "created"]
    assert (answer["created"], answer["refused"]) == (2, 1)
    assert answer["rows"][1]["code"] is None and answer["rows"][1]["learner_id"] is None
    assert await _learners() == before + 2


async def test_codes_come_back_as_a_printable_csv(client: httpx.AsyncClient) -> None:
    response = await post_roster(
        client, csv_file([person(1), person(2)]), dry_run="false", format="csv"
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "no-store"
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["行号 row", "学员编号 learner_id", "姓名 name"]
    assert [row[0] for row in table[1:]] == ["2", "3"]
    assert table[1][2:6] == [
        person(1)["name"],
        masked(person(1)["id_number"]),
        "宁夏回族自治区人民医院",
        "139****0001",
    ]
    assert len(table[1][6]) == 14  # XXXX-XXXX-XXXX
    dry = await post_roster(client, csv_file([person(3)]), format="csv")
    assert dry.status_code == 422 and "format" in dry.text


async def test_gb18030_csv_with_english_headers_and_xlsx_are_read(
    client: httpx.AsyncClient,
) -> None:
    gbk = csv_file([person(1), person(2)], header=HEADER_EN, encoding="gb18030")
    answer = (await post_roster(client, gbk)).json()
    assert [r["status"] for r in answer["rows"]] == ["create", "create"]
    table: list[list[object]] = list(cells([person(3)]))
    table[1][5] = date(2019, 7, 1)  # a date cell
    table[1][7] = 13900000003  # a phone typed as a number
    table.append([None] * 8)  # a blank row
    table.append(cells([person(4, title_level="副高级", degree="硕士研究生")])[1])
    response = await post_roster(client, xlsx_file(table), filename="roster.xlsx", dry_run="false")
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert [(r["row"], r["status"]) for r in rows] == [(2, "created"), (4, "created")]
    fourth = (await client.get(f"/learners/{rows[1]['learner_id']}", headers=ADMIN)).json()
    assert (fourth["title_level"], fourth["degree"]) == ("deputy_senior", "master")


async def test_limits_size_rows_type_header_and_who(client: httpx.AsyncClient) -> None:
    big = csv_file([person(1)]) + b" " * (20 * 1024 * 1024)
    assert (await post_roster(client, big)).status_code == 413
    many = csv_file([person(n) for n in range(10_001)])
    too_many = await post_roster(client, many)
    assert too_many.status_code == 422 and "at most 10000 rows" in too_many.text
    assert too_many.json()["errors"][0]["field"] == "file"
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    assert (await post_roster(client, xls, filename="roster.xls")).status_code == 415
    pdf = b"%PDF-1.4\n\x00\x00binary"
    assert (await post_roster(client, pdf, filename="roster.pdf")).status_code == 415
    unknown = await post_roster(client, "姓名,身份证号,工作单位,学历,爱好\n".encode())
    assert unknown.status_code == 422 and "爱好" in unknown.text
    missing = await post_roster(client, "姓名,工作单位\n王芳,某单位\n".encode())
    assert missing.status_code == 422 and "身份证号/id_number" in missing.text
    assert (await post_roster(client, b"", filename="empty.csv")).status_code == 422
    assert (await post_roster(client, csv_file([person(1)]), headers={})).status_code == 401
    await register(client)
    await clients.create(
        key="zhangwei-app",
        name="张伟的手机",
        scopes=[Scope.statements_write],
        secret="zhangwei-app-secret",
        learner_id="zhangwei",
    )
    app_headers = basic("zhangwei-app", "zhangwei-app-secret")
    assert (
        await post_roster(client, csv_file([person(1)]), headers=app_headers)
    ).status_code == 403


async def test_a_learner_from_a_roster_activates_and_signs_in(client: httpx.AsyncClient) -> None:
    answer = (await post_roster(client, csv_file([person(1)]), dry_run="false")).json()
    row = answer["rows"][0]
    activated = await client.post(
        "/auth/activate",
        json={"account": "13900000001", "code": row["code"].lower(), "password": PASSWORD},
    )
    assert activated.status_code == 204, activated.text
    signed = await client.post(
        "/auth/app-sign-in",
        json={"account": person(1)["id_number"], "password": PASSWORD, "device": "小米 14"},
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["learner_id"] == row["learner_id"]


def test_made_learner_ids_are_valid_and_distinct() -> None:
    made = {roster_rows.new_learner_id() for _ in range(1000)}
    assert len(made) == 1000
    assert all(len(i) == 12 and i.startswith("nx") and i.isalnum() for i in made)


async def test_given_learner_ids_are_kept_checked_and_earlier_statements_credited(
    client: httpx.AsyncClient,
) -> None:
    """A roster may name the learner ids (学员编号); statements an app stored for one
    before the import are credited once the learner is registered, as after POST
    /learners. A learner id taken, or twice in the file, refuses the row."""
    await send(client, completion(await activity(client, "GX-0002"), "wangfang", name="王芳"))
    await register(client)
    header = ("学员编号", *HEADER_ZH)
    table = cells([person(1), person(2), person(3), person(4)], header)
    for line, learner_id in zip(
        table[1:], ["wangfang", "zhangwei", "liqiang", "liqiang"], strict=True
    ):
        line.insert(0, learner_id)
    content = "\r\n".join(",".join(line) for line in table).encode()
    answer = (await post_roster(client, content, dry_run="false", rows="valid")).json()
    assert [(r["status"], r["learner_id"]) for r in answer["rows"]] == [
        ("created", "wangfang"),
        ("refused", None),
        ("refused", None),
        ("refused", None),
    ]
    found = errors_of(answer)
    assert found[3] == [("learner_id", "zhangwei", "is taken by a registered learner")]
    assert found[4] == [("learner_id", "liqiang", "the same learner id as row 5 of this file")]
    entries = await ledger(client, "wangfang")
    assert [e["source_kind"] for e in entries] == ["statement"]


async def test_a_learner_registered_meanwhile_takes_the_whole_apply_back(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the check and the write another request registers an id number of the
    file (here: the check is made blind to it): the learners inserted are deleted again,
    the answer is a 409 and nothing is created — no codes either."""
    await register(client, "wangfang", "王芳", id_number=person(1)["id_number"])

    async def blind(**_: object) -> registration.Taken:
        return registration.Taken()

    monkeypatch.setattr(registration, "taken", blind)
    before = await _learners()
    rows = [person(2), person(1)]  # person(1) has 王芳's id number; row 2 is written first
    response = await post_roster(client, csv_file(rows), dry_run="false")
    assert response.status_code == 409, response.text
    assert "nothing was created" in response.json()["detail"]
    assert await _learners() == before
    assert await Account.find_all().count() == 0
