"""Figures of the durable embedded store (issue 16), over HTTP to `nxce serve` in a
subprocess on a fresh data directory (no fixture catalog), 8 requests in flight:

    python bench/store.py [--statements 50000] [--rounds 3] [--in-memory]
    python -m bench.store --direct [--statements 1000000] [--data DIR] [--code TREE ...]

1. kill -9 during batched ingestion, `--rounds` times: acknowledged statements missing
   after the restart;
2. batched ingestion (batches of 50) and single-statement POSTs, statements/s (median of
   three runs each);
3. GET /xapi/statements by verb and by activity, limit 10, once the store holds
   `--statements` statements (median ms of 60 each);
4. restart time: from `nxce serve` started to `/health` answering 200 (median of 3).

`--in-memory` runs 2 and 3 on NXCE_EMBEDDED_IN_MEMORY (no medium) for the ratio.

`--direct` builds a store of `--statements` statements once, in process, writing the
medium directly (`bench/store_direct.py build`: the service's own record code, no HTTP;
kept in `--data` when given, and reused when it holds a store already), then, for each
`--code` tree (default: this one; e.g. `--code /work/main --code .` for before/after on
the same data), four starts, each timed until `/health` is 200 (wall and CPU seconds):

1. as the data directory is (the indexes built from the documents when it has no index
   snapshot), then GET by verb and by activity, limit 10 (median ms of 60 each), and the
   service's resident memory; a clean stop;
2. after that clean stop; `--posts` single statements POSTed (8 in flight) with periodic
   index snapshots off: the median and p99 ms of a POST; a clean stop;
3. after a clean stop, with an index snapshot taken every `--snapshot-after` writes
   while serving (`embedded_snapshot.SNAPSHOT_AFTER`, set by the bench's start-up code):
   the same POSTs, the same figures, then kill -9;
4. after that kill -9: the restart a crash costs (the last snapshot caught up with the
   writes logged since), the GETs and resident memory again.

Prints medians; asserts nothing. Client and server share the machine's cores: note the
load (`uptime`) beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import wire  # noqa: E402

USER, PASSWORD = "bench", "bench-secret-123"
HEADERS = {"X-Experience-API-Version": "2.0.0"}
VERBS = [
    "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/attempted",
    "http://adlnet.gov/expapi/verbs/passed",
    "http://adlnet.gov/expapi/verbs/experienced",
    "http://adlnet.gov/expapi/verbs/progressed",
]
COURSES = "https://nxce.example/xapi/activities/course"


def statement(rng: random.Random) -> dict[str, Any]:
    learner, course = rng.randrange(2000), rng.randrange(1000)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "actor": {
            "name": f"学员{learner}",
            "account": {"homePage": "https://nxce.example", "name": f"learner{learner}"},
        },
        "verb": {"id": rng.choice(VERBS), "display": {"zh-CN": "完成"}},
        "object": {"id": f"{COURSES}/WS-{course:04d}", "definition": {"name": {"zh-CN": "课程"}}},
        "result": {"completion": True, "duration": "PT25M", "score": {"scaled": 0.8}},
        "context": {"platform": "宁夏继续教育App", "language": "zh-CN"},
        "timestamp": "2022-05-01T08:30:00+08:00",
    }


class Server:
    """`nxce serve` on one data directory, started and stopped at will."""

    def __init__(self, data: Path, in_memory: bool, code: Path = ROOT) -> None:
        self.data, self.in_memory, self.code = data, in_memory, code
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.snapshot_after: int | None = None  # periodic index snapshots (None: default)

    def command(self, port: int) -> list[str]:
        serve = ["serve", "--port", str(port)]
        if self.snapshot_after is None:
            return [sys.executable, "-m", "nxce", *serve]
        start = (
            "from nxce.core import embedded_snapshot\n"
            f"embedded_snapshot.SNAPSHOT_AFTER = {self.snapshot_after}\n"
            "from nxce.cli import main\n"
            "main()\n"
        )
        return [sys.executable, "-c", start, *serve]

    def start(self) -> float:
        """Start; answers the seconds until /health answers 200."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("NXCE_")}
        env |= {
            "PYTHONPATH": str(self.code),
            "NXCE_LOG_LEVEL": "warning",
            "NXCE_DATA_DIR": str(self.data),
            "NXCE_BOOTSTRAP_ADMIN": f"{USER}:{PASSWORD}",
            "NXCE_SEED_FIXTURES": "false",
            "NXCE_EMBEDDED_IN_MEMORY": "true" if self.in_memory else "false",
        }
        began = time.perf_counter()
        self.process = subprocess.Popen(
            self.command(port),
            env=env,
            cwd=self.data,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{port}"
        while time.perf_counter() - began < 900:
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return time.perf_counter() - began
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise SystemExit("nxce serve did not start")

    def cpu_seconds(self) -> float:
        """The CPU time the service has used (user + system): a start's cost whatever
        else runs on the machine."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def resident_mib(self) -> float:
        """The service's resident memory now (VmRSS)."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
        return int(kib) / 1024

    def stop(self, sig: int = signal.SIGTERM) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=120)


def client(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        auth=(USER, PASSWORD),
        headers=HEADERS,
        timeout=120,
        limits=httpx.Limits(max_connections=8),
    )


def connection(url: str) -> wire.Connection:
    """A lean keep-alive connection (`bench/wire.py`): the load generator's CPU stays
    small beside the service's."""
    return wire.Connection(url, (USER, PASSWORD), HEADERS)


async def post_all(url: str, batches: list[list[dict[str, Any]]], acked: set[str]) -> float:
    """Post every batch, 8 in flight (8 connections); answers statements/s; ids answered
    200 go to `acked`."""
    queue = list(reversed(batches))

    async def worker() -> None:
        try:
            async with connection(url) as http:
                while queue:
                    batch = queue.pop()
                    body: Any = batch if len(batch) > 1 else batch[0]
                    answer = await http.send(http.prepare("POST", "/xapi/statements", body))
                    if answer.status_code == 200:
                        acked.update(s["id"] for s in batch)
        except OSError:
            return  # killed

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(8)))
    return sum(len(b) for b in batches) / (time.perf_counter() - began)


async def stored_ids(url: str) -> set[str]:
    found: set[str] = set()
    async with client(url) as http:
        page = (await http.get("/xapi/statements", params={"limit": 1000})).json()
        while True:
            found.update(s["id"] for s in page["statements"])
            if not page["more"]:
                return found
            page = (await http.get(page["more"])).json()


def batches(rng: random.Random, count: int, size: int) -> list[list[dict[str, Any]]]:
    return [[statement(rng) for _ in range(size)] for _ in range(count)]


async def kill_rounds(rng: random.Random, rounds: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="nxce-store-bench-"))
    server = Server(data, in_memory=False)
    acked: set[str] = set()
    for n in range(rounds):
        server.start()
        load = asyncio.create_task(post_all(server.url, batches(rng, 2000, 50), acked))
        await asyncio.sleep(rng.uniform(2.0, 5.0))
        server.stop(signal.SIGKILL)
        await load
        server.start()
        lost = acked - await stored_ids(server.url)
        print(f"kill -9 round {n + 1}: {len(lost)} of {len(acked)} acknowledged statements lost")
        server.stop()


async def rates(rng: random.Random, total: int, in_memory: bool) -> None:
    data = Path(tempfile.mkdtemp(prefix="nxce-store-bench-"))
    server = Server(data, in_memory)
    server.start()
    kind = "in memory" if in_memory else "durable (fsync on)"
    batched = [await post_all(server.url, batches(rng, 100, 50), set()) for _ in range(3)]
    single = [await post_all(server.url, batches(rng, 2000, 1), set()) for _ in range(3)]
    print(
        f"{kind}: batched ingestion (50 a batch, 8 in flight): {statistics.median(batched):.0f}/s"
    )
    print(f"{kind}: single-statement POST (8 in flight): {statistics.median(single):.0f}/s")
    have = 3 * 100 * 50 + 3 * 2000
    total = max(total, have)
    began = time.perf_counter()
    await post_all(server.url, batches(rng, max(0, total - have) // 50, 50), set())
    print(f"{kind}: filled to {total} statements in {time.perf_counter() - began:.0f} s")
    async with client(server.url) as http:
        for name, values in (("verb", VERBS), ("activity", [f"{COURSES}/WS-0001"])):
            times = []
            for _ in range(60):
                began = time.perf_counter()
                answer = await http.get(
                    "/xapi/statements", params={name: rng.choice(values), "limit": 10}
                )
                times.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, answer.text
            median = statistics.median(times)
            print(f"{kind}: GET by {name}, limit 10, {total} statements: {median:.1f} ms")
    server.stop()
    if not in_memory:
        restarts = []
        for _ in range(3):
            restarts.append(server.start())
            server.stop()
        median = statistics.median(restarts)
        print(f"{kind}: restart with {total} statements until /health is 200: {median:.1f} s")
        size = sum(os.path.getsize(p) for p in data.glob("store.sqlite3*"))  # noqa: ASYNC240
        print(
            f"{kind}: data file {size / 1_048_576:.0f} MiB ({size / total:.0f} bytes a statement)"
        )


async def gets(url: str, rng: random.Random, label: str) -> None:
    """GET by verb and by activity, limit 10: median ms of 60 each."""
    async with client(url) as http:
        for name, values in (("verb", VERBS), ("activity", [f"{COURSES}/WS-0001"])):
            times = []
            for _ in range(60):
                began = time.perf_counter()
                answer = await http.get(
                    "/xapi/statements", params={name: rng.choice(values), "limit": 10}
                )
                times.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, answer.text
                assert len(answer.json()["statements"]) == 10
            print(f"{label}: GET by {name}, limit 10: {statistics.median(times):.1f} ms")


async def timed_posts(url: str, rng: random.Random, count: int) -> list[float]:
    """POST `count` single statements, 8 in flight; answers each one's ms."""
    times: list[float] = []
    queue = [statement(rng) for _ in range(count)]

    async def worker() -> None:
        async with connection(url) as http:
            while queue:
                request = http.prepare("POST", "/xapi/statements", queue.pop())
                began = time.perf_counter()
                answer = await http.send(request)
                times.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, answer.content

    await asyncio.gather(*(worker() for _ in range(8)))
    return times


def snapshot_named(data: Path) -> str:
    """The index snapshot the data file names now ("token mark"), or "none"."""
    import sqlite3

    with contextlib.closing(
        sqlite3.connect(f"file:{data / 'store.sqlite3'}?mode=ro", uri=True)
    ) as f:
        row = f.execute("SELECT value FROM meta WHERE key = 'snapshot'").fetchone()
    return str(row[0]) if row else "none"


def started(server: Server, label: str, how: str) -> None:
    seconds = server.start()
    print(
        f"{label}: start ({how}) until /health is 200: {seconds:.1f} s "
        f"({server.cpu_seconds():.1f} s of CPU; load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


async def direct(
    total: int, data: Path | None, codes: list[Path], posts: int, snapshot_after: int
) -> None:
    """The figures of a store built once in process (see `--direct`)."""
    data = data or Path(tempfile.mkdtemp(prefix="nxce-store-bench-"))
    if not (data / "store.sqlite3").exists():
        began = time.perf_counter()
        build = [sys.executable, "-m", "bench.store_direct", "build"]
        build += ["--statements", str(total), "--data", str(data)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run(build, env=env, cwd=ROOT, check=True)  # noqa: ASYNC221 (nothing else runs)
        print(f"built {total} statements in {data} in {time.perf_counter() - began:.0f} s")
    rng = random.Random(16)
    for code in codes:
        label = f"{code.resolve()} ({total} statements)"
        server = Server(data, in_memory=False, code=code.resolve())

        kept = (data / "indexes.snapshot").exists()
        started(server, label, "a snapshot present" if kept else "indexes built from the documents")
        await gets(server.url, rng, label)
        print(f"{label}: resident memory: {server.resident_mib():.0f} MiB", flush=True)
        server.stop()
        for step, after in (("snapshots off", 10**12), ("snapshots on", snapshot_after)):
            server.snapshot_after = after
            started(server, label, f"after a clean stop, {step}")
            times = sorted(await timed_posts(server.url, rng, posts))
            p99 = times[int(len(times) * 0.99)]
            print(
                f"{label}: {posts} single POSTs, {step} (every {after} writes): "
                f"median {statistics.median(times):.1f} ms, p99 {p99:.1f} ms; "
                f"resident {server.resident_mib():.0f} MiB; named: {snapshot_named(data)}",
                flush=True,
            )
            if after == snapshot_after:
                await asyncio.sleep(1)
                more = await timed_posts(server.url, rng, 500)  # after the last snapshot
                print(f"{label}: {len(more)} POSTs more; named: {snapshot_named(data)}")
                server.stop(signal.SIGKILL)
            else:
                server.stop()
        server.snapshot_after = None
        started(server, label, "after a kill -9")
        await gets(server.url, rng, label)
        print(f"{label}: resident memory: {server.resident_mib():.0f} MiB", flush=True)
        server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--statements", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-memory", action="store_true")
    parser.add_argument("--direct", action="store_true", help="a store built in process")
    parser.add_argument("--data", type=Path, help="with --direct: where the store is kept")
    parser.add_argument("--code", type=Path, action="append", help="with --direct: a tree")
    parser.add_argument("--posts", type=int, default=3000, help="with --direct")
    parser.add_argument("--snapshot-after", type=int, default=1000, help="with --direct")
    args = parser.parse_args()
    rng = random.Random(16)
    print(f"load before: {os.getloadavg()[0]:.2f}")
    if args.direct:
        await direct(
            args.statements, args.data, args.code or [ROOT], args.posts, args.snapshot_after
        )
    elif not args.in_memory:
        await kill_rounds(rng, args.rounds)
    if not args.direct:
        await rates(rng, args.statements, args.in_memory)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
