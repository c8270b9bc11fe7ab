"""§一(三) manual entries refused: zero, negative, fractional or absurd days and hours,
unknown kinds, missing fields, dates in the future — each a 422 that names the field;
nothing is written. Limits the notice does not set are this service's own and say so,
never citing the notice (dates no policy covers are recorded, see test_awaiting_policy)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.credits.conftest import add_entry, detail, entry, ledger, register


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"kind": "study_tour", "date": "2020-05-10", "days": 0}, "days", "greater than"),
        ({"kind": "study_tour", "date": "2020-05-10", "days": -3}, "days", "greater than"),
        ({"kind": "study_tour", "date": "2020-05-10", "days": 2.5}, "days", "integer"),
        ({"kind": "study_tour", "date": "2020-05-10", "days": 367}, "days", "at most 366"),
        ({"kind": "study_tour", "date": "2020-05-10", "days": 3650}, "days", "of this service"),
        ({"kind": "study_tour", "date": "2020-05-10"}, "days", "required"),
        ({"kind": "study_tour", "days": 3}, "date", "required"),
        ({"kind": "teaching", "date": "2020-05-10", "hours_taught": 1.3}, "hours_taught", "0.5"),
        ({"kind": "teaching", "date": "2020-05-10", "hours_taught": 0}, "hours_taught", "0"),
        ({"kind": "teaching", "date": "2020-05-10", "hours_taught": -4}, "hours_taught", "-4"),
        ({"kind": "teaching", "date": "2022-05-10", "hours_taught": 1001}, "hours_taught", "1000"),
        ({"kind": "teaching", "date": "2020-05-10", "hours_taught": "8"}, "hours_taught", ""),
        ({"kind": "computer_exam_module", "date": "2020-05-10", "modules": 0}, "modules", ""),
        ({"kind": "computer_exam_module", "date": "2020-05-10", "modules": 51}, "modules", "50"),
        (
            {
                "kind": "computer_exam_module",
                "date": "2020-05-10",
                "module_names": ["Word 2003 中文字处理", "word  2003 中文字处理"],
            },
            "module_names",
            "distinct",
        ),
        (
            {
                "kind": "computer_exam_module",
                "date": "2020-05-10",
                "modules": 3,
                "module_names": ["Excel 2003 中文电子表格", "PowerPoint 2003 中文演示文稿"],
            },
            "module_names",
            "modules is 3",
        ),
        ({"kind": "computer_exam_module", "date": "2020-05-10"}, "module_names", "required"),
        (
            {"kind": "computer_exam_module", "date": "2020-05-10", "module_names": []},
            "module_names",
            "",
        ),
        ({"kind": "training", "date": "2020-05-10", "hours": 1.3, "base_id": "x"}, "hours", "0.5"),
        ({"kind": "training", "date": "2020-05-10", "hours": 8}, "base_id", "required"),
        ({"kind": "qualification", "date": "2020-05-10"}, "name", "required"),
        (
            {"kind": "degree", "enrolled_on": "2019-09-01", "graduated_on": "2018-06-30"},
            "graduated_on",
            "enrolled_on",
        ),
        (
            {
                "kind": "manual",
                "date": "2020-05-10",
                "category": "public",
                "hours": 1001,
                "basis": "x",
            },
            "hours",
            "at most 1000 hours per entry",
        ),
        ({"kind": "record_import", "date": "2020-05-10", "hours": 1000.5}, "hours", "1000"),
        ({"kind": "record_import", "date": "2020-05-10"}, "hours", "required"),
        (
            {
                "kind": "degree",
                "enrolled_on": "2016-09-01",
                "graduated_on": "2019-06-30",
                "certified_hours": 5001,
            },
            "certified_hours",
            "5000",
        ),
        (
            {"kind": "manual", "date": "2020-05-10", "category": "其他", "hours": 5, "basis": "x"},
            "category",
            "",
        ),
        ({"kind": "manual", "date": "2020-05-10", "category": "public", "hours": 5}, "basis", ""),
        ({"kind": "lecture", "date": "2020-05-10", "hours": 4}, "kind", "lecture"),
        ({"date": "2020-05-10", "days": 3}, "kind", ""),
        ({"kind": "study_tour", "date": "2020/05/10", "days": 3}, "date", "YYYY-MM-DD"),
        ({"kind": "study_tour", "date": "2020-02-30", "days": 3}, "date", ""),
        ({"kind": "study_tour", "date": "2099-01-01", "days": 3}, "date", "future"),
        ({"kind": "training", "date": "2099-01-01", "hours": 8, "base_id": "x"}, "date", "2099"),
        (
            {"kind": "degree", "enrolled_on": "2099-09-01", "graduated_on": "2102-06-30"},
            "enrolled_on",
            "future",
        ),
        ({"kind": "study_tour", "date": "2020-05-10", "days": 3, "hours": 18}, "hours", "unknown"),
        (
            {
                "kind": "manual",
                "date": "2020-05-10",
                "category": "professional",
                "hours": 1.7976931348623157e308,
                "basis": "x",
            },
            "hours",
            "",
        ),
    ],
    ids=[
        "zero-days",
        "negative-days",
        "fractional-days",
        "over-max-days",
        "absurd-days",
        "missing-days",
        "missing-date",
        "hours-1.3",
        "zero-hours",
        "negative-hours",
        "over-max-hours-taught",
        "hours-as-text",
        "zero-modules",
        "over-max-modules",
        "module-names-twice",
        "module-names-disagree",
        "no-modules-nor-names",
        "empty-module-names",
        "training-hours-1.3",
        "missing-base",
        "missing-qualification-name",
        "graduated-before-enrolled",
        "manual-over-max",
        "record-import-over-max",
        "record-import-without-hours",
        "certified-hours-over-max",
        "unknown-category",
        "missing-basis",
        "unknown-kind",
        "no-kind",
        "slashed-date",
        "feb-30",
        "future-tour",
        "future-training",
        "future-enrolment",
        "unknown-field",
        "largest-double-hours",
    ],
)
async def test_bad_manual_entry_is_422_naming_the_field_s1_3(
    client: httpx.AsyncClient, body: dict[str, Any], field: str, words: str
) -> None:
    """§一(三): bad input — zero, negative, fractional or absurd days and hours, unknown
    kinds, missing fields, module names given twice, dates in the future — is a 422 naming
    the field; nothing is written."""
    await register(client)
    response = await add_entry(client, body)
    assert response.status_code == 422, response.text
    message = detail(response)
    assert field in message
    assert words in message
    assert await ledger(client) == []


@pytest.mark.parametrize(
    ("body", "hours"),
    [
        ({"kind": "study_tour", "date": "2020-05-10", "days": 91}, 546.0),  # 91 x 6
        ({"kind": "teaching", "date": "2022-05-10", "hours_taught": 201}, 603.0),  # 201 x 3
        ({"kind": "computer_exam_module", "date": "2020-05-10", "modules": 21}, 210.0),  # x 10
        (
            {
                "kind": "manual",
                "date": "2020-05-10",
                "category": "public",
                "hours": 501,
                "basis": "自治区人社厅线下公需课",
            },
            501.0,
        ),
    ],
    ids=["91-days", "201-hours-taught", "21-modules", "501-hours"],
)
async def test_limits_the_notice_does_not_set_are_gone_s1_3(
    client: httpx.AsyncClient, body: dict[str, Any], hours: float
) -> None:
    """Item 7: the notice sets no limit per entry. 90 days, 200 hours taught, 20 modules
    and 500 hours were ours, refused citing §一(三)1, §一(三)2 and §一(一); one more of each
    is now recorded: 91 days x 6 = 546, 201 taught (2022) x 3 = 603, 21 modules x 10 =
    210, 501 hours."""
    await register(client)
    found = await entry(client, body)
    assert (found["hours"], found["status"]) == (hours, "counted")


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"kind": "study_tour", "date": "2020-05-10", "days": 367}, "days", "366 days"),
        (
            {"kind": "teaching", "date": "2022-05-10", "hours_taught": 1000.5},
            "hours_taught",
            "1000 hours taught",
        ),
        (
            {"kind": "computer_exam_module", "date": "2020-05-10", "modules": 51},
            "modules",
            "50 modules",
        ),
        (
            {
                "kind": "manual",
                "date": "2020-05-10",
                "category": "professional",
                "hours": 1001,
                "basis": "单位组织的集中学习",
            },
            "hours",
            "1000 hours",
        ),
    ],
    ids=["367-days", "1000.5-hours-taught", "51-modules", "1001-hours"],
)
async def test_limits_of_this_service_are_worded_as_ours_and_cite_no_clause(
    client: httpx.AsyncClient, body: dict[str, Any], field: str, limit: str
) -> None:
    """Item 7 (our reading): the service's own input limits (366 days, 1000 hours taught,
    50 modules, 1000 hours per entry) are refused as such — a 422 naming the field, with
    neither a clause nor the notice cited; nothing is written."""
    await register(client)
    response = await add_entry(client, body)
    assert response.status_code == 422, response.text
    message = detail(response)
    assert field in message and f"at most {limit} per entry" in message
    assert "a limit of this service, not of the notice" in message
    assert "§" not in message and "宁人社发" not in message
    assert await ledger(client) == []


async def test_a_schema_refusal_cites_no_clause(client: httpx.AsyncClient) -> None:
    """Item 7: negative days or zero hours taught are bad input, not a rule of the notice:
    the 422 names the field and cites no clause (it used to append §一(三)1)."""
    await register(client)
    for body in (
        {"kind": "study_tour", "date": "2020-05-10", "days": -3},
        {"kind": "teaching", "date": "2022-05-10", "hours_taught": 0},
    ):
        response = await add_entry(client, body)
        assert response.status_code == 422
        assert "§" not in detail(response)
