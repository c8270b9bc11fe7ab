"""Server time of the admin's course pages on the embedded default with the fixture
catalog, over the ASGI transport in process (a signed-in admin's session cookie).

    python bench/admin_courses.py [--requests 60]

Requests each page `--requests` times and prints the median and p95. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, embedded_app, percentile  # noqa: E402

PAGES = (
    "/admin/courses",
    "/admin/courses?series=卫生&page=5",
    "/admin/courses?q=枸杞",
    "/admin/courses?q=核心要义&status=any",
    "/admin/courses?status=retired",
    "/admin/courses/GX-0001",
    "/admin/courses/new",
    "/admin/courses/import",
)


async def run(requests: int) -> None:
    async with embedded_app("nxce-bench-admin-courses-") as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as browser:
            form = await browser.get("/signin")
            found = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert found is not None
            signed = await browser.post(
                "/signin",
                data={"key": ADMIN[0], "secret": ADMIN[1], "csrf": found.group(1), "next": "/"},
            )
            assert signed.status_code == 303, signed.text
            edit = await browser.patch(
                "/courses/GX-0001", json={"hours": 2.0}, auth=ADMIN
            )  # a history of two entries
            assert edit.status_code == 200, edit.text
            print(f"{requests} requests a page; load {os.getloadavg()[0]:.1f}")
            for path in PAGES:
                times = []
                for _ in range(requests):
                    began = time.perf_counter()
                    answer = await browser.get(path)
                    times.append((time.perf_counter() - began) * 1000)
                    assert answer.status_code == 200, (path, answer.status_code)
                median = statistics.median(times)
                print(f"  {path:45} median {median:6.1f} ms, p95 {percentile(times, 95):6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    asyncio.run(run(parser.parse_args().requests))


if __name__ == "__main__":
    main()
