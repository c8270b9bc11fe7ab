"""Server time of the admin's learner pages on the embedded default, with many learners
(registered in one roster-sized write), over the ASGI transport in process.

    python bench/admin_learners.py [--learners 10000] [--requests 40]

Finds by the beginning of a name (a common surname, and one no learner has: the embedded
store then reads every learner), by an employer, a later page; a learner's page (its
profile, title history and admin log lines). Prints the median and p95 of the server
time per page and the process CPU time. Asserts nothing.
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

from credits import registration  # noqa: E402
from credits.id_numbers import check_digit  # noqa: E402
from credits.schemas import LearnerCreate  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚"
EMPLOYERS = (
    "宁夏建工集团有限公司",
    "银川市第一人民医院",
    "宁夏大学",
    "石嘴山市教育局",
    "吴忠市农业农村局",
)


def learners(count: int) -> list[LearnerCreate]:
    found = []
    for n in range(count):
        first17 = f"640102{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // 20) % len(GIVEN)] + GIVEN[n % 7]
        body = {
            "id": f"bench{n:06d}", "name": name, "id_number": first17 + check_digit(first17),
            "employer": EMPLOYERS[n % len(EMPLOYERS)], "series": "工程",
            "title_level": "junior", "title_obtained_on": "2016-07-01", "degree": "bachelor",
        }  # fmt: skip
        found.append(LearnerCreate.model_validate(body))
    return found


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    async with embedded_app("nxce-admin-learners-") as app:
        all_learners = learners(args.learners)
        unique = {learner.id_number: learner for learner in all_learners}  # ids repeat past 480k
        await registration.register_many(
            credits=app.state.credits, learners_in=list(unique.values()), by=ADMIN[0]
        )
        transport = httpx.ASGITransport(app=app)
        browser = httpx.AsyncClient(transport=transport, base_url="http://bench")
        form = await browser.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        data = {"key": ADMIN[0], "secret": ADMIN[1], "csrf": csrf.group(1), "next": "/"}
        assert (await browser.post("/signin", data=data)).status_code == 303
        pages = [
            ("find: name 张", "/admin/learners?q=张&by=name"),
            ("find: name 张, page 20", "/admin/learners?q=张&by=name&page=20"),
            ("find: employer 宁夏大学", "/admin/learners?q=宁夏大学&by=employer"),
            ("find: name nobody has", "/admin/learners?q=欧阳&by=name"),
            ("learner page", "/admin/learners/bench000007"),
        ]
        print(f"{len(unique)} learners; server time per page, {args.requests} requests each:")
        for name, path in pages:
            times = []
            cpu = time.process_time()
            for _ in range(args.requests):
                began = time.perf_counter()
                response = await browser.get(path)
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            cpu = (time.process_time() - cpu) * 1000 / args.requests
            kept = times[5:]
            print(
                f"  {name:26} median {statistics.median(kept):6.1f} ms, "
                f"p95 {percentile(kept, 95):6.1f} ms, CPU {cpu:6.1f} ms a request"
            )
        await browser.aclose()


if __name__ == "__main__":
    asyncio.run(main())
