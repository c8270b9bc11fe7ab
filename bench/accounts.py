"""Account figures on the embedded store: a roster import of 10,000 learners (dry run and
apply), then the app's sign-in and refresh latency.

    python bench/accounts.py [--learners 10000] [--sign-ins 100] [--refreshes 200]

Runs the service in process over a durable embedded store in a temporary directory (the
catalog loaded) and sends everything over the ASGI transport, as HTTP requests: the
roster as a CSV file (`POST /learners/roster`, once as a dry run, once applied; the same
rows as XLSX once as a dry run; each timed whole: the upload, every row's checks, the
writes, the activation codes, the JSON answer), then `--sign-ins` learners of the roster
activated (not timed) and each signed in by password (`POST /auth/app-sign-in`, an
argon2 verification each), then a chain of `--refreshes` refresh rotations
(`POST /auth/refresh`). Prints totals, rows a second, medians and p95 (and the CPU time
the process used: on a shared machine, what the work itself costs); asserts nothing but
that each request succeeded.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, embedded_app, percentile  # noqa: E402

from credits.id_numbers import check_digit  # noqa: E402

PASSWORD = "宁夏枸杞-bench-2026"  # noqa: S105 (the bench learners' own, made up)
EMPLOYERS = [
    "宁夏回族自治区人民医院",
    "银川市第一中学",
    "宁夏建工集团有限公司",
    "石嘴山市农业农村局",
]
SERIES = ["卫生", "教师", "工程", "农业"]
LEVELS = ["无", "初级", "中级", "副高级"]


def id_number(n: int) -> str:
    first = f"64010219{70 + n // 100_000 % 30}{1 + n % 12:02d}{1 + n // 12 % 28:02d}"
    first += f"{n // 336 % 1000:03d}"
    return first + check_digit(first)


HEADER = ["姓名", "身份证号", "工作单位", "系列", "职称级别", "取得时间", "学历", "手机"]


def roster_rows(count: int) -> list[list[str]]:
    return [
        [
            f"学员{n:05d}",
            id_number(n),
            EMPLOYERS[n % 4],
            SERIES[n % 4],
            LEVELS[n % 4],
            f"20{10 + n % 12}/7/1",
            "本科" if n % 3 else "硕士研究生",
            f"139{n:08d}",
        ]
        for n in range(count)
    ]


def roster_csv(count: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([HEADER, *roster_rows(count)])
    return out.getvalue().encode("utf-8-sig")


def roster_xlsx(count: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in [HEADER, *roster_rows(count)]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def summary(name: str, times: list[float]) -> str:
    return (
        f"{name}: median {statistics.median(times) * 1000:.1f} ms, "
        f"p95 {percentile(times, 95) * 1000:.1f} ms ({len(times)} requests)"
    )


async def post_roster(
    http: httpx.AsyncClient, content: bytes, dry_run: bool, name: str = "roster.csv"
) -> tuple[str, dict]:
    """The answer and how long it took: wall time, and this process's CPU time (on a
    machine shared with other work, the CPU time is what the import itself costs)."""
    began, cpu = time.perf_counter(), time.process_time()
    response = await http.post(
        "/learners/roster",
        params={"dry_run": str(dry_run).lower()},
        files={"file": (name, content, "application/octet-stream")},
        auth=ADMIN,
    )
    elapsed, used = time.perf_counter() - began, time.process_time() - cpu
    assert response.status_code == 200, response.text[:500]
    answer: dict = response.json()
    rate = f"{len(answer['rows']) / elapsed:.0f} rows/s"
    return f"{elapsed:.2f} s ({rate}; {used:.2f} s of CPU)", answer


async def main(count: int, sign_ins: int, refreshes: int) -> None:
    content = roster_csv(count)
    async with embedded_app("nxce-bench-accounts-") as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=600
        ) as http:
            await http.get("/learners/nobody", auth=ADMIN)  # the routes' first-request setup
            print(f"roster: {count} rows, {len(content) / 1_048_576:.2f} MiB of CSV")
            took, answer = await post_roster(http, content, dry_run=True)
            assert answer["refused"] == 0, answer["rows"][:3]
            print(f"dry run: {took}")
            workbook = roster_xlsx(count)
            took, answer = await post_roster(http, workbook, dry_run=True, name="roster.xlsx")
            assert answer["refused"] == 0, answer["rows"][:3]
            print(f"dry run of the same as XLSX ({len(workbook) / 1_048_576:.2f} MiB): {took}")
            took, answer = await post_roster(http, content, dry_run=False)
            assert answer["created"] == count
            print(f"apply: {took}, {count} learners and codes")
            rows = answer["rows"][:sign_ins]
            for row in rows:  # not timed: an argon2 hash each
                activated = await http.post(
                    "/auth/activate",
                    json={"account": row["learner_id"], "code": row["code"], "password": PASSWORD},
                )
                assert activated.status_code == 204, activated.text
            times, tokens = [], []
            for n, row in enumerate(rows):
                account = f"139{row['row'] - 2:08d}"  # by phone, the account name people know
                began = time.perf_counter()
                signed = await http.post(
                    "/auth/app-sign-in",
                    json={"account": account, "password": PASSWORD, "device": f"bench {n}"},
                )
                times.append(time.perf_counter() - began)
                assert signed.status_code == 200, signed.text
                tokens.append(signed.json()["refresh_token"])
            print(summary("app sign-in (by phone)", times))
            times = []
            token = tokens[0]
            for _ in range(refreshes):
                began = time.perf_counter()
                renewed = await http.post("/auth/refresh", json={"refresh_token": token})
                times.append(time.perf_counter() - began)
                assert renewed.status_code == 200, renewed.text
                token = renewed.json()["refresh_token"]
            print(summary("refresh", times))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--sign-ins", type=int, default=100)
    parser.add_argument("--refreshes", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.learners, arguments.sign_ins, arguments.refreshes))
