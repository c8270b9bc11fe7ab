"""The OpenAPI document describes the API as it answers: every operation lists the statuses
in STATUSES (the table kept honest here), the xAPI operations their parameters and bodies,
and each documented xAPI status is one a request really gets."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from nxce.app import create_app
from nxce.core.clients import Scope
from nxce.settings import Settings
from tests.conftest import basic, embedded_settings
from tests.lrs.conftest import COURSE, LEARNER, V2, MakeClient, statement, xapi

# Every request with a body can be too large (413) or malformed (400); every authenticated
# one can be refused (401), lack the scope (403), or come after too many failures (429).
READ = {200, 401, 403, 404, 422, 429}
WRITE = {400, 401, 403, 404, 409, 412, 413, 415, 422, 429}
PROGRAMME_WRITE = WRITE - {412}  # programme writes take no If-Match
LEARNERS = {400, 401, 403, 404, 409, 413, 415, 422, 429}
LEARNERS_READ = {401, 403, 404, 422, 429}
XAPI_WRITE = {204, 400, 401, 403, 409, 412, 413, 429}
XAPI_POST_OR_DELETE = {204, 400, 401, 403, 412, 413, 429}
XAPI_READ = {200, 400, 401, 403, 404, 429}

STATUSES: dict[tuple[str, str], set[int]] = {
    ("GET", "/health"): {200, 422, 503},
    ("GET", "/metrics"): {200, 401, 403, 422, 429},
    ("GET", "/courses"): {200, 404, 422},
    ("POST", "/courses"): {201, *WRITE},
    ("GET", "/courses/{code}"): {200, 404, 422},
    ("PUT", "/courses/{code}"): {200, *WRITE},
    ("PATCH", "/courses/{code}"): {200, *WRITE},
    ("DELETE", "/courses/{code}"): {200, *WRITE},
    ("POST", "/courses/{code}/restore"): {200, *WRITE},
    ("POST", "/courses/import"): {200, 400, 401, 403, 404, 409, 413, 415, 422, 429},
    ("GET", "/courses/{code}/history"): READ,
    ("GET", "/catalog/stats"): {200, 404, 422},
    ("GET", "/bases"): {200, 404, 422},
    ("POST", "/bases"): {201, *WRITE},
    ("GET", "/bases/{base_id}"): {200, 404, 422},
    ("PATCH", "/bases/{base_id}"): {200, *WRITE},
    ("GET", "/bases/{base_id}/status"): {200, 404, 422},
    ("POST", "/bases/{base_id}/status"): {200, *WRITE},
    ("GET", "/programme/plan"): READ,
    ("POST", "/programme/projects"): {201, *PROGRAMME_WRITE},
    ("GET", "/programme/projects"): READ,
    ("GET", "/programme/projects/{project_id}"): READ,
    ("POST", "/programme/projects/{project_id}/enrolments"): {201, *PROGRAMME_WRITE},
    ("DELETE", "/programme/projects/{project_id}/enrolments/{learner_id}"): {
        204,
        401,
        403,
        404,
        409,
        422,
        429,
    },
    ("POST", "/programme/projects/{project_id}/results"): {201, *PROGRAMME_WRITE},
    ("GET", "/search"): {200, 400, 401, 422, 429, 503},
    ("GET", "/search/suggest"): {200, 400, 422, 503},
    ("POST", "/search/reindex"): {200, 401, 403, 413, 422, 429},
    ("POST", "/admin/store/backup"): {200, 401, 403, 409, 413, 422, 429},
    ("GET", "/clients"): {200, 401, 403, 422, 429},
    ("POST", "/clients"): {201, 400, 401, 403, 409, 413, 415, 422, 429},
    ("GET", "/clients/{key}"): {200, 401, 403, 404, 422, 429},
    ("POST", "/clients/{key}/secret"): {200, 401, 403, 404, 422, 429},
    ("POST", "/clients/{key}/disable"): {200, 401, 403, 404, 409, 422, 429},
    ("POST", "/clients/{key}/enable"): {200, 401, 403, 404, 422, 429},
    ("POST", "/admin/store/dump"): {200, 401, 403, 409, 413, 422, 429},
    ("POST", "/admin/credits/rebuild"): {200, 401, 403, 404, 409, 413, 422, 429},
    ("GET", "/admin-log"): {200, 401, 403, 422, 429},
    ("GET", "/admin/keys"): {200, 401, 403, 422, 429},
    ("POST", "/admin/keys/reencrypt"): {200, 401, 403, 409, 413, 422, 429},
    ("GET", "/xapi/about"): {200, 400},
    ("GET", "/xapi/statements"): XAPI_READ,
    ("PUT", "/xapi/statements"): {204, 400, 401, 403, 409, 413, 429},
    ("POST", "/xapi/statements"): {200, 400, 401, 403, 409, 413, 429},
    ("GET", "/xapi/activities/state"): XAPI_READ,
    ("PUT", "/xapi/activities/state"): XAPI_WRITE,
    ("POST", "/xapi/activities/state"): XAPI_POST_OR_DELETE,
    ("DELETE", "/xapi/activities/state"): XAPI_POST_OR_DELETE,
    ("GET", "/xapi/activities/profile"): XAPI_READ,
    ("PUT", "/xapi/activities/profile"): XAPI_WRITE,
    ("POST", "/xapi/activities/profile"): XAPI_POST_OR_DELETE,
    ("DELETE", "/xapi/activities/profile"): XAPI_POST_OR_DELETE,
    ("GET", "/xapi/agents/profile"): XAPI_READ,
    ("PUT", "/xapi/agents/profile"): XAPI_WRITE,
    ("POST", "/xapi/agents/profile"): XAPI_POST_OR_DELETE,
    ("DELETE", "/xapi/agents/profile"): XAPI_POST_OR_DELETE,
    ("GET", "/xapi/activities"): {200, 400, 401, 403, 429},
    ("GET", "/xapi/agents"): {200, 400, 401, 403, 429},
    ("POST", "/learners"): {201, *LEARNERS},
    ("GET", "/learners/{learner_id}"): {200, *LEARNERS_READ},
    ("PATCH", "/learners/{learner_id}"): {200, *LEARNERS},
    ("POST", "/learners/roster"): {200, 415, *LEARNERS},
    ("GET", "/learners/{learner_id}/credits"): {200, *LEARNERS_READ},
    ("POST", "/learners/{learner_id}/credits"): {201, *LEARNERS},
    ("POST", "/learners/{learner_id}/credits/{entry_id}/review"): {200, *LEARNERS},
    ("POST", "/learners/{learner_id}/credits/{entry_id}/documents"): {201, 415, *LEARNERS},
    ("GET", "/learners/{learner_id}/credits/{entry_id}/documents"): {200, *LEARNERS_READ},
    ("GET", "/learners/{learner_id}/credits/{entry_id}/documents/{document_id}"): {
        200,
        *LEARNERS_READ,
    },
    ("DELETE", "/learners/{learner_id}/credits/{entry_id}/documents/{document_id}"): {
        204,
        400,
        413,
        *LEARNERS_READ,
    },
    ("GET", "/learners/{learner_id}/progress"): {200, *LEARNERS_READ},
    ("POST", "/learners/{learner_id}/erasure"): {200, *LEARNERS},
    ("POST", "/learners/{learner_id}/titles/{entry}/correction"): {200, *LEARNERS},
    ("GET", "/audit/events"): {200, 401, 403, 422, 429},
    ("GET", "/learners/{learner_id}/audit"): {200, *LEARNERS_READ},
    ("GET", "/learners/{learner_id}/recommendations"): {200, *LEARNERS_READ},
    ("POST", "/learners/{learner_id}/audit/conclusions"): {201, 400, 413, 415, *LEARNERS_READ},
    ("GET", "/learners/{learner_id}/audit/conclusions"): {200, *LEARNERS_READ},
    ("GET", "/learners/{learner_id}/transcript"): {200, *LEARNERS_READ},
    ("GET", "/verify/{code}"): {200, 404, 422},
    ("POST", "/verify"): {200, 400, 404, 413, 415, 422},
    ("GET", "/exports"): {200, *LEARNERS_READ},
    ("POST", "/exports"): {202, 400, 413, 415, *LEARNERS_READ},
    ("GET", "/exports/{job_id}"): {200, *LEARNERS_READ},
    ("GET", "/exports/{job_id}/file"): {200, 409, *LEARNERS_READ},
    ("POST", "/auth/activate"): {204, 400, 413, 415, 422, 429},
    ("POST", "/auth/app-sign-in"): {200, 400, 401, 413, 415, 422, 429},
    ("POST", "/auth/refresh"): {200, 400, 401, 413, 415, 422},
    ("GET", "/auth/devices"): {200, 400, 401, 403, 413, 422, 429},
    ("DELETE", "/auth/devices/{device_id}"): {204, 400, 401, 403, 404, 413, 422, 429},
    ("POST", "/auth/password"): {204, 400, 401, 403, 413, 415, 422, 429},
    ("POST", "/learners/{learner_id}/activation-code"): {201, 413, *LEARNERS_READ},
    ("GET", "/learners/{learner_id}/devices"): {200, *LEARNERS_READ},
    ("DELETE", "/learners/{learner_id}/devices/{device_id}"): {204, *LEARNERS_READ},
}


def _operations(tmp_path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    document = create_app(embedded_settings(tmp_path)).openapi()
    return {
        (method.upper(), path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }


def test_openapi_documents_the_statuses_each_operation_answers(tmp_path: Path) -> None:
    operations = _operations(tmp_path)
    assert set(operations) == set(STATUSES), "an operation was added or removed: keep STATUSES"
    wrong = {
        f"{method} {path}": sorted(int(s) for s in operation["responses"])
        for (method, path), operation in operations.items()
        if {int(s) for s in operation["responses"]} != STATUSES[(method, path)]
    }
    assert wrong == {}


def test_openapi_documents_problems_as_problem_json(tmp_path: Path) -> None:
    for (method, path), operation in _operations(tmp_path).items():
        for status, answer in operation["responses"].items():
            if int(status) >= 400 and path != "/health":  # its 503 is the health body
                assert "application/problem+json" in answer["content"], (method, path, status)


def test_openapi_describes_the_parameters_and_bodies_of_the_xapi_operations(
    tmp_path: Path,
) -> None:
    operations = _operations(tmp_path)
    names = {
        key: {p["name"] for p in op.get("parameters", [])}
        for key, op in operations.items()
        if key[1].startswith("/xapi/") and key[1] != "/xapi/about"
    }
    assert all("X-Experience-API-Version" in n for n in names.values())
    either = [{"HTTPBasic": []}, {"HTTPBearer": []}]
    assert all(operations[key]["security"] == either for key in names)
    assert {"statementId", "agent", "verb", "since", "limit", "format", "more"} <= names[
        ("GET", "/xapi/statements")
    ]
    assert {"activityId", "agent", "registration", "stateId"} <= names[
        ("PUT", "/xapi/activities/state")
    ]
    post = operations[("POST", "/xapi/statements")]
    assert set(post["requestBody"]["content"]) == {"application/json", "multipart/mixed"}
    assert post["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    got = operations[("GET", "/xapi/statements")]["responses"]["200"]["content"]
    assert {"application/json", "multipart/mixed"} <= set(got)


# -- each documented xAPI status, answered -------------------------------------------------

AGENT = json.dumps(LEARNER, ensure_ascii=False)
# The query of one document of each resource (its id last), and of the resource's listing.
DOCUMENTS = {
    "/xapi/activities/state": {"activityId": COURSE, "agent": AGENT, "stateId": "进度"},
    "/xapi/activities/profile": {"activityId": COURSE, "profileId": "课程简介"},
    "/xapi/agents/profile": {"agent": AGENT, "profileId": "学习偏好"},
}
LIMIT = 4096


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return embedded_settings(tmp_path, seed_fixtures=False, max_xapi_body_bytes=LIMIT)


def _query(path: str) -> dict[str, str]:
    if path in DOCUMENTS:
        return dict(DOCUMENTS[path])
    return {"/xapi/activities": {"activityId": COURSE}, "/xapi/agents": {"agent": AGENT}}.get(
        path, {}
    )


def _body(method: str, path: str) -> dict[str, Any]:
    if path == "/xapi/statements" and method in ("PUT", "POST"):
        return {"json": statement()}
    if method in ("PUT", "POST"):
        return {"json": {"章节": 3, "进度": "一半"}}
    return {}


async def _conflict(
    client: httpx.AsyncClient, method: str, path: str, params: dict[str, str]
) -> tuple[dict[str, str], dict[str, Any]]:
    """Store what the request of a 409 then contradicts: its query and body."""
    if path != "/xapi/statements":
        await client.put(path, params=params, json={"已有": 1}, headers=xapi())
        return params, _body(method, path)
    statement_id = str(uuid.uuid4())
    await client.post(path, json=statement(id=statement_id), headers=xapi())
    changed = {"json": statement(id=statement_id, result={"completion": True})}
    return ({"statementId": statement_id} if method == "PUT" else params), changed


async def _throttled(
    client: httpx.AsyncClient, method: str, path: str, params: dict[str, str]
) -> dict[str, str]:
    """Ten failed authentications of one key from one address: the next one waits (429)."""
    wrong = xapi(auth=basic("admin", "wrong-secret"))
    for _ in range(10):
        await client.request(method, path, params=params, headers=wrong, **_body(method, path))
    return wrong


async def _answer(
    client: httpx.AsyncClient, make_client: MakeClient, method: str, path: str, status: int
) -> httpx.Response:
    """A request to `method path` that the xAPI rules answer with `status`."""
    params = _query(path)
    if method == "PUT" and path == "/xapi/statements":
        params = {"statementId": str(uuid.uuid4())}
    body = _body(method, path)
    headers = xapi()
    if status == 200 and path in DOCUMENTS:  # the listing
        params = {k: v for k, v in params.items() if not k.endswith("Id") or k == "activityId"}
    elif status == 400:
        params = {**params, **{f"p{i}": "1" for i in range(65)}}
    elif status == 401:
        headers = xapi(auth=None)
    elif status == 403:
        headers = xapi(auth=await make_client("auditor-1", "审计员", Scope.auditor))
    elif status == 404 and path == "/xapi/statements":
        params = {"statementId": str(uuid.uuid4())}
    elif status == 409:
        params, body = await _conflict(client, method, path, params)
    elif status == 412:
        headers = {**headers, "If-Match": '"a-tag-no-document-has"'}
    elif status == 413:
        body = {"content": b"{" + b" " * LIMIT + b"}"}
        headers = {**headers, "Content-Type": "application/json"}
    elif status == 429:
        headers = await _throttled(client, method, path, params)
    if method == "PUT" and path in DOCUMENTS and status in (204, 400, 401, 403, 413, 429):
        headers = {**headers, "If-None-Match": "*"}  # xAPI 1.0.3 needs one of the two
    return await client.request(method, path, params=params, headers=headers, **body)


XAPI = sorted(key for key in STATUSES if key[1].startswith("/xapi"))


@pytest.mark.parametrize(("method", "path"), XAPI)
async def test_every_documented_xapi_status_is_answered(
    client: httpx.AsyncClient, make_client: MakeClient, method: str, path: str
) -> None:
    answered = {}
    for status in sorted(STATUSES[(method, path)]):
        response = await _answer(client, make_client, method, path, status)
        answered[status] = response.status_code
        assert response.headers["X-Experience-API-Version"] == V2
        if status >= 400:
            assert response.headers["content-type"] == "application/problem+json"
    assert answered == {s: s for s in answered}
