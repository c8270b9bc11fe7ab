"""Helpers for the credit-hour tests: an app WITH the fixture catalog (completions credit
catalog courses, training entries need its bases), learners with Chinese names and valid
national id numbers, completion statements, and request helpers for the ledger and audit.

Learners' actor is their platform account: {"account": {"homePage": HOME, "name": id}}.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from credits.id_numbers import check_digit
from credits.policy import BUILT_IN
from nxce.core import clients
from nxce.core.clients import Scope
from nxce.settings import Settings
from tests.conftest import ADMIN, basic, embedded_settings
from tests.lrs.conftest import COMPLETED, VOIDED, post_statements

HOME = "https://nxce.example"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
FAILED = "http://adlnet.gov/expapi/verbs/failed"

# The fixture bases (GET /bases) the training entries name.
ENGINEERING_BASE = "宁夏工程技术人员继续教育基地"  # certified 2018-04-20
REVOKED_BASE = "石嘴山市工程技术培训中心"  # certified 2017-06-01, revoked 2021-09-30
TEACHERS_BASE = "宁夏教师发展与培训中心"  # certified 2016-09-01, commended 2021-12-20


THIS_YEAR_POLICY = "test-this-year"


def policy_covering_this_year(directory: Path) -> Path:
    """TEST FIXTURE, NOT A REAL NOTICE: writes into `directory` (NXCE_POLICY_DIR) a
    hypothetical policy covering 2023 to the end of the current year (China Standard
    Time), made from the built-in ningxia-2022 file with its id, application year, dates
    covered and audit windows moved on — what an administrator installs so that
    completions of this year count (without it they wait: no policy covers them yet)."""
    this_year = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).year
    shift = this_year - 2022
    text = (BUILT_IN / "ningxia-2022.toml").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    replacements = [
        (r'id = "ningxia-2022"', f'id = "{THIS_YEAR_POLICY}"'),
        (r'document = "[^"]*"', 'document = "假设的本年度政策（测试用）"'),
        (r"application_year = 2022", f"application_year = {this_year}"),
        (
            r"covers = \{ from = 2017-01-01, to = 2022-12-31 \}",
            f"covers = {{ from = 2023-01-01, to = {this_year}-12-31 }}",
        ),
        (
            r"window = \{ from = 2018, to = 2021 \}",
            f"window = {{ from = {2018 + shift}, to = {2021 + shift} }}",
        ),
        (
            r"window = \{ from = 2017, to = 2021 \}",
            f"window = {{ from = {2017 + shift}, to = {2021 + shift} }}",
        ),
    ]
    for pattern, replacement in replacements:
        body, count = re.subn(pattern, replacement, body)
        assert count, f"the 2022 policy file no longer has {pattern!r}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{THIS_YEAR_POLICY}.toml"
    path.write_text("# TEST FIXTURE, NOT A REAL NOTICE\n" + body + "\n", encoding="utf-8")
    return directory


@pytest.fixture
def settings(tmp_path: Path, search_index: Path) -> Settings:
    """The catalog is loaded: completions credit catalog courses, and training entries
    are checked against its continuing-education bases."""
    shutil.copytree(search_index, tmp_path / "search")
    return embedded_settings(tmp_path)


# --- learners -------------------------------------------------------------------------


def id_number(sequence: str = "123", birth: str = "19850312", region: str = "640102") -> str:
    """A valid 18-character national id number (GB 11643-1999 check digit)."""
    first17 = f"{region}{birth}{sequence}"
    return first17 + check_digit(first17)


ZHANG_WEI = id_number("123")  # 640102198503121239


def learner_body(
    learner_id: str = "zhangwei",
    name: str = "张伟",
    sequence: str = "123",
    **overrides: Any,
) -> dict[str, Any]:
    """POST /learners body: an engineer at a construction company, no title yet."""
    body: dict[str, Any] = {
        "id": learner_id,
        "name": name,
        "id_number": id_number(sequence),
        "employer": "宁夏建工集团有限公司",
        "series": "工程",
        "title_level": "junior",
        "title_obtained_on": "2016-07-01",
        "degree": "bachelor",
    }
    body.update(overrides)
    return body


async def register(
    client: httpx.AsyncClient,
    learner_id: str = "zhangwei",
    name: str = "张伟",
    sequence: str = "123",
    **overrides: Any,
) -> dict[str, Any]:
    """POST /learners as the admin; fails unless 201."""
    response = await client.post(
        "/learners", json=learner_body(learner_id, name, sequence, **overrides), headers=ADMIN
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def register_li(client: httpx.AsyncClient) -> dict[str, Any]:
    """李秀英, a physician of the 卫生 series (continuing medical education rules)."""
    return await register(
        client, "lixiuying", "李秀英", "124", series="卫生", employer="宁夏医科大学总医院"
    )


def actor(learner_id: str = "zhangwei", name: str = "张伟") -> dict[str, Any]:
    return {"objectType": "Agent", "name": name, "account": {"homePage": HOME, "name": learner_id}}


# --- statements -----------------------------------------------------------------------


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ago(**delta: float) -> str:
    """A timestamp `delta` before now (UTC)."""
    return timestamp(datetime.now(UTC) - timedelta(**delta))


def completion(
    activity_id: str,
    learner_id: str = "zhangwei",
    *,
    name: str = "张伟",
    verb: str = COMPLETED,
    when: str | None = None,
    result: dict[str, Any] | None = None,
    statement_id: str | None = None,
) -> dict[str, Any]:
    """A statement saying the learner `verb`-ed the activity, an hour ago by default."""
    verb_names = {COMPLETED: "完成", PASSED: "通过", EXPERIENCED: "学习", FAILED: "未通过"}
    statement: dict[str, Any] = {
        "id": statement_id or str(uuid.uuid4()),
        "actor": actor(learner_id, name),
        "verb": {"id": verb, "display": {"zh-CN": verb_names.get(verb, "学习")}},
        "object": {"objectType": "Activity", "id": activity_id},
        "timestamp": when or ago(hours=1),
    }
    if result is not None:
        statement["result"] = result
    return statement


def voiding_of(target: str) -> dict[str, Any]:
    return {
        "actor": {"objectType": "Agent", "name": "平台管理员", "mbox": "mailto:admin@nxce.example"},
        "verb": {"id": VOIDED, "display": {"zh-CN": "作废"}},
        "object": {"objectType": "StatementRef", "id": target},
    }


async def send(client: httpx.AsyncClient, *statements: dict[str, Any]) -> list[str]:
    """POST the statements as one batch (admin); answers their ids (fails unless 200)."""
    response = await post_statements(client, list(statements))
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()
    return ids


async def course(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
    response = await client.get(f"/courses/{code}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def activity(client: httpx.AsyncClient, code: str) -> str:
    """The xAPI activity IRI of a catalog course."""
    return str((await course(client, code))["activity_id"])


async def base_id(client: httpx.AsyncClient, name: str) -> str:
    """The id of a fixture continuing-education base, by name."""
    response = await client.get("/bases")
    assert response.status_code == 200, response.text
    return next(str(b["id"]) for b in response.json() if b["name"] == name)


# --- the ledger and the audit ---------------------------------------------------------


async def ledger(
    client: httpx.AsyncClient,
    learner_id: str = "zhangwei",
    auth: dict[str, str] = ADMIN,
    **params: Any,
) -> list[dict[str, Any]]:
    """GET /learners/{id}/credits (fails unless 200)."""
    response = await client.get(f"/learners/{learner_id}/credits", params=params, headers=auth)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


async def add_entry(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    learner_id: str = "zhangwei",
    auth: dict[str, str] = ADMIN,
) -> httpx.Response:
    """POST /learners/{id}/credits: a manual entry (§一(三))."""
    return await client.post(f"/learners/{learner_id}/credits", json=body, headers=auth)


async def entry(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    learner_id: str = "zhangwei",
    auth: dict[str, str] = ADMIN,
) -> dict[str, Any]:
    """A manual entry that must be accepted (201); answers the ledger entry."""
    response = await add_entry(client, body, learner_id, auth)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def manual(
    day: str, category: str, hours: float, basis: str = "单位组织的集中学习"
) -> dict[str, Any]:
    """An admin's `manual` entry (§一(一): other routes the departments recognise)."""
    return {"kind": "manual", "date": day, "category": category, "hours": hours, "basis": basis}


async def review(
    client: httpx.AsyncClient,
    entry_id: str,
    decision: str,
    reason: str = "已核对学习记录",
    learner_id: str = "zhangwei",
    auth: dict[str, str] = ADMIN,
) -> httpx.Response:
    return await client.post(
        f"/learners/{learner_id}/credits/{entry_id}/review",
        json={"decision": decision, "reason": reason},
        headers=auth,
    )


async def audit_response(
    client: httpx.AsyncClient,
    level: str = "intermediate",
    year: int | str = 2022,
    learner_id: str = "zhangwei",
    auth: dict[str, str] = ADMIN,
) -> httpx.Response:
    return await client.get(
        f"/learners/{learner_id}/audit", params={"level": level, "year": year}, headers=auth
    )


async def audit(
    client: httpx.AsyncClient,
    level: str = "intermediate",
    year: int = 2022,
    learner_id: str = "zhangwei",
    auth: dict[str, str] = ADMIN,
) -> dict[str, Any]:
    """GET /learners/{id}/audit (fails unless 200)."""
    response = await audit_response(client, level, year, learner_id, auth)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def detail(response: httpx.Response) -> str:
    text: str = response.json()["detail"]
    return text


# --- clients --------------------------------------------------------------------------

MakeBound = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def bound_client(app: FastAPI) -> MakeBound:
    """Creates a client acting as a learner (the mobile app); answers its Basic headers."""

    async def create(learner_id: str, *scopes: Scope) -> dict[str, str]:
        key, secret = f"{learner_id}-app", f"{learner_id}-app-secret-for-tests"
        await clients.create(
            key=key,
            name=f"{learner_id} 的手机",
            scopes=list(scopes or (Scope.statements_write,)),
            secret=secret,
            learner_id=learner_id,
        )
        return basic(key, secret)

    return create


@pytest.fixture
async def auditor(app: FastAPI) -> dict[str, str]:
    """A client of the 评审委员会 holding the auditor scope only."""
    await clients.create(
        key="pingshen", name="工程系列评审委员会", scopes=[Scope.auditor], secret="pingshen-secret"
    )
    return basic("pingshen", "pingshen-secret")
