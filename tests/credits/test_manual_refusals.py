"""§一(三) manual entries refused: zero, negative, fractional or absurd days and hours,
unknown kinds, missing fields, dates no policy covers — each a 422 that names the field
(and, where the schema refuses before the conversion, the clause); nothing is written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.credits.conftest import add_entry, detail, ledger, register


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"kind": "study_tour", "date": "2020-05-10", "days": 0}, "days", "greater than"),
        ({"kind": "study_tour", "date": "2020-05-10", "days": -3}, "days", "greater than"),
        ({"kind": "study_tour", "date": "2020-05-10", "days": 2.5}, "days", "integer"),
        ({"kind": "study_tour", "date": "2020-05-10", "days": 91}, "days", "at most 90"),
        ({"kind": "study_tour", "date": "2020-05-10", "days": 3650}, "days", "§一(三)1"),
        ({"kind": "study_tour", "date": "2020-05-10"}, "days", "required"),
        ({"kind": "study_tour", "days": 3}, "date", "required"),
        ({"kind": "teaching", "date": "2020-05-10", "hours_taught": 1.3}, "hours_taught", "0.5"),
        ({"kind": "teaching", "date": "2020-05-10", "hours_taught": 0}, "hours_taught", "0"),
        ({"kind": "teaching", "date": "2020-05-10", "hours_taught": -4}, "hours_taught", "-4"),
        ({"kind": "teaching", "date": "2020-05-10", "hours_taught": 201}, "hours_taught", "200"),
        ({"kind": "teaching", "date": "2020-05-10", "hours_taught": "8"}, "hours_taught", ""),
        ({"kind": "computer_exam_module", "date": "2020-05-10", "modules": 0}, "modules", ""),
        ({"kind": "computer_exam_module", "date": "2020-05-10", "modules": 21}, "modules", "20"),
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
                "hours": 501,
                "basis": "x",
            },
            "hours",
            "500",
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
        ({"kind": "study_tour", "date": "2016-12-31", "days": 3}, "date", "no policy covers"),
        ({"kind": "study_tour", "date": "2023-01-01", "days": 3}, "date", "no policy covers"),
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
        "training-hours-1.3",
        "missing-base",
        "missing-qualification-name",
        "graduated-before-enrolled",
        "manual-over-max",
        "unknown-category",
        "missing-basis",
        "unknown-kind",
        "no-kind",
        "slashed-date",
        "feb-30",
        "before-policy",
        "after-policy",
        "unknown-field",
        "largest-double-hours",
    ],
)
async def test_bad_manual_entry_is_422_naming_the_field_s1_3(
    client: httpx.AsyncClient, body: dict[str, Any], field: str, words: str
) -> None:
    """§一(三): bad input — zero, negative, fractional or absurd days and hours, unknown
    kinds, missing fields, dates no policy covers — is a 422 naming the field; nothing is
    written."""
    await register(client)
    response = await add_entry(client, body)
    assert response.status_code == 422, response.text
    message = detail(response)
    assert field in message
    assert words in message
    assert await ledger(client) == []


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "study_tour", "date": "2020-05-10", "days": -3},
        {"kind": "teaching", "date": "2020-05-10", "hours_taught": 0},
    ],
    ids=["negative-days", "zero-hours-taught"],
)
async def test_out_of_range_days_or_hours_name_the_clause_s1_3_1(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    """§一(三)1: the 422 for a negative study-tour day count or zero hours taught cites the
    clause, like the 422 for too many days does."""
    await register(client)
    response = await add_entry(client, body)
    assert response.status_code == 422
    assert "§一(三)1" in detail(response)
