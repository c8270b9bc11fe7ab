"""What "a device signed out stops at once" costs: every request with a Bearer access
token verifies the token (HS256) and reads its device (one find by a unique index).

    python bench/bearer.py [--requests 500] [--devices 2000]

Runs the service in process over a durable embedded store (the catalog loaded), with
`--devices` devices signed in (the collection the find searches), and times, for one
learner's app, `--requests` calls of `GET /xapi/statements?limit=1` with its Bearer token
and as many with a learner-bound HTTP Basic client (its scrypt verification remembered
after the first request, as in service); then the token verification and the device's
find alone. Prints medians and p95; asserts nothing but that each request succeeded.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, embedded_app, percentile  # noqa: E402

from nxce.core import clients, devices  # noqa: E402
from nxce.core.clients import Scope  # noqa: E402

PASSWORD = "宁夏枸杞-bench-2026"  # noqa: S105 (the bench learner's own, made up)
LEARNER = {
    "id": "zhangwei",
    "name": "张伟",
    "id_number": "640102198503121239",
    "employer": "宁夏建工集团有限公司",
    "series": "工程",
    "title_level": "junior",
    "title_obtained_on": "2016-07-01",
    "degree": "bachelor",
}
XAPI = {"X-Experience-API-Version": "2.0.0"}


def basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


def report(what: str, times: list[float]) -> None:
    ms = [t * 1000 for t in times]
    print(f"{what:<52} median {statistics.median(ms):7.3f} ms   p95 {percentile(ms, 95):7.3f} ms")


async def timed(runs: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


async def main(requests: int, device_count: int) -> None:
    async with embedded_app("nxce-bench-bearer-") as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            admin = basic(*ADMIN)
            assert (await http.post("/learners", json=LEARNER, headers=admin)).status_code == 201
            issued = await http.post("/learners/zhangwei/activation-code", headers=admin)
            body = {"account": "zhangwei", "code": issued.json()["code"], "password": PASSWORD}
            assert (await http.post("/auth/activate", json=body)).status_code == 204
            for n in range(device_count - 1):  # other devices in the collection
                await devices.start(learner_id=f"learner{n}", name="手机", refresh_digest=f"{n}")
            signed = await http.post(
                "/auth/app-sign-in",
                json={"account": "zhangwei", "password": PASSWORD, "device": "华为 Mate 60"},
            )
            token = signed.json()["access_token"]
            await clients.create(
                key="zhangwei-phone", name="张伟的手机", secret="zhangwei-phone-secret",  # noqa: S106
                scopes=[Scope.statements_write, Scope.statements_read_mine, Scope.state],
                learner_id="zhangwei",
            )  # fmt: skip
            bearer = {**XAPI, "Authorization": f"Bearer {token}"}
            phone = {**XAPI, **basic("zhangwei-phone", "zhangwei-phone-secret")}

            async def get(headers: dict[str, str]) -> None:
                response = await http.get("/xapi/statements?limit=1", headers=headers)
                assert response.status_code == 200, response.text

            await get(phone)  # scrypt once; remembered afterwards
            await get(bearer)
            print(f"{device_count} devices signed in; {requests} requests each")
            report(
                "GET /xapi/statements?limit=1, Bearer", await timed(requests, lambda: get(bearer))
            )
            report(
                "GET /xapi/statements?limit=1, Basic (remembered)",
                await timed(requests, lambda: get(phone)),
            )
            tokens = app.state.app_tokens

            async def verify() -> None:
                tokens.verify_access(token)

            device_id = signed.json()["device_id"]

            async def find() -> None:
                assert await devices.get(device_id=device_id) is not None

            report("access token verification alone (HS256)", await timed(requests, verify))
            report("the device's find alone (unique index)", await timed(requests, find))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--devices", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.devices))
