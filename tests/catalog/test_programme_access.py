"""Who acts in the programme: admins for every base, a base-scoped client for its own
base only (enrolments, results, project lists); auditors read; others are refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from catalog.programme_api import _may_act_for, _may_read
from nxce.core import clients
from nxce.core.auth import authenticate
from nxce.core.clients import Scope
from tests.catalog.programme_support import (
    TEACHERS_BASE,
    base_id,
    create_project,
    engineering_project,
    enrol,
    learner,
    result,
)
from tests.conftest import ADMIN, basic
from tests.credits.conftest import MakeBound, auditor, bound_client

__all__ = ["auditor", "bound_client"]

ENGINEERING = "0000000000000000000000e1"
TEACHERS = "0000000000000000000000e2"


@dataclass(frozen=True)
class _Caller:
    """A principal as the base branch shapes it (`Principal.base_id`), built directly."""

    key: str
    scopes: tuple[str, ...]
    base_id: str | None = None

    def holds(self, scope: Scope) -> bool:
        return clients.holds(list(self.scopes), scope)


def test_an_admin_acts_for_every_base() -> None:
    admin = _Caller("admin", (Scope.admin,))
    assert _may_act_for(admin, ENGINEERING) and _may_act_for(admin, TEACHERS)


def test_a_base_client_acts_for_its_own_base_only() -> None:
    own = _Caller("gongcheng-base", ("base",), ENGINEERING)
    assert _may_act_for(own, ENGINEERING)
    assert not _may_act_for(own, TEACHERS)
    assert _may_read(own)


def test_a_base_scope_without_a_base_acts_for_none() -> None:
    loose = _Caller("loose", ("base",), None)
    assert not _may_act_for(loose, ENGINEERING)
    assert not _may_read(loose)


def test_auditors_read_but_do_not_act() -> None:
    reader = _Caller("pingshen", (Scope.auditor,))
    assert _may_read(reader)
    assert not _may_act_for(reader, ENGINEERING)


async def test_an_auditor_cannot_enrol_or_record(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    project = await engineering_project(client)
    learner_id = await learner(client, 100)
    refused = await enrol(client, project["id"], learner_id, auth=auditor)
    assert refused.status_code == 403
    assert (await enrol(client, project["id"], learner_id)).status_code == 201
    assert (await result(client, project["id"], learner_id, auth=auditor)).status_code == 403


async def test_a_learner_client_reads_no_projects(
    client: httpx.AsyncClient, bound_client: MakeBound
) -> None:
    await engineering_project(client)
    phone = await bound_client("zhangwei")
    assert (await client.get("/programme/projects", headers=phone)).status_code == 403


# --- base-scoped clients (Scope.base, Client.base_id: the bases branch) -------------------

needs_base_clients = pytest.mark.skipif(
    not hasattr(Scope, "base"), reason="base-scoped clients come with the bases branch"
)


async def _base_client(base: str) -> dict[str, str]:
    create: Any = clients.create
    await create(
        key="gongcheng-jidi",
        name="宁夏工程技术人员继续教育基地",
        scopes=[Scope("base")],
        secret="gongcheng-jidi-secret",
        base_id=base,
    )
    return basic("gongcheng-jidi", "gongcheng-jidi-secret")


@needs_base_clients
async def test_a_base_client_enrols_and_records_for_its_own_projects_only(
    client: httpx.AsyncClient,
) -> None:
    own = await engineering_project(client)
    other = await create_project(
        client,
        await base_id(client, TEACHERS_BASE),
        title="葡萄酒产业专业技术人才培训班",
        industry="葡萄酒",
    )
    base = await _base_client(own["base_id"])
    learner_id = await learner(client, 101)
    assert (await enrol(client, own["id"], learner_id, auth=base)).status_code == 201
    assert (await result(client, own["id"], learner_id, auth=base)).status_code == 201
    assert (await enrol(client, other["id"], learner_id, auth=base)).status_code == 403
    assert (await enrol(client, other["id"], learner_id)).status_code == 201
    assert (await result(client, other["id"], learner_id, auth=base)).status_code == 403


@needs_base_clients
async def test_a_base_client_lists_its_own_projects_only(client: httpx.AsyncClient) -> None:
    own = await engineering_project(client)
    teachers = await base_id(client, TEACHERS_BASE)
    other = await create_project(
        client, teachers, title="葡萄酒产业专业技术人才培训班", industry="葡萄酒"
    )
    base = await _base_client(own["base_id"])
    listed = (await client.get("/programme/projects", headers=base)).json()
    assert [p["id"] for p in listed] == [own["id"]]
    asked = await client.get("/programme/projects", params={"base_id": teachers}, headers=base)
    assert asked.status_code == 403
    assert (await client.get(f"/programme/projects/{other['id']}", headers=base)).status_code == 403
    everything = (await client.get("/programme/projects", headers=ADMIN)).json()
    assert len(everything) == 2


async def test_routes_confine_a_base_principal_to_its_base(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The routes with a base principal as the bases branch authenticates it (here put in
    place of the authentication dependency): its own projects only, in lists and writes."""
    own = await engineering_project(client)
    teachers = await base_id(client, TEACHERS_BASE)
    other = await create_project(
        client, teachers, title="葡萄酒产业专业技术人才培训班", industry="葡萄酒"
    )
    learner_id = await learner(client, 102)
    app.dependency_overrides[authenticate] = lambda: _Caller(
        "gongcheng-jidi", ("base",), own["base_id"]
    )
    try:
        listed = (await client.get("/programme/projects")).json()
        assert [p["id"] for p in listed] == [own["id"]]
        asked = await client.get("/programme/projects", params={"base_id": teachers})
        assert asked.status_code == 403
        assert (await client.get(f"/programme/projects/{other['id']}")).status_code == 403
        assert (await enrol(client, own["id"], learner_id)).status_code == 201
        assert (await result(client, own["id"], learner_id)).status_code == 201
        assert (await enrol(client, other["id"], learner_id)).status_code == 403
    finally:
        app.dependency_overrides.clear()
    assert len((await client.get("/programme/projects", headers=ADMIN)).json()) == 2
