"""Server time of each web page on the embedded default (the catalog loaded, a learner
with a ledger, an auditor, an admin log of `--log-lines` lines), over the ASGI transport
in process.

    python bench/pages.py [--requests 60] [--log-lines 5000] [--only admin]

Signs in as the learner, the auditor and the admin (the session cookie, as a browser),
requests each page `--requests` times, and prints the median and p95 of the server time
per page. The admin pages are found in the app: every GET page under /admin, its path
parameters filled with a course code, a base id, a client key or a learner id (a
parameter of another name is skipped with a note), and the log page with each filter.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi.routing import APIRoute

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, embedded_app, percentile  # noqa: E402

from catalog.models import Base, Course  # noqa: E402
from nxce.core import admin_log, clients, db  # noqa: E402
from nxce.core.admin_log import AdminAction, Area  # noqa: E402
from nxce.core.clients import Scope  # noqa: E402

LEARNER = ("zhangwei-web", "zhangwei-web-secret")
AUDITOR = ("pingshen-web", "pingshen-web-secret")
HOME = "https://nxce.example"


async def signed_in(transport: httpx.ASGITransport, key: str, secret: str) -> httpx.AsyncClient:
    browser = httpx.AsyncClient(transport=transport, base_url="http://bench")
    form = await browser.get("/signin")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None
    answer = await browser.post(
        "/signin", data={"key": key, "secret": secret, "csrf": found.group(1), "next": "/"}
    )
    assert answer.status_code == 303, answer.text
    return browser


async def setup(app: Any, transport: httpx.ASGITransport) -> str:
    """张伟 with 200 completions and their statements; answers a verification code."""
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", auth=ADMIN) as admin:
        learner = {
            "id": "zhangwei", "name": "张伟", "id_number": "640102198503121239",
            "employer": "宁夏建工集团有限公司", "series": "工程",
            "title_level": "junior", "degree": "bachelor",
        }  # fmt: skip
        assert (await admin.post("/learners", json=learner)).status_code == 201
        activities = [
            c["activity_id"]
            async for c in db.collection(Course).find({}, {"activity_id": 1}).limit(200)
        ]
        now = datetime.now(UTC)
        statements = [
            {
                "actor": {"name": "张伟", "account": {"homePage": HOME, "name": "zhangwei"}},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {"id": activity},
                "timestamp": (now - timedelta(days=n % 20)).isoformat(),
            }
            for n, activity in enumerate(activities)
        ]
        answer = await admin.post(
            "/xapi/statements", json=statements, headers={"X-Experience-API-Version": "2.0.0"}
        )
        assert answer.status_code == 200, answer.text
        body = (await admin.get("/learners/zhangwei/transcript")).json()
    for (key, secret), scopes, learner_id in (
        (LEARNER, [Scope.statements_read_mine], "zhangwei"),
        (AUDITOR, [Scope.auditor], None),
    ):
        await clients.create(key=key, name=key, scopes=scopes, secret=secret, learner_id=learner_id)
    return str(body["verification_code"])


async def fill_log(count: int) -> None:
    """`count` lines of the admin log over the last 30 days, of every area, by five admins,
    about a thousand records (what a busy month leaves)."""
    now = datetime.now(UTC)
    areas = list(Area)
    lines = [
        AdminAction(
            at=now - timedelta(seconds=n * 30 * 86400 // max(count, 1)),
            by=f"guanli-{n % 5}",
            area=areas[n % len(areas)],
            action="bench.line",
            target=f"record-{n % 1000}",
            summary=f"第 {n} 条：修改了课程“枸杞栽培技术”的学时",
            detail={"hours": {"from": 2, "to": 3}, "reason": "教材更新"},
        )
        for n in range(count)
    ]
    for start in range(0, count, 1000):
        await admin_log.record_many(lines[start : start + 1000])


def _route_paths(routes: Any) -> list[tuple[str, bool, Any]]:
    """(path, a page, route) of the app's routes, through the included routers (FastAPI
    includes them lazily: their effective routes carry the prefix)."""
    found: list[tuple[str, bool, Any]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((route.path, not route.include_in_schema, route))
        elif hasattr(route, "effective_candidates"):
            for candidate in route.effective_candidates():
                original = getattr(candidate, "original_route", None)
                if isinstance(original, APIRoute):
                    found.append((candidate.path, not candidate.include_in_schema, original))
                else:
                    found += _route_paths([candidate])
    return found


# Which record a path parameter names, by a word in its name.
PARAMETER_WORDS = ("code", "course", "base", "client", "key", "learner")


def admin_pages(app: Any, ids: dict[str, str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, path) of every admin GET page, parameters filled from `ids`; and notes of
    the pages skipped (a parameter of no known record)."""
    pages, skipped = [], []
    for path, page, route in _route_paths(app.routes):
        if not (page and path.startswith("/admin") and "GET" in route.methods):
            continue
        names = [n.split(":")[0] for n in re.findall(r"\{([^}]+)\}", path)]
        words = [next((w for w in PARAMETER_WORDS if w in n), None) for n in names]
        if None in words:
            unknown = names[words.index(None)]
            skipped.append(f"{path}: no record for {{{unknown}}}")
            continue
        filled = path
        for word in words:
            assert word is not None
            found = re.search(r"\{[^}]+\}", filled)
            assert found is not None
            filled = filled[: found.start()] + quote(ids[word], safe="") + filled[found.end() :]
        pages.append((f"admin {path}", filled))
    return pages, skipped


async def third_log_page(admin: httpx.AsyncClient) -> str:
    """The address of the log's third page (two "older" links on)."""
    path = "/admin/log"
    for _ in range(2):
        found = re.search(r'<a href="([^"]+)" rel="next">', (await admin.get(path)).text)
        assert found is not None, "fewer than three pages of log"
        path = html.unescape(found.group(1))
    return path


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--log-lines", type=int, default=5000)
    parser.add_argument("--only", choices=("all", "admin"), default="all")
    args = parser.parse_args()
    async with embedded_app("nxce-pages-") as app:
        transport = httpx.ASGITransport(app=app)
        code = await setup(app, transport)
        await fill_log(args.log_lines)
        anonymous = httpx.AsyncClient(transport=transport, base_url="http://bench")
        learner = await signed_in(transport, *LEARNER)
        auditor = await signed_in(transport, *AUDITOR)
        admin = await signed_in(transport, *ADMIN)
        base = await db.collection(Base).find_one({}, {"_id": 1})
        ids = {"code": "GQ-0001", "course": "GQ-0001", "base": str(base["_id"]),
               "client": ADMIN[0], "key": ADMIN[0], "learner": "zhangwei"}  # fmt: skip
        found, skipped = admin_pages(app, ids)
        china_today = (datetime.now(UTC) + timedelta(hours=8)).date().isoformat()
        log_filters = [
            ("admin log: by who", "/admin/log?by=guanli-3"),
            ("admin log: area", "/admin/log?area=credits"),
            ("admin log: record", "/admin/log?target=record-7"),
            ("admin log: today", f"/admin/log?since={china_today}"),
        ]
        admin_list = [(name, admin, path, {}) for name, path in found]
        admin_list += [(name, admin, path, {}) for name, path in log_filters]
        pages = [
            ("search 枸杞", anonymous, "/?q=枸杞", {}),
            ("search gq + series", anonymous, "/?q=gq&series=枸杞", {}),
            ("search, page 3", anonymous, "/?q=管理&page=3", {}),
            ("course", anonymous, "/course/GQ-0001", {}),
            ("course, signed-in learner", learner, "/course/GQ-0001", {}),
            ("my record (200 courses)", learner, "/me", {}),
            ("auditor: find", auditor, "/auditor?q=张伟", {}),
            ("auditor: learner and audit", auditor, "/auditor/learners/zhangwei", {}),
            ("auditor: exports", auditor, "/auditor/exports", {}),
            ("verify", anonymous, f"/verify/{code}", {"Accept": "text/html"}),
            ("sign-in form", anonymous, "/signin", {}),
        ]
        if args.only == "admin":
            pages = []
        third = await third_log_page(admin)
        pages += [*admin_list, ("admin log: page 3", admin, third, {})]
        print(f"load: {os.getloadavg()[0]:.2f} (1 min); admin log: {args.log_lines} lines")
        for note in skipped:
            print(f"  skipped (not in this app yet, or no record for it): {note}")
        print(f"server time per page, {args.requests} requests each (in process):")
        for name, browser, path, headers in pages:
            times = []
            for _ in range(args.requests):
                began = time.perf_counter()
                response = await browser.get(path, headers=headers)
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            kept = times[5:]
            print(
                f"  {name:44} median {statistics.median(kept):5.1f} ms, "
                f"p95 {percentile(kept, 95):5.1f} ms"
            )
        for browser in (anonymous, learner, auditor, admin):
            await browser.aclose()


if __name__ == "__main__":
    asyncio.run(main())
