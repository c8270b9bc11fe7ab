"""Policy as data, and the end of the §一(三)2 exam substitutions: with a (hypothetical)
2023 policy file beside the built-in 2022 one, 2023 applications are audited over shifted
windows without new code, and the exam substitutions — 此项政策截止2022年年底，以后不再执行
— passed after 2022 are recorded as expired and not counted by a 2023 audit."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from credits.policy import BUILT_IN
from nxce.settings import Settings
from tests.conftest import embedded_settings
from tests.credits.conftest import (
    audit,
    entry,
    manual,
    register,
)

HEADER = """\
# TEST FIXTURE, NOT A REAL NOTICE: a hypothetical 2023 policy for the credits tests, made
# from the built-in ningxia-2022 file with its id, application year, dates covered and
# audit windows moved on one year. The exam substitutions keep valid_through 2022-12-31,
# as 宁人社发〔2022〕23号 §一(三)2 says (此项政策截止2022年年底，以后不再执行).
"""


def hypothetical_2023(text: str) -> str:
    """The 2022 policy file with its year-bound values shifted to 2023."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    replacements = [
        (r'id = "ningxia-2022"', 'id = "ningxia-2023"'),
        (r'document = "[^"]*"', 'document = "假设的2023年度政策（测试用）"'),
        (r"application_year = 2022", "application_year = 2023"),
        (
            r"covers = \{ from = 2017-01-01, to = 2022-12-31 \}",
            "covers = { from = 2018-01-01, to = 2023-12-31 }",
        ),
        (r"window = \{ from = 2018, to = 2021 \}", "window = { from = 2019, to = 2022 }"),
        (r"window = \{ from = 2017, to = 2021 \}", "window = { from = 2018, to = 2022 }"),
    ]
    for pattern, replacement in replacements:
        body, count = re.subn(pattern, replacement, body)
        assert count, f"the 2022 policy file no longer has {pattern!r}"
    assert body.count("valid_through = 2022-12-31") == 2
    return HEADER + body + "\n"


@pytest.fixture
def settings(tmp_path: Path, search_index: Path) -> Settings:
    """The catalog, and an extra policy directory (NXCE_POLICY_DIR) holding the
    hypothetical 2023 policy."""
    shutil.copytree(search_index, tmp_path / "search")
    policies = tmp_path / "policies"
    policies.mkdir()
    source = (BUILT_IN / "ningxia-2022.toml").read_text(encoding="utf-8")
    (policies / "ningxia-2023.toml").write_text(hypothetical_2023(source), encoding="utf-8")
    return embedded_settings(tmp_path, policy_dir=policies)


@pytest.mark.parametrize(
    ("level", "window"),
    [("intermediate", (2019, 2022)), ("deputy_senior", (2018, 2022))],
)
async def test_another_year_is_a_new_policy_file_not_new_code_s1_2(
    client: httpx.AsyncClient, level: str, window: tuple[int, int]
) -> None:
    """§一(二) as data: a 2023 application is audited by the 2023 file's windows; a 2022
    application still by the 2022 file."""
    await register(client)
    verdict = await audit(client, level, 2023)
    assert verdict["policy"] == "ningxia-2023"
    assert verdict["window"] == {"from": window[0], "to": window[1]}
    assert (await audit(client, level, 2022))["policy"] == "ningxia-2022"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "foreign_language_exam", "date": "2023-01-05"},
        {"kind": "computer_exam_module", "date": "2023-03-18", "modules": 2},
    ],
    ids=["foreign-language", "computer"],
)
async def test_exam_substitution_dated_after_2022_is_recorded_as_expired_under_2023_s1_3_2(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    """§一(三)2 截止2022年年底: where a policy covers 2023, an exam passed in 2023 is recorded
    by the newest policy having the rule (ningxia-2023) with the rule's valid_through
    2022-12-31, before the pass: expired, which the audit says."""
    await register(client)
    found = await entry(client, body)
    assert (found["policy_id"], found["clause"]) == ("ningxia-2023", "§一(三)2")
    assert (found["valid_through"], found["occurred_on"][:4]) == ("2022-12-31", "2023")


async def test_an_exam_passed_in_2022_is_converted_by_the_2022_policy_s1_3_2(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)2: of the policies having the rule, the newest one whose rule is still valid
    on the date of the pass converts it — 2022-11-05 is valid under both files (through
    2022-12-31), so ningxia-2023, the newest."""
    await register(client)
    found = await entry(client, {"kind": "foreign_language_exam", "date": "2022-11-05"})
    assert (found["policy_id"], found["hours"]) == ("ningxia-2023", 40.0)


async def test_exam_substitutions_are_not_counted_by_a_2023_audit_s1_3_2(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)2 以后不再执行: a foreign-language exam (2020, 40 public) and 2 computer modules
    (2021, 20 public) count in the 2022 audit (public 40 + 20 + 30 manual = 90) but not in
    the 2023 one (window 2019-2022: only the 30 manual public hours), where they are
    listed in not_counted with the clause."""
    await register(client)
    language = await entry(client, {"kind": "foreign_language_exam", "date": "2020-04-18"})
    computer = await entry(
        client, {"kind": "computer_exam_module", "date": "2021-06-19", "modules": 2}
    )
    await entry(client, manual("2021-09-01", "public", 30))

    in_2022 = await audit(client, "intermediate", 2022)
    assert in_2022["earned"]["public"] == 90
    assert [a["rule"] for a in in_2022["applied"]] == [
        "foreign_language_exam",
        "computer_exam_module",
        "exam_series_not_checked",  # issue 13: the notice names no series requiring them
    ]

    in_2023 = await audit(client, "intermediate", 2023)
    assert in_2023["earned"] == {"total": 30, "public": 30, "professional": 0}
    assert in_2023["applied"] == []
    assert [n["entry_id"] for n in in_2023["not_counted"]] == [language["id"], computer["id"]]
    for listed in in_2023["not_counted"]:
        assert "§一(三)2" in listed["reason"] and "2022-12-31" in listed["reason"]


async def test_a_2023_entry_is_converted_by_the_2023_policy_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)1 under the policy covering the date: a 2023 study tour (3 days × 6 = 18)."""
    await register(client)
    found = await entry(client, {"kind": "study_tour", "date": "2023-04-01", "days": 3})
    assert (found["hours"], found["policy_id"], found["year"]) == (18.0, "ningxia-2023", 2023)
    assert (await audit(client, "intermediate", 2023))["earned"]["total"] == 0  # 2023: outside
