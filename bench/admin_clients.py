"""Server time of the client-account pages (/admin/clients) on the embedded default (the
catalog and bases loaded), over the ASGI transport in process.

    python bench/admin_clients.py [--clients 300] [--requests 60]

Registers `--clients` clients (apps, auditors, bases' clients), signs in as the admin (the
session cookie, as a browser), and requests the list (first page, a name filter, a later
page) and a client's page `--requests` times each; prints the median and p95 per page and
the process CPU time per request. Asserts nothing but that each page answered 200.
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

from nxce.core import clients  # noqa: E402
from nxce.core.clients import Scope  # noqa: E402

SCOPES = ([Scope.all], [Scope.auditor], [Scope.statements_write, Scope.statements_read])


async def main(count: int, requests: int) -> None:
    async with embedded_app("nxce-bench-admin-clients-") as app:
        for n in range(count):
            await clients.register(
                by=ADMIN[0], name=f"银川市 应用 {n:04d}", scopes=SCOPES[n % 3], key=f"app-{n:04d}"
            )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as browser:
            form = await browser.get("/signin")
            found = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert found is not None
            data = {"key": ADMIN[0], "secret": ADMIN[1], "csrf": found.group(1), "next": "/"}
            assert (await browser.post("/signin", data=data)).status_code == 303
            pages = {
                "/admin/clients": "/admin/clients",
                "/admin/clients?q=…&scope=auditor": "/admin/clients?q=应用 01&scope=auditor",
                "/admin/clients?after=…": f"/admin/clients?after=app-{count // 2:04d}",
                "/admin/clients/{key}": "/admin/clients/app-0001",
            }
            for label, path in pages.items():
                for _ in range(5):  # warm up
                    assert (await browser.get(path)).status_code == 200
                times = []
                started_cpu = time.process_time()
                for _ in range(requests):
                    started = time.perf_counter()
                    response = await browser.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
                cpu = (time.process_time() - started_cpu) / requests * 1000
                print(
                    f"{label:<34} median {statistics.median(times):6.2f} ms"
                    f"  p95 {percentile(times, 95):6.2f} ms  cpu {cpu:6.2f} ms/request"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--requests", type=int, default=60)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.clients, arguments.requests))
