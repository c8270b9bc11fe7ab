"""Server time of the admin's pages of bases (web/admin_bases.py) on the embedded default
(the fixture catalog and its 12 bases), over the ASGI transport in process.

    python bench/admin_bases.py [--learners 100] [--requests 60]

`--learners` learners each trained at 宁夏工程技术人员继续教育基地 (2019-06-15); the admin
then records, through the page's form, a revocation back-dated to 2019-03-01, which
reverses every one of those trainings (the time of that post is printed: it recomputes
every learner). Then each page is requested `--requests` times: the median and p95 of the
wall time, and the median CPU time of the process, per request. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, embedded_app, percentile  # noqa: E402

from credits.id_numbers import check_digit  # noqa: E402

ENGINEERING = "宁夏工程技术人员继续教育基地"


def id_number(n: int) -> str:
    first = f"6401021985{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first + check_digit(first)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    async with embedded_app("nxce-admin-bases-") as app:
        transport = httpx.ASGITransport(app=app)
        api = httpx.AsyncClient(transport=transport, base_url="http://bench", auth=ADMIN)
        [base] = [b for b in (await api.get("/bases")).json() if b["name"] == ENGINEERING]
        for n in range(args.learners):
            learner = {
                "id": f"learner{n:05d}", "name": f"学员{n}", "id_number": id_number(n),
                "employer": "宁夏建工集团有限公司", "series": "工程",
                "title_level": "junior", "degree": "bachelor",
            }  # fmt: skip
            assert (await api.post("/learners", json=learner)).status_code == 201
            training = {
                "kind": "training",
                "date": "2019-06-15",
                "hours": 16,
                "base_id": base["id"],
            }
            answer = await api.post(f"/learners/learner{n:05d}/credits", json=training)
            assert answer.status_code == 201, answer.text

        admin = httpx.AsyncClient(transport=transport, base_url="http://bench")
        form = await admin.get("/signin")
        signin = {"key": ADMIN[0], "secret": ADMIN[1], "csrf": csrf_of(form.text), "next": "/"}
        assert (await admin.post("/signin", data=signin)).status_code == 303
        page = f"/admin/bases/{base['id']}"
        csrf = csrf_of((await admin.get(page)).text)
        decision = {
            "csrf": csrf,
            "status": "revoked",
            "effective_on": "2019-03-01",
            "reason": "长期未开展继续教育活动，取消基地资格",
        }
        began, cpu = time.perf_counter(), time.process_time()
        answer = await admin.post(f"{page}/decisions", data=decision)
        wall, used = time.perf_counter() - began, time.process_time() - cpu
        assert answer.status_code == 303, answer.text
        decided = answer.headers["location"]
        decision_id = re.search(r"decision=([0-9a-f]+)", decided)
        assert decision_id is not None
        print(
            f"back-dated revocation through the form, {args.learners} learners recomputed: "
            f"{wall * 1000:.0f} ms wall, {used * 1000:.0f} ms CPU"
        )
        pages = [
            ("list", "/admin/bases"),
            ("list, status and level", "/admin/bases?status=certified&level=regional"),
            ("register form", "/admin/bases/new"),
            ("base (timeline, forms)", page),
            ("base after the decision", decided),
            ("decision (50 of the changes)", f"{page}/decisions/{decision_id.group(1)}"),
        ]
        print(f"server time per page, {args.requests} requests each (in process):")
        for name, path in pages:
            times, cpus = [], []
            for _ in range(args.requests):
                began, cpu = time.perf_counter(), time.process_time()
                response = await admin.get(path)
                times.append((time.perf_counter() - began) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            kept, cpu_median = times[5:], statistics.median(cpus[5:])
            print(
                f"  {name:30} median {statistics.median(kept):5.1f} ms, "
                f"p95 {percentile(kept, 95):5.1f} ms, CPU median {cpu_median:5.1f} ms"
            )
        for client in (api, admin):
            await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
