"""X-Request-ID: a sane one is kept, any other replaced; every answer names it, and every
log line written while the request runs."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi import FastAPI

from nxce.core.request_id import HEADER, RequestId, RequestIdFilter, chosen, current

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "given", ["a", "req-2026.12.07_0001", "0f8fad5b-d9cb-469f-a165-70867728950e", "x" * 64]
)
def test_a_sane_request_id_is_kept(given: str) -> None:
    assert chosen(given) == given


@pytest.mark.parametrize(
    "given",
    [None, "", "x" * 65, "张伟", "a b", "id\nforged log line", "a/b", '"quoted"', "id;drop"],
)
def test_any_other_request_id_is_replaced_by_a_new_one(given: str | None) -> None:
    made = chosen(given)
    assert GENERATED.fullmatch(made) and made != given
    assert chosen(given) != made  # a new one each time


def logging_app() -> tuple[FastAPI, list[logging.LogRecord]]:
    """An app that logs twice while answering, and a handler keeping the records."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keeper = Keep()
    keeper.addFilter(RequestIdFilter())
    logger = logging.getLogger("nxce.test.request_id")
    logger.handlers[:] = [keeper]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    application = FastAPI()

    @application.get("/课程")
    async def course() -> dict[str, str]:
        logger.info("查询课程")
        logger.warning("第二行")
        return {"request_id": current.get()}

    application.add_middleware(RequestId)
    return application, records


async def test_every_log_line_of_a_request_names_its_id() -> None:
    application, records = logging_app()
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        kept = await http.get("/课程", headers={HEADER: "mobile-7.1"})
        made = await http.get("/课程")
    assert kept.headers[HEADER] == "mobile-7.1" == kept.json()["request_id"]
    assert (
        GENERATED.fullmatch(made.headers[HEADER])
        and made.json()["request_id"] == made.headers[HEADER]
    )
    assert [(r.getMessage(), r.request_id) for r in records] == [  # type: ignore[attr-defined]
        ("查询课程", "mobile-7.1"),
        ("第二行", "mobile-7.1"),
        ("查询课程", made.headers[HEADER]),
        ("第二行", made.headers[HEADER]),
    ]
    assert current.get() == "-"  # nothing leaks out of a request
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "后台", None, None)
    RequestIdFilter().filter(outside)
    assert outside.request_id == "-"  # type: ignore[attr-defined]


async def test_the_service_names_the_request_on_every_answer(client: httpx.AsyncClient) -> None:
    ok = await client.get("/catalog/stats", headers={HEADER: "stats-1"})
    assert ok.status_code == 200 and ok.headers[HEADER] == "stats-1"
    missing = await client.get("/courses/NO-SUCH")
    assert missing.status_code == 404 and GENERATED.fullmatch(missing.headers[HEADER])
    # refused by the Host check before anything else runs: still named
    wrong_host = await client.get("/catalog/stats", headers={"Host": "evil.example"})
    assert wrong_host.status_code == 400 and GENERATED.fullmatch(wrong_host.headers[HEADER])
    forged = await client.get("/catalog/stats", headers={HEADER: "x" * 65})
    assert forged.headers[HEADER] != "x" * 65 and GENERATED.fullmatch(forged.headers[HEADER])
    two = await client.get("/catalog/stats", headers=[(HEADER, "a"), (HEADER, "b")])
    assert GENERATED.fullmatch(two.headers[HEADER])  # two ids: neither is trusted
