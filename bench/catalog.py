"""Catalog figures on the embedded store: start-up time and `GET /courses` latency.

    python bench/catalog.py [--requests 600]

Starts `nxce serve` in a subprocess on a free port, times it until `GET /catalog/stats`
answers the full catalog (cold: a new data directory, so the search index is built; warm:
the index of an earlier start is reused), then times `GET /courses` with a mix of filters and pages
over HTTP (one client, sequential, keep-alive). Prints medians and p95; asserts nothing.
`nxce serve --no-demo`: the catalog alone (bench/programme.py times the first start that
loads the demonstration programme).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import percentile  # noqa: E402

from catalog.series import SERIES_NAMES  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(port: int, data_dir: Path) -> tuple[subprocess.Popen[bytes], float]:
    env = {**os.environ, "NXCE_LOG_LEVEL": "warning", "NXCE_DATA_DIR": str(data_dir)}
    env.pop("NXCE_MONGODB_URL", None)
    nxce = Path(sys.executable).with_name("nxce")
    began = time.perf_counter()
    process = subprocess.Popen(
        [str(nxce), "serve", "--port", str(port), "--no-demo"],  # the catalog alone
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/catalog/stats"
    while True:
        try:
            body = httpx.get(url, timeout=1).json()
            if body.get("courses") == 4344:
                return process, time.perf_counter() - began
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise SystemExit("nxce serve exited before it answered")
        time.sleep(0.02)


def queries(count: int, rng: random.Random) -> list[dict[str, object]]:
    """A mix a learner's catalog page would send: a series, a category, subject, year, pages."""
    mix: list[dict[str, object]] = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.4:
            params: dict[str, object] = {"series": rng.choice(SERIES_NAMES)}
        elif kind < 0.6:
            params = {"category": rng.choice(["public", "professional"])}
        elif kind < 0.8:
            params = {"series": rng.choice(SERIES_NAMES), "year": rng.choice([2020, 2021, 2022])}
        else:
            params = {}
        params["page"] = rng.choice([1, 1, 1, 2, 3, 5])
        params["page_size"] = rng.choice([10, 20, 20, 50])
        mix.append(params)
    return mix


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()

    warm_dir = Path(tempfile.mkdtemp(prefix="nxce-bench-"))
    for label, fresh in (("cold, search index built", True), ("warm, search index reused", False)):
        startups = []
        for _ in range(args.starts):
            data_dir = Path(tempfile.mkdtemp(prefix="nxce-bench-")) if fresh else warm_dir
            process, elapsed = start(free_port(), data_dir)
            startups.append(elapsed)
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
        runs = ", ".join(f"{s:.2f}" for s in startups)
        print(
            f"start-up to a served, loaded catalog ({label}): "
            f"median {statistics.median(startups):.2f} s (runs: {runs})"
        )

    port = free_port()
    process, _ = start(port, warm_dir)
    try:
        rng = random.Random(2022)
        latencies: dict[str, list[float]] = {"filtered": [], "unfiltered": [], "by code": []}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for params in queries(50, rng):  # warm up
                client.get("/courses", params=params)
            for params in queries(args.requests, rng):
                began = time.perf_counter()
                response = client.get("/courses", params=params)
                elapsed = (time.perf_counter() - began) * 1000
                assert response.status_code == 200, response.text
                filtered = any(k in params for k in ("series", "category"))
                latencies["filtered" if filtered else "unfiltered"].append(elapsed)
            codes = [f"WS-{n:04d}" for n in rng.sample(range(1, 500), 200)]
            for code in codes:
                began = time.perf_counter()
                client.get(f"/courses/{code}")
                latencies["by code"].append((time.perf_counter() - began) * 1000)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    for name, values in latencies.items():
        print(
            f"GET /courses {name:<10} n={len(values):<4} median {statistics.median(values):6.2f} ms"
            f"   p95 {percentile(values, 95):6.2f} ms"
        )
    every = latencies["filtered"] + latencies["unfiltered"]
    print(
        f"GET /courses all mixes  n={len(every):<4} median {statistics.median(every):6.2f} ms"
        f"   p95 {percentile(every, 95):6.2f} ms"
    )


if __name__ == "__main__":
    main()
