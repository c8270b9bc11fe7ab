"""Logs of `nxce serve`: JSON lines (NXCE_LOG_FORMAT=json) or text, each naming its
request; the access log included."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from nxce.logs import JsonFormatter, handler
from nxce.settings import Settings
from tests.nxce.test_cli_transcripts import free_port

ROOT = Path(__file__).resolve().parents[2]


def record(name: str, message: str, args: object = None, **extra: object) -> logging.LogRecord:
    found = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)  # type: ignore[arg-type]
    found.__dict__.update(extra)
    return found


def test_a_json_line_is_one_object_in_utf8() -> None:
    line = JsonFormatter().format(record("nxce", "载入课程 %d 门", (4344,), request_id="r-1"))
    assert "\n" not in line and "载入课程 4344 门" in line  # not \\u-escaped
    found = json.loads(line)
    assert found["message"] == "载入课程 4344 门" and found["request_id"] == "r-1"
    assert (found["level"], found["logger"]) == ("info", "nxce")
    assert found["time"].endswith("+00:00")


def test_an_access_line_has_its_fields_apart() -> None:
    access = record(
        "uvicorn.access",
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.5:5123", "GET", "/catalog/stats", "1.1", 200),
        request_id="abc",
    )
    found = json.loads(JsonFormatter().format(access))
    assert found["method"] == "GET" and found["path"] == "/catalog/stats"
    assert found["status"] == 200 and found["client"] == "10.0.0.5:5123"
    assert found["request_id"] == "abc"


def test_an_exception_is_kept_in_its_line() -> None:
    try:
        raise ValueError("坏的值")
    except ValueError:
        failed = record("nxce", "失败")
        failed.exc_info = sys.exc_info()
    found = json.loads(JsonFormatter().format(failed))
    assert "ValueError: 坏的值" in found["exception"]


def test_text_stays_the_default_and_names_the_request() -> None:
    assert Settings().log_format == "text"
    text = handler(Settings()).format(record("nxce", "开始", request_id="r-2"))
    assert "[r-2]: 开始" in text and not text.startswith("{")


def test_nxce_serve_writes_json_lines_naming_the_request(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NXCE_")} | {
        "PYTHONPATH": str(ROOT),
        "NXCE_DATA_DIR": str(tmp_path),
        "NXCE_EMBEDDED_IN_MEMORY": "true",
        "NXCE_SEED_FIXTURES": "false",
        "NXCE_LOG_FORMAT": "json",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "nxce", "serve", "--port", str(port), "--no-demo"],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/catalog/stats", headers={"X-Request-ID": "smoke-42"}
                )
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer.headers["X-Request-ID"] == "smoke-42"
    finally:
        server.terminate()
        server.wait(timeout=60)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    access = [x for x in lines if x["logger"] == "uvicorn.access" and x["request_id"] == "smoke-42"]
    assert len(access) == 1 and access[0]["path"] == "/catalog/stats"
    assert access[0]["status"] == 200
    assert any("embedded store" in x["message"].lower() for x in lines)  # the service's own
