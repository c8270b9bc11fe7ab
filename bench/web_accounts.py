"""Server time of the web sign-in and of "/me" for a learner signed in with a password, on
the embedded default, over the ASGI transport in process.

    python bench/web_accounts.py [--requests 40]

张伟 (200 completed courses, as bench/pages.py) activates his account and his app signs in
on two devices. Prints the median and p95 of: "/me" for his password session and for his
learner-bound client's session; the sign-in form posted with his password (success), with a
wrong one, with a wrong client secret, and with an unknown name (each failure costs one
argon2 and one scrypt verification: web/signin.py). Each sign-in comes from its own
address, so the throttle never answers instead. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, embedded_app, percentile  # noqa: E402
from pages import LEARNER, setup, signed_in  # noqa: E402

PASSWORD = "枸杞红了-2026-春"  # noqa: S105 (a bench learner's, no secret)


def line(name: str, times: list[float]) -> str:
    return (
        f"  {name:34} median {statistics.median(times):6.1f} ms, "
        f"p95 {percentile(times, 95):6.1f} ms"
    )


async def sign_in_once(app: Any, n: int, key: str, secret: str, expect: int) -> float:
    """One sign-in from an address of its own (`n`), timed from the form's POST."""
    address = f"10.1.{n // 250}.{n % 250 + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as browser:
        form = await browser.get("/signin")
        found = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert found is not None
        data = {"key": key, "secret": secret, "csrf": found.group(1), "next": "/"}
        began = time.perf_counter()
        answer = await browser.post("/signin", data=data)
        spent = (time.perf_counter() - began) * 1000
        assert answer.status_code == expect, (key, answer.status_code)
        return spent


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    async with embedded_app("nxce-web-accounts-") as app:
        transport = httpx.ASGITransport(app=app)
        await setup(app, transport)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as app_:
            issued = await app_.post("/learners/zhangwei/activation-code", auth=ADMIN)
            body = {"account": "zhangwei", "code": issued.json()["code"], "password": PASSWORD}
            assert (await app_.post("/auth/activate", json=body)).status_code == 204
            for device in ("华为 Mate 60", "iPad"):
                body = {"account": "zhangwei", "password": PASSWORD, "device": device}
                assert (await app_.post("/auth/app-sign-in", json=body)).status_code == 200
        by_password = await signed_in(transport, "zhangwei", PASSWORD)
        by_client = await signed_in(transport, *LEARNER)
        print(f"server time, {args.requests} requests each (in process):")
        for name, browser in (
            ("/me, password session", by_password),
            ("/me, learner client's session", by_client),
        ):
            times = []
            for _ in range(args.requests + 5):
                began = time.perf_counter()
                response = await browser.get("/me")
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.status_code
            print(line(name, times[5:]))
        n = 0
        for name, key, secret, expect in (
            ("sign-in: learner's password", "zhangwei", PASSWORD, 303),
            ("sign-in: wrong password", "zhangwei", "not-his-password", 401),
            ("sign-in: wrong client secret", LEARNER[0], "not-its-secret", 401),
            ("sign-in: unknown name", "nobody-by-this-name", PASSWORD, 401),
        ):
            times = []
            for _ in range(args.requests):
                n += 1
                times.append(await sign_in_once(app, n, key, secret, expect))
            print(line(name, times))


if __name__ == "__main__":
    asyncio.run(main())
