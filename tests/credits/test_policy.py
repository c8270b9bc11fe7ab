"""Policy files are checked when they are loaded: a misspelt key, a wrong type or a bad
value stops the start with a message naming the file, the key and the value."""

from __future__ import annotations

import re
from datetime import date, timedelta, timezone
from pathlib import Path

import pytest

from credits.policy import BUILT_IN, Policies, PolicyError
from nxce.app import create_app
from nxce.core.errors import Unprocessable
from tests.conftest import embedded_settings

SOURCE = (BUILT_IN / "ningxia-2022.toml").read_text(encoding="utf-8")


def policy_dir(tmp_path: Path, old: str, new: str) -> Path:
    """A policy directory holding the built-in policy as a 2023 one, `old` made `new`."""
    text = SOURCE.replace('id = "ningxia-2022"', 'id = "ningxia-2023"')
    text = text.replace("application_year = 2022", "application_year = 2023")
    assert text.count(old) == 1, f"the built-in policy no longer has {old!r} once"
    directory = tmp_path / "policies"
    directory.mkdir()
    (directory / "ningxia-2023.toml").write_text(text.replace(old, new), encoding="utf-8")
    return directory


BAD = [
    pytest.param(
        "factor = 3\n",
        "factr = 3\n",
        "conversions.teaching.factr",
        "3",
        id="misspelt-key",
    ),
    pytest.param(
        "total = 360\n",
        'total = "360"\n',
        "levels.intermediate.total",
        "'360'",
        id="wrong-type",
    ),
    pytest.param(
        "hours = 40\nvalid_through = 2022-12-31",
        'hours = 40\nvalid_through = "end of 2022"',
        "conversions.foreign_language_exam.valid_through",
        "'end of 2022'",
        id="bad-date",
    ),
    pytest.param(
        "hours_per_day = 6\n",
        "\n",
        "conversions.study_tour.hours_per_day",
        "missing",
        id="missing-key",
    ),
    pytest.param(
        'time_zone = "+08:00"',
        'time_zone = "CST"',
        "time_zone",
        "'CST'",
        id="bad-time-zone",
    ),
    pytest.param(
        'category = "public"\nhours = 40',
        'category = "pubic"\nhours = 40',
        "conversions.foreign_language_exam.category",
        "'pubic'",
        id="bad-category",
    ),
]


@pytest.mark.parametrize(("old", "new", "key", "value"), BAD)
def test_a_bad_policy_file_is_refused_naming_file_key_and_value(
    tmp_path: Path, old: str, new: str, key: str, value: str
) -> None:
    directory = policy_dir(tmp_path, old, new)
    with pytest.raises(PolicyError) as refused:
        Policies(directory)
    message = str(refused.value)
    assert str(directory / "ningxia-2023.toml") in message
    assert re.search(rf"{re.escape(key)}: .*{re.escape(value)}", message), message


def test_a_policy_file_that_is_no_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    directory = policy_dir(tmp_path, "total = 360\n", "total = 360 hours\n")
    with pytest.raises(PolicyError, match=re.escape(str(directory / "ningxia-2023.toml"))):
        Policies(directory)


def test_the_built_in_policy_loads() -> None:
    policy = Policies().for_application(2022)
    assert policy.id == "ningxia-2022"
    assert policy.time_zone == timezone(timedelta(hours=8))
    assert policy.covers(date(2017, 1, 1)) and not policy.covers(date(2023, 1, 1))
    assert policy.automatic.backdate_days == 30
    assert policy.level("intermediate").window.from_ == 2018
    assert policy.master.levels == ["intermediate"]
    assert policy.yearly.total == 90
    teaching = policy.conversion("teaching")
    assert teaching.clause == "§一(三)1"
    assert policy.conversions.teaching is not None
    assert policy.conversions.teaching.factor == 3


def test_a_policy_without_yearly_takes_the_masters_hours_a_year(tmp_path: Path) -> None:
    yearly = "[yearly]                         # §一(二): the windows' requirement a year (360/4, 120/4;\nclause = \"§一(二)\"                # 450/5, 150/5): what a learner's progress is measured by\ntotal = 90\npublic = 30\n"  # noqa: E501
    directory = policy_dir(tmp_path, yearly, "")
    policy = Policies(directory).for_application(2023)
    assert (policy.yearly.clause, policy.yearly.total, policy.yearly.public) == ("§一(二)", 90, 30)


def test_an_unknown_level_is_a_422_naming_it() -> None:
    with pytest.raises(Unprocessable, match=r"level: must be one of .*, got 'general'"):
        Policies().newest().level("general")


def test_an_unknown_kind_is_a_422_naming_it() -> None:
    with pytest.raises(Unprocessable, match=r"kind: .* has no rule for 'sabbatical'"):
        Policies().newest().conversion("sabbatical")


async def test_the_app_does_not_start_with_a_bad_policy(tmp_path: Path) -> None:
    directory = policy_dir(tmp_path, "factor = 3\n", "factr = 3\n")
    application = create_app(embedded_settings(tmp_path / "data", policy_dir=directory))
    with pytest.raises(PolicyError, match=r"ningxia-2023\.toml: .*conversions\.teaching\.factr"):
        async with application.router.lifespan_context(application):
            pass
