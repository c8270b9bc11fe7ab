"""Learners (专业技术人员): registration by admins, the xAPI actor, the national id number
shown in full to auditors only, changes that recompute the ledger, and who reads what."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from credits.id_numbers import check_digit
from nxce.cli import app as cli
from nxce.core.clients import Scope
from nxce.settings import get_settings
from tests.conftest import ADMIN, basic
from tests.credits.conftest import (
    HOME,
    ZHANG_WEI,
    MakeBound,
    activity,
    add_entry,
    audit_response,
    completion,
    detail,
    entry,
    id_number,
    learner_body,
    ledger,
    register,
    register_li,
    send,
)

runner = CliRunner()


async def test_post_learner_is_201_with_location_and_the_xapi_actor(
    client: httpx.AsyncClient,
) -> None:
    """Learners: the admin registers 张伟; the answer carries his xAPI actor, the platform
    account that his statements name."""
    response = await client.post("/learners", json=learner_body(), headers=ADMIN)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == "/learners/zhangwei"
    created = response.json()
    assert created["actor"] == {
        "objectType": "Agent",
        "name": "张伟",
        "account": {"homePage": HOME, "name": "zhangwei"},
    }
    assert (created["name"], created["employer"], created["series"]) == (
        "张伟",
        "宁夏建工集团有限公司",
        "工程",
    )
    assert (created["title_level"], created["title_obtained_on"], created["degree"]) == (
        "junior",
        "2016-07-01",
        "bachelor",
    )


async def test_get_learner_returns_the_actor_and_the_fields(client: httpx.AsyncClient) -> None:
    """Learners: GET /learners/{id} answers the record with its actor."""
    await register(client, email="zhangwei@nxjg.example")
    response = await client.get("/learners/zhangwei", headers=ADMIN)
    assert response.status_code == 200
    found = response.json()
    assert found["actor"]["account"] == {"homePage": HOME, "name": "zhangwei"}
    assert found["email"] == "zhangwei@nxjg.example"
    assert (await client.get("/learners/nobody", headers=ADMIN)).status_code == 404


async def test_post_learner_needs_an_admin(
    client: httpx.AsyncClient, auditor: dict[str, str], bound_client: MakeBound
) -> None:
    """Roles: admins write — no credentials 401, an auditor or a learner's app 403."""
    body = learner_body()
    assert (await client.post("/learners", json=body)).status_code == 401
    assert (await client.post("/learners", json=body, headers=auditor)).status_code == 403
    app_headers = await bound_client("zhangwei")
    assert (await client.post("/learners", json=body, headers=app_headers)).status_code == 403
    assert (await client.get("/learners/zhangwei", headers=ADMIN)).status_code == 404


async def test_id_number_is_masked_for_admins_and_the_learner_and_full_for_auditors(
    client: httpx.AsyncClient, auditor: dict[str, str], bound_client: MakeBound
) -> None:
    """Learners: the id number is shown in full only to a client holding the auditor
    scope; admins (who hold every other scope) and the learner's own app see it masked."""
    created = await register(client)
    assert ZHANG_WEI == "640102198503121239"
    assert created["id_number"] == "640102********1239"
    by_admin = (await client.get("/learners/zhangwei", headers=ADMIN)).json()
    assert by_admin["id_number"] == "640102********1239"
    own = await bound_client("zhangwei")
    assert (await client.get("/learners/zhangwei", headers=own)).json()[
        "id_number"
    ] == "640102********1239"
    by_auditor = (await client.get("/learners/zhangwei", headers=auditor)).json()
    assert by_auditor["id_number"] == ZHANG_WEI


def _with_check_digit(first17: str) -> str:
    return first17 + check_digit(first17)


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("640102198503121230", "check digit"),  # 1239 is right
        (_with_check_digit("64010219851332123"), "date of birth"),  # 1985-13-32
        (_with_check_digit("64010219850230123"), "date of birth"),  # 30 February
        ("64010219850312123Y", "17 digits"),
    ],
    ids=["check-digit", "month-13", "feb-30", "letter"],
)
async def test_invalid_id_number_is_422_without_echoing_it(
    client: httpx.AsyncClient, number: str, why: str
) -> None:
    """Learners: an id number failing GB 11643-1999 is refused, and the answer shows it
    masked, never in full (it is personal data)."""
    response = await client.post("/learners", json=learner_body(id_number=number), headers=ADMIN)
    assert response.status_code == 422
    assert "id_number" in detail(response) and why in detail(response)
    assert number not in response.text
    assert number[6:14] not in response.text  # the date of birth


@pytest.mark.parametrize(
    "number", [ZHANG_WEI + "5", ZHANG_WEI[:17]], ids=["one-digit-too-many", "one-digit-short"]
)
async def test_id_number_of_the_wrong_length_is_422_without_echoing_it(
    client: httpx.AsyncClient, number: str
) -> None:
    """Learners: a mistyped number (a digit too many or too few) is still the person's id
    number — the 422 must not repeat it."""
    response = await client.post("/learners", json=learner_body(id_number=number), headers=ADMIN)
    assert response.status_code == 422
    assert "id_number" in detail(response)
    assert number[6:14] not in response.text


async def test_duplicate_learner_id_or_id_number_is_409(client: httpx.AsyncClient) -> None:
    """Learners: one learner per platform account and per person (id number)."""
    await register(client)
    same_id = learner_body(sequence="126", name="张伟（重复）")
    response = await client.post("/learners", json=same_id, headers=ADMIN)
    assert response.status_code == 409 and "zhangwei" in detail(response)
    same_person = learner_body("zhangwei2", sequence="123")
    response = await client.post("/learners", json=same_person, headers=ADMIN)
    assert response.status_code == 409 and "id number" in detail(response)
    assert ZHANG_WEI not in response.text
    assert (await client.get("/learners/zhangwei2", headers=ADMIN)).status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("series", "炼丹"),
        ("title_level", "principal"),
        ("degree", "phd"),
        ("title_obtained_on", "2019/07/01"),
        ("email", "not-an-address"),
        ("name", "   "),
        ("id", "张伟"),
    ],
)
async def test_invalid_learner_fields_are_422_naming_the_field(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    """Learners: each field is checked; the 422 names it."""
    response = await client.post("/learners", json=learner_body(**{field: value}), headers=ADMIN)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_patch_changes_fields_and_keeps_the_others(client: httpx.AsyncClient) -> None:
    """Learners: PATCH (admin) changes the given fields only."""
    await register(client)
    response = await client.patch(
        "/learners/zhangwei",
        json={
            "employer": "宁夏交通建设股份有限公司",
            "title_level": "intermediate",
            "title_obtained_on": "2020-12-30",
        },
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    found = (await client.get("/learners/zhangwei", headers=ADMIN)).json()
    assert (found["employer"], found["title_level"], found["title_obtained_on"]) == (
        "宁夏交通建设股份有限公司",
        "intermediate",
        "2020-12-30",
    )
    assert (found["name"], found["series"], found["degree"]) == ("张伟", "工程", "bachelor")


async def test_patch_series_to_weisheng_reverses_an_earlier_teaching_entry_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)1 with PATCH: the learner's ledger is recomputed — once 张伟 is recorded in the
    卫生 series (continuing medical education keeps its own rules), his teaching entry
    converted at ×3 (teaching done in 2022: 10 taught → 30) no longer counts; the entry
    stays, reversed, with why."""
    await register(client)
    taught = await entry(client, {"kind": "teaching", "date": "2022-10-15", "hours_taught": 10})
    assert (taught["hours"], taught["status"]) == (30.0, "counted")

    response = await client.patch("/learners/zhangwei", json={"series": "卫生"}, headers=ADMIN)
    assert response.status_code == 200, response.text

    [after] = await ledger(client)
    assert after["id"] == taught["id"]
    assert after["status"] == "reversed"
    assert "卫生" in after["status_reason"]


async def test_patch_keeps_automatic_entries(client: httpx.AsyncClient) -> None:
    """Learners: recomputing after a PATCH credits the same completions again."""
    await register(client)
    await send(client, completion(await activity(client, "GX-0002")))
    before = await ledger(client)
    response = await client.patch("/learners/zhangwei", json={"name": "张 伟"}, headers=ADMIN)
    assert response.status_code == 200
    assert await ledger(client) == before


async def test_patch_refuses_bad_values_duplicates_and_non_admins(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """Learners: PATCH checks like POST (422 naming the field, 409 for another person's
    id number) and is for admins (403 for an auditor)."""
    await register(client)
    await register(client, "liuyang", "刘洋", "127", employer="吴忠市人民医院", series="卫生")
    bad_series = await client.patch("/learners/zhangwei", json={"series": "炼丹"}, headers=ADMIN)
    assert bad_series.status_code == 422 and "series" in detail(bad_series)
    null_name = await client.patch("/learners/zhangwei", json={"name": None}, headers=ADMIN)
    assert null_name.status_code == 422 and "name" in detail(null_name)
    taken = await client.patch(
        "/learners/zhangwei", json={"id_number": id_number("127")}, headers=ADMIN
    )
    assert taken.status_code == 409
    by_auditor = await client.patch(
        "/learners/zhangwei", json={"employer": "宁夏大学"}, headers=auditor
    )
    assert by_auditor.status_code == 403
    found = (await client.get("/learners/zhangwei", headers=auditor)).json()
    assert (found["series"], found["id_number"], found["employer"]) == (
        "工程",
        ZHANG_WEI,
        "宁夏建工集团有限公司",
    )


async def test_learner_bound_client_reads_its_own_record_credits_and_audit_only(
    client: httpx.AsyncClient, bound_client: MakeBound
) -> None:
    """Roles: the app acting as 张伟 reads his record, ledger and audit; 李秀英's are 403,
    and it may not write entries."""
    await register(client)
    await register_li(client)
    await send(client, completion(await activity(client, "GX-0001")))
    own = await bound_client("zhangwei")

    assert (await client.get("/learners/zhangwei", headers=own)).status_code == 200
    assert len(await ledger(client, "zhangwei", auth=own)) == 1
    assert (await audit_response(client, auth=own)).status_code == 200

    for path in ("/learners/lixiuying", "/learners/lixiuying/credits"):
        assert (await client.get(path, headers=own)).status_code == 403
    assert (await audit_response(client, learner_id="lixiuying", auth=own)).status_code == 403
    study_tour = {"kind": "study_tour", "date": "2020-05-10", "days": 2}
    assert (await add_entry(client, study_tour, auth=own)).status_code == 403
    patch = await client.patch("/learners/zhangwei", json={"name": "张三"}, headers=own)
    assert patch.status_code == 403


async def test_reading_learners_needs_credentials(client: httpx.AsyncClient) -> None:
    """Roles: nothing of a learner is public."""
    await register(client)
    for path in ("/learners/zhangwei", "/learners/zhangwei/credits"):
        assert (await client.get(path)).status_code == 401
    assert (await audit_response(client, auth={})).status_code == 401


async def test_cli_clients_create_learner_binds_the_app_to_that_learner(
    client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Roles, `nxce clients create --learner`: the CLI makes the mobile app's client for
    one learner; the running embedded service picks it up, and it reads only that
    learner."""
    monkeypatch.delenv("NXCE_MONGODB_URL", raising=False)
    monkeypatch.setenv("NXCE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NXCE_EMBEDDED_IN_MEMORY", "true")  # as the service: hand it over
    get_settings.cache_clear()
    try:
        result = runner.invoke(
            cli,
            [
                "clients",
                "create",
                "--name",
                "张伟的手机",
                "--scope",
                Scope.statements_write.value,
                "--key",
                "zhangwei-phone",
                "--learner",
                "zhangwei",
            ],
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "acts as learner: zhangwei" in result.output
    secret = next(
        line.split()[1] for line in result.output.splitlines() if line.startswith("secret:")
    )
    phone = basic("zhangwei-phone", secret)
    await register(client)
    await register(client, "wangfang", "王芳", "125", series="教师", employer="银川市第一中学")
    own = await client.get("/learners/zhangwei", headers=phone)
    assert own.status_code == 200 and own.json()["id_number"] == "640102********1239"
    assert (await client.get("/learners/wangfang", headers=phone)).status_code == 403


async def test_email_null_clears_it_on_post_and_patch_instead_of_a_500(
    client: httpx.AsyncClient,
) -> None:
    """Finding 3: GET answers "email": null, so a client sends it back: null is no e-mail
    address on POST, and clears it on PATCH."""
    created = await client.post("/learners", json=learner_body(email=None), headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["email"] is None
    await register(client, "lixiuying", "李秀英", "124", email="lixiuying@nxyk.example")
    cleared = await client.patch("/learners/lixiuying", json={"email": None}, headers=ADMIN)
    assert cleared.status_code == 200, cleared.text
    found = (await client.get("/learners/lixiuying", headers=ADMIN)).json()
    assert (found["email"], found["name"]) == (None, "李秀英")


@pytest.mark.parametrize(
    "field",
    ["id_number", "name", "employer", "series", "title_level", "title_obtained_on", "degree"],
)
async def test_null_for_what_the_audit_reads_is_422_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient, field: str
) -> None:
    """Finding 3: on PATCH null clears only the e-mail address; for id numbers, titles,
    dates and the rest it is a 422 naming the field, and nothing is written. On POST
    nothing is cleared: null is a 422 for the fields without a "none"."""
    await register(client, email="zhangwei@nxjg.example")
    before = (await client.get("/learners/zhangwei", headers=ADMIN)).json()
    response = await client.patch(
        "/learners/zhangwei", json={field: None, "email": None}, headers=ADMIN
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert "must not be null" in detail(response)
    assert (await client.get("/learners/zhangwei", headers=ADMIN)).json() == before
    if field in ("series", "title_obtained_on"):
        return  # on POST, null is "none" for these (as GET answers a learner without)
    body = {**learner_body("lixiuying", "李秀英", "124"), field: None}
    posted = await client.post("/learners", json=body, headers=ADMIN)
    assert posted.status_code == 422 and field in detail(posted)
    assert (await client.get("/learners/lixiuying", headers=ADMIN)).status_code == 404
