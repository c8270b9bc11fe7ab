"""§一(三)2 exam passes: 凡以往参加过职称外语考试并达到合格标准的 — any past pass is recorded,
before 2017 too, by the policy whose rule is valid on its date; computer modules may be
named (`module_names`, distinct within an entry); a pass dated in the future is bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.credits.conftest import add_entry, detail, entry, ledger, register


@pytest.mark.parametrize("day", ["2009-06-20", "2016-12-31", "2017-01-01"])
async def test_a_foreign_language_pass_of_any_past_date_is_recorded_s1_3_2(
    client: httpx.AsyncClient, day: str
) -> None:
    """Item 2, §一(三)2 凡以往参加过: a pass in 2009 (before the policy's 2017) counts like
    one in 2017 — 40 public hours, ningxia-2022, valid through 2022-12-31, in its own year."""
    await register(client)
    found = await entry(
        client, {"kind": "foreign_language_exam", "date": day, "evidence": "职称英语B级合格证书"}
    )
    assert (found["status"], found["hours"], found["category"]) == ("counted", 40.0, "public")
    assert (found["policy_id"], found["clause"], found["valid_through"]) == (
        "ningxia-2022",
        "§一(三)2",
        "2022-12-31",
    )
    assert found["year"] == int(day[:4])


async def test_named_computer_modules_count_ten_each_s1_3_2(client: httpx.AsyncClient) -> None:
    """§一(三)2, item 1: two modules named in 2012 → modules 2, 2 x 10 = 20 public hours; the
    names are in the entry's source for the audit to count each distinct module once."""
    await register(client)
    names = ["Word 2003 中文字处理", "Excel 2003 中文电子表格"]
    found = await entry(
        client, {"kind": "computer_exam_module", "date": "2012-05-19", "module_names": names}
    )
    assert (found["hours"], found["status"]) == (20.0, "counted")
    assert (found["source"]["modules"], found["source"]["module_names"]) == (2, names)


async def test_modules_and_names_that_agree_are_accepted_s1_3_2(client: httpx.AsyncClient) -> None:
    """§一(三)2: modules 3 with 3 distinct names → 30 public hours."""
    await register(client)
    names = ["Windows XP 操作系统", "Internet 应用", "PowerPoint 2003 中文演示文稿"]
    found = await entry(
        client,
        {"kind": "computer_exam_module", "date": "2018-11-10", "modules": 3, "module_names": names},
    )
    assert (found["hours"], found["source"]["module_names"]) == (30.0, names)


async def test_unnamed_modules_are_recorded_with_an_empty_name_list_s1_3_2(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)2: modules 4 without names → 40 public hours, module_names [] (the audit
    cannot check their distinctness and says so)."""
    await register(client)
    found = await entry(
        client, {"kind": "computer_exam_module", "date": "2015-04-11", "modules": 4}
    )
    assert (found["hours"], found["source"]["modules"], found["source"]["module_names"]) == (
        40.0,
        4,
        [],
    )


@pytest.mark.parametrize("kind", ["foreign_language_exam", "computer_exam_module"])
async def test_a_pass_dated_in_the_future_is_refused_naming_date_and_value(
    client: httpx.AsyncClient, kind: str
) -> None:
    """Bad input: an exam passed next month has not been passed — 422 naming the field and
    the value (a limit of this service, not a rule of the notice); nothing is written."""
    await register(client)
    later = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    body = {"kind": kind, "date": later, "modules": 1}
    if kind == "foreign_language_exam":
        del body["modules"]
    response = await add_entry(client, body)
    assert response.status_code == 422
    assert "date" in detail(response) and later in detail(response)
    assert "future" in detail(response) and "§" not in detail(response)
    assert await ledger(client) == []
