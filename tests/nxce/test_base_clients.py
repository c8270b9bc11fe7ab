"""Base-scoped clients (§五(二), issue 14): a continuing-education base's account acts for
its own base and holds no other scope; `nxce clients create --scope base --base ID`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from catalog.models import Base
from nxce.app import open_store
from nxce.cli import app as cli
from nxce.core import clients, db
from nxce.core.auth import Principal, acts_for_base
from nxce.core.client_handover import FILE_NAME as HANDOVER_FILE
from nxce.core.clients import Scope
from nxce.core.errors import Unprocessable
from nxce.settings import get_settings
from tests.conftest import ADMIN, basic, embedded_settings
from tests.credits.conftest import ENGINEERING_BASE, TEACHERS_BASE, register
from tests.lrs.conftest import STATEMENTS, xapi

runner = CliRunner()
ENGINEERING_ID, TEACHERS_ID = "64b1f0c2a1b2c3d4e5f60718", "64b1f0c2a1b2c3d4e5f60719"


def test_an_admin_acts_for_any_base_a_base_client_for_its_own_only() -> None:
    admin = Principal(key="admin", name="管理员", scopes=("admin",))
    base = Principal(key="gongcheng", name="工程基地", scopes=("base",), base_id=ENGINEERING_ID)
    auditor_with_a_base = Principal(
        key="pingshen", name="评审委员会", scopes=("auditor",), base_id=ENGINEERING_ID
    )
    assert acts_for_base(admin, ENGINEERING_ID) and acts_for_base(admin, TEACHERS_ID)
    assert acts_for_base(base, ENGINEERING_ID)
    assert not acts_for_base(base, TEACHERS_ID)
    assert not acts_for_base(auditor_with_a_base, ENGINEERING_ID)  # not of scope base
    unbound = Principal(key="jidi", name="未绑定的基地账户", scopes=("base",))
    assert not acts_for_base(unbound, ENGINEERING_ID)


@pytest.fixture
async def base_client(app: FastAPI, client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """A client of 宁夏工程技术人员继续教育基地 (scope base); answers its headers and base id."""
    listed = (await client.get("/bases")).json()
    base_id = next(str(b["id"]) for b in listed if b["name"] == ENGINEERING_BASE)
    await clients.create(
        key="gongcheng-jidi",
        name=ENGINEERING_BASE,
        scopes=[Scope.base],
        secret="gongcheng-jidi-secret",
        base_id=base_id,
    )
    return basic("gongcheng-jidi", "gongcheng-jidi-secret"), base_id


async def test_a_base_client_is_a_principal_acting_for_its_base(
    app: FastAPI, client: httpx.AsyncClient, base_client: tuple[dict[str, str], str]
) -> None:
    headers, base_id = base_client
    principal = await app.state.verifier.principal(headers["Authorization"], "127.0.0.1")
    assert (principal.scopes, principal.base_id) == (("base",), base_id)
    teachers = next(
        str(b["id"]) for b in (await client.get("/bases")).json() if b["name"] == TEACHERS_BASE
    )
    assert acts_for_base(principal, base_id) and not acts_for_base(principal, teachers)


async def test_a_base_client_reads_no_learner_statement_or_transcript_and_writes_no_course(
    client: httpx.AsyncClient, base_client: tuple[dict[str, str], str]
) -> None:
    """The base scope holds nothing else: learners, their ledgers, audits and transcripts,
    statements and catalog writes are all refused (403)."""
    headers, _ = base_client
    await register(client)
    refused = [
        await client.get("/learners/zhangwei", headers=headers),
        await client.get("/learners/zhangwei/credits", headers=headers),
        await client.get(
            "/learners/zhangwei/audit", params={"level": "intermediate", "year": 2022},
            headers=headers,
        ),
        await client.get("/learners/zhangwei/transcript", headers=headers),
        await client.get(STATEMENTS, headers=xapi(auth=headers)),
        await client.post("/bases", json={}, headers=headers),
        await client.delete("/courses/GX-0001", headers=headers),
    ]  # fmt: skip
    assert [r.status_code for r in refused] == [403] * len(refused), [r.text for r in refused]
    assert (await client.get("/learners/zhangwei", headers=ADMIN)).status_code == 200


# --- the command ------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The CLI on an embedded data directory of its own, with no service answering (the
    discard port: refused at once), so it opens the store itself to check a base."""
    monkeypatch.delenv("NXCE_MONGODB_URL", raising=False)
    monkeypatch.delenv("NXCE_EMBEDDED_IN_MEMORY", raising=False)
    monkeypatch.setenv("NXCE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NXCE_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _a_fixture_base_id(data_dir: Path) -> str:
    """The id of 宁夏工程技术人员继续教育基地 in the store of `data_dir` (seeded here)."""
    settings = embedded_settings(data_dir, embedded_in_memory=False)

    async def look_up() -> str:
        client, _ = await open_store(settings, seed=True)
        try:
            found = await Base.find_one(Base.name == ENGINEERING_BASE)
            assert found is not None
            return str(found.id)
        finally:
            db.close(client)

    return asyncio.run(look_up())


def test_cli_creates_a_base_client_for_a_base_the_store_holds(cli_env: Path) -> None:
    base_id = _a_fixture_base_id(cli_env)
    result = runner.invoke(
        cli,
        ["clients", "create", "--name", ENGINEERING_BASE, "--scope", "base", "--base", base_id],
    )
    assert result.exit_code == 0, result.output
    assert f"acts for base: {base_id}" in result.output
    key = next(line.split()[1] for line in result.output.splitlines() if line.startswith("key:"))
    # no process holds the store: the command wrote the client into it directly
    settings = embedded_settings(cli_env, embedded_in_memory=False)

    async def stored() -> clients.Client | None:
        client, _ = await open_store(settings, seed=False)
        try:
            return await clients.get_by_key(key=key)
        finally:
            db.close(client)

    record = asyncio.run(stored())
    assert record is not None
    assert (record.scopes, record.base_id) == ([Scope.base], base_id)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "base"], "--scope base needs --base ID"),
        (["--scope", "auditor", "--base", ENGINEERING_ID], "--base goes with --scope base only"),
        (["--scope", "base", "--base", ENGINEERING_ID], f"no base with id '{ENGINEERING_ID}'"),
        (
            ["--scope", "base", "--scope", "admin", "--base", ENGINEERING_ID],
            "a client of scope base holds no other scope, got admin",
        ),
        (
            ["--scope", "base", "--base", ENGINEERING_ID, "--learner", "learner001"],
            "a client of scope base acts as no learner, got 'learner001'",
        ),
    ],
    ids=["no-base", "base-without-the-scope", "unknown-base", "and-admin", "and-a-learner"],
)
def test_cli_refuses_a_base_client_without_a_known_base(
    cli_env: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(cli, ["clients", "create", "--name", "银川某培训中心", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (cli_env / HANDOVER_FILE).exists()


@pytest.mark.parametrize(
    ("scopes", "learner_id", "message"),
    [
        ([Scope.base, Scope.admin], None, "holds no other scope, got admin"),
        ([Scope.base], "learner001", "acts as no learner"),
    ],
    ids=["and-admin", "and-a-learner"],
)
async def test_a_handed_over_base_client_with_more_is_refused(
    app: FastAPI, scopes: list[Scope], learner_id: str | None, message: str
) -> None:
    # a hand-over file written by hand reaches `upsert`: it refuses, nothing is stored
    record = clients.ClientRecord(
        key="nx_base_more", name=ENGINEERING_BASE, secret_hash="x", scopes=scopes,
        learner_id=learner_id, base_id=ENGINEERING_ID,
    )  # fmt: skip
    with pytest.raises(Unprocessable, match=message):
        await clients.upsert(record=record)
    with pytest.raises(Unprocessable, match=message):
        await clients.create(
            key="nx_base_more", name=ENGINEERING_BASE, scopes=scopes, secret="s3cret-s3cret",
            learner_id=learner_id, base_id=ENGINEERING_ID,
        )  # fmt: skip
    assert await clients.get_by_key(key="nx_base_more") is None
