"""Server time of each web page on the embedded default (the catalog loaded, a learner
with a ledger, an auditor), over the ASGI transport in process.

    python bench/pages.py [--requests 60]

Signs in as the learner and as the auditor (the session cookie, as a browser), requests
each page `--requests` times, and prints the median and p95 of the server time per page.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, embedded_app, percentile  # noqa: E402

from catalog.models import Course  # noqa: E402
from nxce.core import clients, db  # noqa: E402
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


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    async with embedded_app("nxce-pages-") as app:
        transport = httpx.ASGITransport(app=app)
        code = await setup(app, transport)
        anonymous = httpx.AsyncClient(transport=transport, base_url="http://bench")
        learner = await signed_in(transport, *LEARNER)
        auditor = await signed_in(transport, *AUDITOR)
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
                f"  {name:28} median {statistics.median(kept):5.1f} ms, "
                f"p95 {percentile(kept, 95):5.1f} ms"
            )
        for browser in (anonymous, learner, auditor):
            await browser.aclose()


if __name__ == "__main__":
    asyncio.run(main())
