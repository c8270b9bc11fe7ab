"""Phones on a bus: several devices of several learners replay a few thousand statements
with duplicates, reordering, batches resent after their response was lost, crediting that
died between storing and crediting, a service restart in the middle (over the same
embedded store), incremental pulls with `since`, and concurrent State writes.

The phones authenticate either as learner-bound HTTP Basic clients, or as the app signed
in with the learner's password (Bearer access tokens), refreshing its tokens (a refresh's
answer lost now and then, and retried) and signing in again mid-queue, on a new device,
before resending what it had not seen acknowledged.

At the end: each statement id stored once; the ledger equals a rebuild and a straight
replay; each learner's progress equals a straight replay's; every State conflict was a
412, and no write was lost or merged silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import random
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from credits import ledger as credit_ledger
from credits import projection as credit_projection
from credits.models import LedgerEntry
from lrs.statements.models import StatementRecord
from nxce.app import create_app
from nxce.core import clients, db, embedded_copy
from nxce.core.clients import Scope
from nxce.settings import Settings
from tests.conftest import ADMIN, SeededStore, basic, embedded_settings
from tests.credits.conftest import actor, learner_body
from tests.lrs.conftest import COMPLETED, STATEMENTS, VOIDED, xapi
from tests.lrs.sync.conftest import APP_SCOPES, STATE

LEARNERS = [("zhangwei", "张伟", "123"), ("lixiuying", "李秀英", "124"),
            ("wangfang", "王芳", "125"), ("liuyang", "刘洋", "126")]  # fmt: skip
PER_LEARNER = 500
COURSES = [f"GX-{n:04d}" for n in range(1, 9)] + [f"WS-{n:04d}" for n in range(1, 9)]
PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
ACTIVITY = "https://nxce.example/xapi/activities/course/"


# --- what the learners did --------------------------------------------------------------


def learning(rng: random.Random, learner_id: str, name: str) -> list[dict[str, Any]]:
    """PER_LEARNER statements of one learner over the last 20 days: progress on the
    courses, one completion for some of them, and a voiding of a few completions."""
    start = datetime.now(UTC) - timedelta(days=20)
    moments = sorted(rng.sample(range(20 * 24 * 3600), PER_LEARNER))
    done: list[dict[str, Any]] = []
    completed: set[str] = set()
    for second in moments:
        code = rng.choice(COURSES)
        when = (start + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        statement: dict[str, Any] = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "actor": actor(learner_id, name),
            "object": {"objectType": "Activity", "id": ACTIVITY + code},
            "timestamp": when,
        }
        roll = rng.random()
        if roll < 0.05 and code not in completed:
            completed.add(code)
            statement["verb"] = {"id": COMPLETED, "display": {"zh-CN": "完成"}}
            statement["result"] = {"completion": True, "score": {"scaled": rng.random()}}
        elif roll < 0.8:
            statement["verb"] = {"id": PROGRESSED, "display": {"zh-CN": "学习进度"}}
            statement["result"] = {"extensions": {PROGRESS: rng.randint(1, 99)}}
        else:
            statement["verb"] = {"id": EXPERIENCED, "display": {"zh-CN": "学习"}}
        done.append(statement)
    completions = [s for s in done if s["verb"]["id"] == COMPLETED]
    for target in rng.sample(completions, min(2, len(completions))):
        done.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "actor": target["actor"],
                "verb": {"id": VOIDED, "display": {"zh-CN": "作废"}},
                "object": {"objectType": "StatementRef", "id": target["id"]},
                "timestamp": target["timestamp"],
            }
        )
    return done


# --- the service, which restarts --------------------------------------------------------


class Service:
    """The service over one embedded store (`store`, a copy of the seeded one): requests
    wait while it restarts."""

    def __init__(self, settings: Settings, store: Any) -> None:
        self.settings = settings
        self.store = store
        self.up = asyncio.Event()
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.app: FastAPI | None = None
        self.http: httpx.AsyncClient | None = None
        self._stack = contextlib.AsyncExitStack()
        self.restarts = 0

    async def start(self) -> None:
        self.app = create_app(self.settings, store=self.store)
        await self._stack.enter_async_context(self.app.router.lifespan_context(self.app))
        transport = httpx.ASGITransport(app=self.app)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.up.set()

    async def stop(self) -> None:
        self.up.clear()
        await self.idle.wait()
        assert self.http is not None
        await self.http.aclose()
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()

    async def restart(self) -> None:
        await self.stop()
        await self.start()
        self.restarts += 1

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        await self.up.wait()
        assert self.http is not None
        self.in_flight += 1
        self.idle.clear()
        try:
            return await self.http.request(method, url, **kwargs)
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self.idle.set()


@dataclass
class Tally:
    resent: int = 0
    duplicates: int = 0
    gzipped: int = 0
    uncredited_batches: int = 0
    before_restart: int = 0
    after_restart: int = 0
    state_writes: list[tuple[str, str]] = field(default_factory=list)  # (learner, event)
    state_conflicts: int = 0
    refreshes: int = 0
    refresh_retries: int = 0
    sign_ins: int = 0


class Phone:
    """A learner's phone as a learner-bound Basic client: the same headers throughout."""

    def __init__(self, auth: dict[str, str]) -> None:
        self.auth = auth

    def headers(self) -> dict[str, str]:
        return xapi(auth=self.auth)

    async def disturb(self, service: Service, rng: random.Random, tally: Tally) -> None:
        """Between batches: nothing changes for a Basic client."""


class SignedInPhone(Phone):
    """The app signed in with the learner's password: Bearer access tokens, refreshed now
    and then (a refresh's answer lost, and retried), and signed in again on a new device
    (the app reinstalled) in the middle of its queue."""

    def __init__(self, account: str, password: str) -> None:
        super().__init__({})
        self.account, self.password = account, password
        self.refresh_token = ""
        self.devices: list[str] = []

    def _took(self, answer: dict[str, Any]) -> None:
        self.auth = {"Authorization": f"Bearer {answer['access_token']}"}
        self.refresh_token = answer["refresh_token"]

    async def sign_in(self, service: Service, tally: Tally) -> None:
        body = {"account": self.account, "password": self.password, "device": "红米 Note 13"}
        response = await service.request("POST", "/auth/app-sign-in", json=body)
        assert response.status_code == 200, response.text
        self._took(response.json())
        self.devices.append(response.json()["device_id"])
        tally.sign_ins += 1

    async def refresh(self, service: Service, rng: random.Random, tally: Tally) -> None:
        body = {"refresh_token": self.refresh_token}
        response = await service.request("POST", "/auth/refresh", json=body)
        assert response.status_code == 200, response.text
        if rng.random() < 0.5:  # the answer was lost: the same refresh again, same pair
            retried = await service.request("POST", "/auth/refresh", json=body)
            assert retried.status_code == 200, retried.text
            assert retried.json()["refresh_token"] == response.json()["refresh_token"]
            assert retried.json()["access_token"] == response.json()["access_token"]
            tally.refresh_retries += 1
        self._took(response.json())
        tally.refreshes += 1

    async def disturb(self, service: Service, rng: random.Random, tally: Tally) -> None:
        roll = rng.random()
        if roll < 0.04:
            await self.sign_in(service, tally)
        elif roll < 0.2:
            await self.refresh(service, rng, tally)


async def device(
    service: Service,
    phone: Phone,
    statements: list[dict[str, Any]],
    rng: random.Random,
    tally: Tally,
    breaker: dict[str, bool],
) -> None:
    """Sends its queue in shuffled batches of 1-50, some gzip-compressed, some twice
    (the first answer lost; a signed-in app may refresh or sign in again before it sends
    again), some statements again in a later batch."""
    queue = statements[:]
    rng.shuffle(queue)
    while queue:
        size = rng.randint(1, 30)
        batch, queue = queue[:size], queue[size:]
        if queue and rng.random() < 0.25:
            again = rng.choice(batch)
            queue.insert(rng.randrange(len(queue) + 1), again)
            tally.duplicates += 1
        body = json.dumps(batch, ensure_ascii=False).encode()
        extra = {"Content-Type": "application/json"}
        if rng.random() < 0.5:
            body, extra["Content-Encoding"] = gzip.compress(body), "gzip"
            tally.gzipped += 1
        headers = {**phone.headers(), **extra}
        if breaker["crediting_dies"]:
            tally.uncredited_batches += 1
        if service.restarts:
            tally.after_restart += 1
        else:
            tally.before_restart += 1
        response = await service.request("POST", STATEMENTS, content=body, headers=headers)
        assert response.status_code == 200, response.text
        if rng.random() < 0.25:  # the answer never reached the phone: it sends again
            tally.resent += 1
            await asyncio.sleep(0)
            await phone.disturb(service, rng, tally)
            headers = {**phone.headers(), **extra}
            response = await service.request("POST", STATEMENTS, content=body, headers=headers)
            assert response.status_code == 200, response.text
            assert response.json() == [s["id"] for s in batch]
        await phone.disturb(service, rng, tally)
        await asyncio.sleep(0)


async def bookmark(
    service: Service, phone: Phone, learner_id: str, name: str, rounds: int,
    tally: Tally,
) -> None:  # fmt: skip
    """Read-modify-write of one State document with If-Match; a 412 means read again."""
    params = {
        "activityId": ACTIVITY + "GX-0001",
        "agent": json.dumps(actor(learner_id, name)),
        "stateId": "bookmark",
    }
    for _ in range(rounds):
        event = str(uuid.uuid4())
        while True:
            got = await service.request("GET", STATE, params=params, headers=phone.headers())
            if got.status_code == 404:
                events: list[str] = []
                condition = {"If-None-Match": "*"}
            else:
                assert got.status_code == 200, got.text
                events = got.json()["events"]
                condition = {"If-Match": got.headers["ETag"]}
            await asyncio.sleep(0)  # the other device may write meanwhile
            put = await service.request(
                "PUT", STATE, params=params, json={"events": [*events, event]},
                headers={**phone.headers(), **condition},
            )  # fmt: skip
            if put.status_code == 412:
                tally.state_conflicts += 1
                continue
            assert put.status_code == 204, put.text
            tally.state_writes.append((learner_id, event))
            break


async def pull_all(service: Service, phone: Phone, since: str | None) -> tuple[set[str], str]:
    """The phone's pull: `since` its last Consistent-Through, following `more`."""
    params = {"since": since} if since else {}
    response = await service.request("GET", STATEMENTS, params=params, headers=phone.headers())
    assert response.status_code == 200, response.text
    through = response.headers["X-Experience-API-Consistent-Through"]
    ids = {s["id"] for s in response.json()["statements"]}
    more = response.json()["more"]
    while more:
        response = await service.request("GET", more, headers=phone.headers())
        ids |= {s["id"] for s in response.json()["statements"]}
        more = response.json()["more"]
    return ids, through


# --- comparing ------------------------------------------------------------------------


def ledger_view(rows: list[LedgerEntry]) -> list[tuple[Any, ...]]:
    return sorted(
        (r.entry_id, r.learner_id, r.year, r.category, r.hours, r.status.value, r.source_ref)
        for r in rows
    )


def progress_view(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "courses": found["courses"],
        "in_progress": sorted((c["code"], c["progress"], c["last_at"])
                              for c in found["in_progress"]),
        "completed": sorted((c["code"], c["status"], c["completed_at"])
                            for c in found["completed"]),
        "this_year": found["this_year"],
        "pending_review": found["pending_review"],
    }  # fmt: skip


async def register_all(service: Service) -> None:
    for learner_id, name, sequence in LEARNERS:
        response = await service.request(
            "POST", "/learners", json=learner_body(learner_id, name, sequence), headers=ADMIN
        )
        assert response.status_code == 201, response.text


async def straight_replay(
    settings: Settings, tmp_path: Path, seeded: SeededStore, everything: list[dict[str, Any]]
) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """A fresh service given every statement once, in the order they were made."""
    shutil.copytree(settings.data_dir / "search", tmp_path / "replay" / "search")
    service = Service(embedded_settings(tmp_path / "replay"), embedded_copy.copied(seeded.client))
    await service.start()
    try:
        await register_all(service)
        for at in range(0, len(everything), 500):
            response = await service.request(
                "POST", STATEMENTS, json=everything[at : at + 500], headers=xapi()
            )
            assert response.status_code == 200, response.text
        rows = ledger_view(await LedgerEntry.find_all().to_list())
        views = {}
        for learner_id, _, _ in LEARNERS:
            got = await service.request("GET", f"/learners/{learner_id}/progress", headers=ADMIN)
            views[learner_id] = progress_view(got.json())
        return rows, views
    finally:
        await service.stop()


# --- the scenario -----------------------------------------------------------------------


async def make_devices(
    service: Service, signed_in: bool, tally: Tally
) -> tuple[Phone, dict[str, Phone]]:
    """The web player's client (all learners) and each learner's phone: a learner-bound
    Basic client, or (`signed_in`) the app signed in with the learner's password, set with
    an activation code."""
    await clients.create(
        key="web-player", name="网页学习端",
        scopes=[Scope.statements_write, Scope.state, Scope.statements_read],
        secret="web-player-secret",
    )  # fmt: skip
    phones: dict[str, Phone] = {}
    for learner_id, _, _ in LEARNERS:
        if signed_in:
            phones[learner_id] = await signed_in_phone(service, learner_id, tally)
            continue
        await clients.create(
            key=f"{learner_id}-phone", name=f"{learner_id} 的手机", scopes=list(APP_SCOPES),
            secret=f"{learner_id}-phone-secret", learner_id=learner_id,
        )  # fmt: skip
        phones[learner_id] = Phone(basic(f"{learner_id}-phone", f"{learner_id}-phone-secret"))
    return Phone(basic("web-player", "web-player-secret")), phones


async def signed_in_phone(service: Service, learner_id: str, tally: Tally) -> SignedInPhone:
    """The learner sets a password with an activation code; the app signs in with it."""
    issued = await service.request("POST", f"/learners/{learner_id}/activation-code", headers=ADMIN)
    assert issued.status_code == 201, issued.text
    password = f"在路上的密码-{len(learner_id)}-宁夏"
    body = {"account": learner_id, "code": issued.json()["code"], "password": password}
    activated = await service.request("POST", "/auth/activate", json=body)
    assert activated.status_code == 204, activated.text
    phone = SignedInPhone(learner_id, password)
    await phone.sign_in(service, tally)
    return phone


def split_between_devices(
    rng: random.Random, statements: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The phone records most; the web player the rest (voidings go with their target).
    Answers (the phone's part, the web player's part)."""
    by_target = {s["id"]: s for s in statements}
    on_web = {s["id"] for s in statements if rng.random() < 0.3}
    for s in statements:
        if s["verb"]["id"] == VOIDED:
            target = by_target[s["object"]["id"]]["id"]
            on_web.discard(s["id"])
            if target in on_web:
                on_web.add(s["id"])
    phone_part = [s for s in statements if s["id"] not in on_web]
    web_part = [s for s in statements if s["id"] in on_web]
    return phone_part, web_part


def break_crediting(monkeypatch: pytest.MonkeyPatch, breaker: dict[str, bool]) -> None:
    """While `breaker["crediting_dies"]`, the process "dies" after storing statements,
    before crediting them."""
    real_project = credit_projection.project

    async def project(**kwargs: Any) -> None:
        if breaker["crediting_dies"]:
            raise RuntimeError("killed between storing and crediting")
        await real_project(**kwargs)

    monkeypatch.setattr(credit_projection, "project", project)


async def disturbances(service: Service, breaker: dict[str, bool]) -> None:
    """Crediting dies for a while, then the process dies; it comes back over the same
    store."""
    await asyncio.sleep(0.3)
    breaker["crediting_dies"] = True
    await asyncio.sleep(0.2)
    await service.stop()
    breaker["crediting_dies"] = False
    await service.start()
    service.restarts += 1


@dataclass
class Pulls:
    """What each learner's phone pulled so far, and the `since` of its next pull."""

    phones: dict[str, Phone]
    seen: dict[str, set[str]] = field(default_factory=dict)
    through: dict[str, str | None] = field(default_factory=dict)

    async def once(self, service: Service) -> None:
        for learner_id, phone in self.phones.items():
            got, self.through[learner_id] = await pull_all(
                service, phone, self.through.get(learner_id)
            )
            self.seen.setdefault(learner_id, set()).update(got)

    async def while_sending(self, service: Service) -> None:
        for _ in range(5):
            await asyncio.sleep(0.2)
            await self.once(service)


async def assert_stored_once(
    service: Service, everything: list[dict[str, Any]], tally: Tally
) -> None:
    """Each statement id stored exactly once, through every disturbance."""
    ids = [s["id"] for s in everything]
    stored = [
        r["statement_id"]
        async for r in db.collection(StatementRecord).find({}, {"statement_id": 1})
    ]
    assert len(stored) == len(set(stored)) == len(set(ids)) == len(everything)
    assert tally.resent > 10 and tally.duplicates > 10 and tally.gzipped > 10
    assert service.restarts == 1 and tally.uncredited_batches > 0
    assert tally.before_restart > 0 and tally.after_restart > 0


def assert_phones_pulled_their_learner(
    made: dict[str, list[dict[str, Any]]], everything: list[dict[str, Any]], pulls: Pulls
) -> None:
    """Each phone pulled every statement about its learner, from both devices (voided
    ones may have been pulled before they were voided), and none about another."""
    voided = {s["object"]["id"] for s in everything if s["verb"]["id"] == VOIDED}
    for learner_id, _, _ in LEARNERS:
        expected = {s["id"] for s in made[learner_id]} - voided
        assert expected <= pulls.seen[learner_id], learner_id
        others = {s["id"] for lid, _, _ in LEARNERS if lid != learner_id for s in made[lid]}
        assert not pulls.seen[learner_id] & others


async def ledger_equal_to_a_rebuild(service: Service) -> list[tuple[Any, ...]]:
    """Crediting that died was completed at the restart; the ledger equals a rebuild.
    Answers the ledger."""
    assert await StatementRecord.find({"projected": False}).count() == 0
    ledger = ledger_view(await LedgerEntry.find_all().to_list())
    assert any(row[5] == "reversed" for row in ledger)
    assert service.app is not None
    await credit_ledger.rebuild(credits=service.app.state.credits)
    assert ledger_view(await LedgerEntry.find_all().to_list()) == ledger
    return ledger


async def progress_of_everyone(service: Service) -> dict[str, Any]:
    progress = {}
    for learner_id, _, _ in LEARNERS:
        got = await service.request("GET", f"/learners/{learner_id}/progress", headers=ADMIN)
        progress[learner_id] = progress_view(got.json())
    return progress


async def assert_no_state_write_lost(service: Service, tally: Tally) -> None:
    """Every State conflict was a 412; no write lost or merged."""
    assert tally.state_conflicts > 0
    for learner_id, name, _ in LEARNERS:
        params = {
            "activityId": ACTIVITY + "GX-0001",
            "agent": json.dumps(actor(learner_id, name)),
            "stateId": "bookmark",
        }
        final = await service.request("GET", STATE, params=params, headers=xapi())
        written = [e for lid, e in tally.state_writes if lid == learner_id]
        assert final.json()["events"] == written  # each write on top of the one before
        assert len(written) == 16


def assert_apps_signed_in_and_refreshed(signed_in: bool, tally: Tally) -> None:
    """The signed-in apps did refresh (retrying lost answers) and sign in again mid-queue."""
    if not signed_in:
        assert tally.sign_ins == tally.refreshes == 0
        return
    assert tally.sign_ins > len(LEARNERS) and tally.refreshes > 10 and tally.refresh_retries > 0


@pytest.mark.parametrize("signed_in", [False, True], ids=["basic-clients", "app-sign-in"])
async def test_devices_on_a_bad_network_store_everything_exactly_once(
    settings: Settings,
    seeded_store: SeededStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    signed_in: bool,
) -> None:
    rng = random.Random(20261128)
    service = Service(settings, embedded_copy.copied(seeded_store.client))
    await service.start()
    tally = Tally()
    breaker = {"crediting_dies": False}
    break_crediting(monkeypatch, breaker)
    try:
        await register_all(service)
        web, phones = await make_devices(service, signed_in, tally)
        made = {lid: learning(rng, lid, name) for lid, name, _ in LEARNERS}
        everything = [s for lid, _, _ in LEARNERS for s in made[lid]]
        work = []
        for learner_id, name, _ in LEARNERS:
            phone_part, web_part = split_between_devices(rng, made[learner_id])
            work.append(device(service, phones[learner_id], phone_part, rng, tally, breaker))
            work.append(device(service, web, web_part, rng, tally, breaker))
            work.append(bookmark(service, phones[learner_id], learner_id, name, 8, tally))
            work.append(bookmark(service, web, learner_id, name, 8, tally))
        pulls = Pulls(phones)
        await asyncio.gather(*work, disturbances(service, breaker), pulls.while_sending(service))
        await pulls.once(service)  # the last pull, after everything was sent

        await assert_stored_once(service, everything, tally)
        assert_apps_signed_in_and_refreshed(signed_in, tally)
        assert_phones_pulled_their_learner(made, everything, pulls)
        ledger = await ledger_equal_to_a_rebuild(service)
        progress = await progress_of_everyone(service)  # to compare with a straight replay
        await assert_no_state_write_lost(service, tally)
    finally:
        await service.stop()

    replay = await straight_replay(settings, tmp_path, seeded_store, everything)
    replay_ledger, replay_progress = replay
    assert replay_ledger == ledger
    assert replay_progress == progress
