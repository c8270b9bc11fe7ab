"""Write the data set of tests/data/previous/ through the HTTP API of a running nxce (the
previous release: see README.md here for the commands), and record what a later version
must find in `expected.json`.

    python tests/data/previous/write.py http://127.0.0.1:8765 OUT/expected.json

The service runs on a fresh data directory without the fixture catalog
(NXCE_SEED_FIXTURES=false, `nxce serve --no-demo`), with the small catalog of
`catalog.jsonl` loaded first (`nxce fixtures load`), and the admin client
`admin:previous-admin-secret` (NXCE_BOOTSTRAP_ADMIN). Standard library and httpx only.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ADMIN = ("admin", "previous-admin-secret")
PASSWORD = "枸杞红了-2026-春"  # 张伟's password, set with his activation code
DEVICE = "华为 Mate 60"
HOME = "https://nxce.example"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
XAPI = {"X-Experience-API-Version": "2.0.0"}
# GB 11643-1999 weights of the first 17 digits, and the check characters by remainder.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

LEARNERS = (
    # id, name, sequence of the id number, series, title, obtained on, degree, phone
    ("zhangwei", "张伟", "123", "工程", "junior", "2016-07-01", "bachelor", "13912345678"),
    ("lina", "李娜", "125", "工程", "intermediate", "2014-12-20", "master", None),
    ("wangfang", "王芳", "126", "卫生", "junior", "2018-09-01", "bachelor", None),
)
# (learner, course code, completed at): completions sent as xAPI statements.
COMPLETIONS = (
    ("zhangwei", "GX-0001", "2021-03-02T09:00:00+08:00"),
    ("zhangwei", "GX-0002", "2021-04-11T15:30:00+08:00"),
    ("zhangwei", "GC-0001", "2021-06-01T10:00:00+08:00"),
    ("lina", "GX-0001", "2021-05-20T20:15:00+08:00"),
    ("lina", "GC-0002", "2022-03-18T08:45:00+08:00"),
    ("wangfang", "WS-0001", "2022-07-07T19:00:00+08:00"),
)


def id_number(sequence: str, birth: str = "19850312", region: str = "640102") -> str:
    first17 = f"{region}{birth}{sequence}"
    return first17 + CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def ok(response: httpx.Response, *statuses: int) -> Any:
    if response.status_code not in (statuses or (200,)):
        raise SystemExit(f"{response.request.method} {response.request.url}: {response.text}")
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def statement(learner: str, name: str, activity: str, timestamp: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {
            "objectType": "Agent",
            "name": name,
            "account": {"homePage": HOME, "name": learner},
        },
        "verb": {"id": COMPLETED, "display": {"zh-CN": "完成"}},
        "object": {"objectType": "Activity", "id": activity},
        "result": {"completion": True, "success": True},
        "timestamp": timestamp,
    }


def main(url: str, out: Path) -> None:
    http = httpx.Client(base_url=url, auth=ADMIN, timeout=60)
    expected: dict[str, Any] = {"admin": list(ADMIN), "password": PASSWORD, "device": DEVICE}

    names = {}
    for learner_id, name, seq, series, level, since, degree, phone in LEARNERS:
        body: dict[str, Any] = {
            "id": learner_id,
            "name": name,
            "id_number": id_number(seq),
            "employer": "宁夏建工集团有限公司" if series == "工程" else "宁夏医科大学总医院",
            "series": series,
            "title_level": level,
            "title_obtained_on": since,
            "degree": degree,
        }
        if phone:
            body["phone"] = phone
        ok(http.post("/learners", json=body), 201)
        names[learner_id] = name
    expected["learners"] = {
        learner_id: {"name": name, "id_number": id_number(seq), "series": series}
        for learner_id, name, seq, series, *_ in LEARNERS
    }

    codes = sorted({code for _, code, _ in COMPLETIONS} | {"GX-0003"})
    activities = {code: ok(http.get(f"/courses/{code}"))["activity_id"] for code in codes}
    sent = [statement(lid, names[lid], activities[code], at) for lid, code, at in COMPLETIONS]
    ok(http.post("/xapi/statements", json=sent, headers=XAPI))
    ok(http.post("/xapi/statements", json=sent[:2], headers=XAPI))  # sent again: stored once
    expected["statements"] = [s["id"] for s in sent]

    # An entry of public hours typed by an admin, with its evidence, and one reviewed.
    manual = {"kind": "manual", "date": "2020-05-01", "category": "professional", "hours": 12,
              "basis": "单位组织的集中学习"}  # fmt: skip
    entry = ok(http.post("/learners/zhangwei/credits", json=manual), 201)
    document = ok(
        http.post(
            f"/learners/zhangwei/credits/{entry['id']}/documents",
            params={"filename": "集中学习证明-张伟.pdf"},
            content=PDF,
            headers={"Content-Type": "application/pdf"},
        ),
        201,
    )
    expected["manual_entry"] = {
        "learner": "zhangwei",
        "id": entry["id"],
        "document": document["id"],
    }
    typed = {"kind": "manual", "date": "2021-09-09", "category": "public", "hours": 6,
             "basis": "单位组织的公需科目学习"}  # fmt: skip
    public = ok(http.post("/learners/lina/credits", json=typed), 201)
    expected["typed_public_entry"] = {"learner": "lina", "id": public["id"]}

    # A base, its commendation (a base decision, §三), a project there with a result.
    base = ok(
        http.post(
            "/bases",
            json={"name": "银川市枸杞产业人才培训基地", "level": "municipal",
                  "reason": "银川市级继续教育基地认定", "effective_on": "2020-03-01"},
        ),
        201,
    )  # fmt: skip
    change = {
        "status": "commended",
        "reason": "年度考核优秀，予以通报表扬",
        "effective_on": "2021-12-20",
    }
    ok(http.post(f"/bases/{base['id']}/status", json=change))
    project = ok(
        http.post(
            "/programme/projects",
            json={"year": 2022, "kind": "key_industry", "title": "枸杞产业高质量发展高级研修班",
                  "base_id": base["id"], "hours": 32.0, "starts_on": "2022-05-09",
                  "ends_on": "2022-05-12", "capacity": 40, "industry": "枸杞"},
        ),
        201,
    )  # fmt: skip
    for learner_id in ("zhangwei", "lina"):
        ok(http.post(f"/programme/projects/{project['id']}/enrolments",
                     json={"learner_id": learner_id}), 201)  # fmt: skip
    result = {"learner_id": "zhangwei", "passed": True, "assessed_on": "2022-05-12", "score": 93}
    ok(http.post(f"/programme/projects/{project['id']}/results", json=result), 201)
    expected["base"] = {"id": base["id"], "status": "commended"}
    expected["project"] = {"id": project["id"], "passed": ["zhangwei"]}

    # 张伟's account: a code, his password set with it, his phone signed in.
    code = ok(http.post("/learners/zhangwei/activation-code"), 201)["code"]
    activation = {"account": "zhangwei", "code": code, "password": PASSWORD}
    ok(httpx.post(f"{url}/auth/activate", json=activation), 204)
    signed = ok(
        httpx.post(f"{url}/auth/app-sign-in",
                   json={"account": "13912345678", "password": PASSWORD, "device": DEVICE}),
    )  # fmt: skip
    bearer = {"Authorization": f"Bearer {signed['access_token']}", **XAPI}
    # The app keeps its state (an xAPI document) and sends a completion of its own.
    state = {"activityId": activities["GX-0001"], "stateId": "进度",
             "agent": json.dumps({"account": {"homePage": HOME, "name": "zhangwei"}})}  # fmt: skip
    ok(httpx.put(f"{url}/xapi/activities/state", params=state, headers=bearer,
                 json={"章节": 3, "位置": "第二讲 12:40"}), 204)  # fmt: skip
    own = statement("zhangwei", "张伟", activities["GX-0003"], "2022-02-14T21:00:00+08:00")
    ok(httpx.post(f"{url}/xapi/statements", json=own, headers=bearer))
    expected["app_statement"] = own["id"]
    expected["state"] = {"params": state, "body": {"章节": 3, "位置": "第二讲 12:40"}}
    profile = {"activityId": activities["GC-0001"], "profileId": "课程说明"}
    ok(http.put("/xapi/activities/profile", params=profile, headers=XAPI,
                content="建筑工程施工质量验收规范解读".encode(),), 204)  # fmt: skip
    expected["activity_profile"] = {"params": profile, "text": "建筑工程施工质量验收规范解读"}

    # Credited by now (crediting follows the statements in the background).
    deadline = time.monotonic() + 60
    while True:
        credits = ok(http.get("/learners/zhangwei/credits"))
        refs = {e.get("source_ref") for e in credits}
        if {s["id"] for s in sent[:3]} <= refs and own["id"] in refs:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"not credited in 60 s: {credits}")
        time.sleep(0.5)
    pending = next(e for e in credits if e["status"] == "pending_review")
    decision = {"decision": "approve", "reason": "已核对学习记录与课程年度"}
    ok(http.post(f"/learners/zhangwei/credits/{pending['id']}/review", json=decision))
    expected["reviewed_entry"] = {"learner": "zhangwei", "id": pending["id"]}
    expected["ledgers"] = {
        learner_id: sorted(
            (e["id"], e["kind"], e["category"], e["hours"], e["status"])
            for e in ok(http.get(f"/learners/{learner_id}/credits"))
        )
        for learner_id in names
    }

    transcript = ok(http.get("/learners/zhangwei/transcript", params={"level": "intermediate",
                                                                       "year": 2022}))  # fmt: skip
    expected["transcript"] = {"code": transcript["verification_code"], "learner": "zhangwei"}

    job = ok(
        http.post("/exports", json={"employer": "宁夏建工集团有限公司", "format": "json"}), 202
    )
    deadline = time.monotonic() + 60
    while (found := ok(http.get(f"/exports/{job['id']}")))["status"] not in ("done", "failed"):
        if time.monotonic() > deadline:
            raise SystemExit(f"export not done in 60 s: {found}")
        time.sleep(0.5)
    if found["status"] != "done":
        raise SystemExit(f"export failed: {found}")
    file = http.get(f"/exports/{job['id']}/file")
    ok(file)
    expected["export"] = {"id": job["id"], "sha256_of_file": _sha256(file.content)}

    out.write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{out}: written; the service may be stopped and its store dumped")


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], Path(sys.argv[2]))
