"""Search figures on the embedded engine: build time and query latency, at the catalog's
size (4344 courses) and at 100 times it (434,400 courses).

    python bench/search.py [--scale 100] [--queries 200] [--http-port N]

Latency is measured through the backend (in process) and through HTTP (a `nxce` service
in a subprocess, one client, keep-alive) for a mix of queries drawn from real titles:
1 to 4 characters, pinyin and initials, half with filters, half with facets. Prints
medians and p95; asserts nothing.
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
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import percentile  # noqa: E402

import fixtures  # noqa: E402
from catalog.series import SERIES_NAMES  # noqa: E402
from search.backend import SearchDocument, SearchQuery  # noqa: E402
from search.embedded import EmbeddedBackend  # noqa: E402

PINYIN = [
    "gouqi",
    "kuaiji",
    "tanyang",
    "huli",
    "jiaoshi",
    "putaojiu",
    "gongcheng",
    "danganguanli",
    "yiyuan",
    "xinxi",
    "nongye",
    "shengtai",
    "gq",
    "kj",
    "ty",
    "hl",
    "js",
    "ptj",
    "gc",
    "nx",
]
FACETS = ("series", "category", "year")


def documents(scale: int) -> list[SearchDocument]:
    base = []
    for course in fixtures.read_courses():
        raw = course.model_dump(mode="json")
        base.append({k: raw[k] for k in SearchDocument.__annotations__})
    if scale == 1:
        return base  # type: ignore[return-value]
    many = []
    for replica in range(scale):
        for document in base:
            many.append({**document, "code": f"{document['code']}-R{replica:03d}"})
    return many  # type: ignore[return-value]


def query_mix(count: int, rng: random.Random) -> list[dict[str, Any]]:
    titles = [c.title for c in fixtures.read_courses()]
    mix = []
    for n in range(count):
        if n % 5 == 4:
            q = rng.choice(PINYIN)
        else:
            title = rng.choice(titles)
            length = rng.randint(1, min(4, len(title)))
            start = rng.randint(0, len(title) - length)
            q = title[start : start + length]
        params: dict[str, Any] = {"q": q}
        if rng.random() < 0.5:
            params[rng.choice(["series", "category", "year"])] = None
        if "series" in params:
            params["series"] = rng.choice(SERIES_NAMES)
        if "category" in params:
            params["category"] = rng.choice(["public", "professional"])
        if "year" in params:
            params["year"] = rng.choice([2020, 2021, 2022])
        if rng.random() < 0.5:
            params["facets"] = ",".join(rng.sample(FACETS, 2))
        mix.append(params)
    return mix


def line(label: str, values: list[float]) -> str:
    return (
        f"{label:<34} median {statistics.median(values):7.2f} ms   "
        f"p95 {percentile(values, 95):7.2f} ms   (n={len(values)})"
    )


def to_query(params: dict[str, Any]) -> SearchQuery:
    facets = tuple(params["facets"].split(",")) if params.get("facets") else ()
    return SearchQuery(
        q=params["q"],
        series=params.get("series"),
        category=params.get("category"),
        year=params.get("year"),
        facets=facets,
    )


async def build(directory: Path, docs: list[SearchDocument]) -> tuple[EmbeddedBackend, float]:
    backend = EmbeddedBackend(directory)
    await backend.open()
    began = time.perf_counter()
    await backend.replace_all(docs, f"bench-{len(docs)}")
    return backend, time.perf_counter() - began


async def through_backend(backend: EmbeddedBackend, mix: list[dict[str, Any]]) -> list[float]:
    for params in mix[:20]:
        await backend.search(to_query(params))
    times = []
    for params in mix:
        began = time.perf_counter()
        await backend.search(to_query(params))
        times.append((time.perf_counter() - began) * 1000)
    return times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def through_http(index_dir: Path, mix: list[dict[str, Any]], port: int | None) -> list[float]:
    port = port or free_port()
    env = {**os.environ, "NXCE_LOG_LEVEL": "warning", "NXCE_DATA_DIR": tempfile.mkdtemp()}
    env.pop("NXCE_MONGODB_URL", None)
    env.pop("NXCE_MEILI_URL", None)
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-index", str(index_dir), "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(600):
                try:
                    if client.get("/search", params={"q": "枸杞"}).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            for params in mix[:20]:
                client.get("/search", params={k: v for k, v in params.items() if v is not None})
            times = []
            for params in mix:
                began = time.perf_counter()
                response = client.get(
                    "/search", params={k: v for k, v in params.items() if v is not None}
                )
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.text
            return times
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def serve_index(index_dir: Path, port: int) -> None:
    """The nxce service, answering search from the index in `index_dir`."""
    import uvicorn

    from nxce.app import create_app
    from nxce.settings import Settings

    app = create_app(Settings())
    original = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: Any) -> Any:
        async with original(application):
            await application.state.indexer.wait()
            await application.state.search.close()
            big = EmbeddedBackend(None)
            big.directory = index_dir
            await big.open()
            application.state.search = big
            yield

    app.router.lifespan_context = lifespan  # type: ignore[assignment]
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


async def measure(scale: int, queries: int, port: int | None) -> dict[str, Any]:
    docs = documents(scale)
    directory = Path(tempfile.mkdtemp(prefix=f"nxce-search-{scale}x-"))
    backend, build_seconds = await build(directory, docs)
    mix = query_mix(queries, random.Random(scale))
    backend_ms = await through_backend(backend, mix)
    await backend.close()
    assert backend.directory is not None
    http_ms = through_http(backend.directory, mix, port)
    return {"courses": len(docs), "build_s": build_seconds, "backend": backend_ms, "http": http_ms}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--serve-index", type=Path)
    parser.add_argument("--port", type=int)
    parser.add_argument("--http-port", type=int, help="the service's port (default: any free)")
    args = parser.parse_args()
    if args.serve_index:
        serve_index(args.serve_index, args.port)
        return
    for scale in (1, args.scale):
        result = asyncio.run(measure(scale, args.queries, args.http_port))
        print(f"--- {result['courses']} courses: index built in {result['build_s']:.2f} s")
        print(line("search through the backend", result["backend"]))
        print(line("search through HTTP", result["http"]))


if __name__ == "__main__":
    main()
