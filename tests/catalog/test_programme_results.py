"""Programme results: enrolled learners only, dated within the project and not ahead,
one per enrolment, refused when the base is not in good standing on the date (§三); a
pass issues a certificate (§五(二)), verifiable at /verify/{code} and withdrawn with its
reason when the base's standing no longer holds."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests.catalog.programme_support import (
    create_project,
    engineering_project,
    enrol,
    learner,
    new_base,
    result,
)
from tests.conftest import ADMIN


async def _enrolled(client: httpx.AsyncClient, n: int, **project: Any) -> tuple[str, str]:
    found = await engineering_project(client, **project)
    learner_id = await learner(client, n)
    assert (await enrol(client, found["id"], learner_id)).status_code == 201
    return found["id"], learner_id


async def _revoke(client: httpx.AsyncClient, base: str, on: str) -> None:
    change = {
        "status": "revoked",
        "reason": "经调查核实，整改不到位，取消基地资格",
        "effective_on": on,
    }
    response = await client.post(f"/bases/{base}/status", json=change, headers=ADMIN)
    assert response.status_code == 200, response.text


async def test_a_pass_issues_a_certificate_with_the_projects_hours_s5_2(
    client: httpx.AsyncClient,
) -> None:
    project_id, learner_id = await _enrolled(client, 70)
    response = await result(client, project_id, learner_id, score=92.5)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["result"]["passed"] is True and answer["result"]["hours"] == 32.0
    certificate = answer["certificate"]
    assert certificate["certificate_no"] == "NX-2022-CY-00001"  # the first of 2022's key-industry
    assert len(certificate["verification_code"]) == 24
    assert certificate["project_title"] == "枸杞产业高质量发展高级研修班"
    assert certificate["base_name"] == "宁夏工程技术人员继续教育基地"
    found = (await client.get(f"/programme/projects/{project_id}", headers=ADMIN)).json()
    assert (found["enrolled"], found["completed"]) == (1, 1)


async def test_certificate_numbers_follow_each_other(client: httpx.AsyncClient) -> None:
    project_id, first = await _enrolled(client, 71)
    second = await learner(client, 72)
    assert (await enrol(client, project_id, second)).status_code == 201
    numbers = [
        (await result(client, project_id, x)).json()["certificate"]["certificate_no"]
        for x in (first, second)
    ]
    assert numbers == ["NX-2022-CY-00001", "NX-2022-CY-00002"]


async def test_a_fail_is_recorded_without_a_certificate(client: httpx.AsyncClient) -> None:
    project_id, learner_id = await _enrolled(client, 73)
    response = await result(client, project_id, learner_id, passed=False, score=41.0)
    assert response.status_code == 201
    assert response.json()["certificate"] is None
    assert response.json()["result"]["certificate_no"] is None
    found = (await client.get(f"/programme/projects/{project_id}", headers=ADMIN)).json()
    assert found["completed"] == 0


async def test_two_fails_of_one_project_are_both_recorded(client: httpx.AsyncClient) -> None:
    """Fails carry no certificate: the unique index of certificate codes skips them."""
    project_id, first = await _enrolled(client, 74)
    second = await learner(client, 75)
    assert (await enrol(client, project_id, second)).status_code == 201
    for learner_id in (first, second):
        response = await result(client, project_id, learner_id, passed=False)
        assert response.status_code == 201, response.text


async def test_results_are_for_enrolled_learners_only(client: httpx.AsyncClient) -> None:
    project = await engineering_project(client)
    stranger = await learner(client, 76)
    response = await result(client, project["id"], stranger)
    assert response.status_code == 422
    assert "'learner076'" in response.text and "not enrolled" in response.text


async def test_one_result_per_enrolment(client: httpx.AsyncClient) -> None:
    project_id, learner_id = await _enrolled(client, 77)
    assert (await result(client, project_id, learner_id)).status_code == 201
    again = await result(client, project_id, learner_id, passed=False)
    assert again.status_code == 409
    assert "one result per enrolment" in again.json()["detail"]


async def test_the_assessment_date_is_within_the_project_and_not_ahead(
    client: httpx.AsyncClient,
) -> None:
    project_id, learner_id = await _enrolled(client, 78)
    early = await result(client, project_id, learner_id, assessed_on="2022-05-08")
    assert early.status_code == 422 and "2022-05-09" in early.text
    ahead = await result(client, project_id, learner_id, assessed_on="2099-01-01")
    assert ahead.status_code == 422 and "future" in ahead.text


async def test_a_result_after_the_base_was_revoked_is_refused_s3(
    client: httpx.AsyncClient,
) -> None:
    base = await new_base(client)
    project = await create_project(client, base)  # starts 2022-05-09
    learner_id = await learner(client, 79)
    assert (await enrol(client, project["id"], learner_id)).status_code == 201
    await _revoke(client, base, "2022-05-11")
    refused = await result(client, project["id"], learner_id, assessed_on="2022-05-12")
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "银川市枸杞产业人才培训基地" in detail and "revoked since 2022-05-11" in detail
    # assessed the day before the revocation, when the base was certified: still refused,
    # a base revoked since records nothing today, back-dated or not (our reading)
    before = await result(client, project["id"], learner_id, assessed_on="2022-05-10")
    assert before.status_code == 409
    assert "revoked since 2022-05-11" in before.json()["detail"]


async def test_a_base_revoked_since_enrols_withdraws_and_records_nothing_back_dated(
    client: httpx.AsyncClient,
) -> None:
    """A June 2022 project; the base revoked effective 2022-09-30, recorded today: its
    client enrols nobody, withdraws nobody and records no pass dated 2022-06-29 (§三, our
    reading: the base must be in good standing on the day it acts)."""
    base = await new_base(client)
    project = await create_project(client, base, starts_on="2022-06-27", ends_on="2022-06-30")
    first, second = await learner(client, 83), await learner(client, 84)
    assert (await enrol(client, project["id"], first)).status_code == 201
    await _revoke(client, base, "2022-09-30")
    late = await enrol(client, project["id"], second)
    assert late.status_code == 409, late.text
    problem = late.json()
    assert (problem["base_id"], problem["base_status"], problem["since"]) == (
        base,
        "revoked",
        "2022-09-30",
    )
    assert "银川市枸杞产业人才培训基地" in problem["detail"]
    passed = await result(client, project["id"], first, assessed_on="2022-06-29")
    assert passed.status_code == 409 and "revoked since 2022-09-30" in passed.text
    gone = await client.delete(
        f"/programme/projects/{project['id']}/enrolments/{first}", headers=ADMIN
    )
    assert gone.status_code == 409 and "revoked since 2022-09-30" in gone.text
    found = (await client.get(f"/programme/projects/{project['id']}", headers=ADMIN)).json()
    assert (found["enrolled"], found["completed"]) == (1, 0)


async def test_an_assessment_is_dated_at_most_30_days_after_the_project_ends(
    client: httpx.AsyncClient,
) -> None:
    """A project of 2022-06-27 to 2022-06-30: 2022-06-30 + 30 days = 2022-07-30 is the
    last assessment date (our grace period); 2022-10-05 is a 422 naming assessed_on."""
    project_id, learner_id = await _enrolled(
        client, 85, starts_on="2022-06-27", ends_on="2022-06-30"
    )
    late = await result(client, project_id, learner_id, assessed_on="2022-10-05")
    assert late.status_code == 422, late.text
    [error] = late.json()["errors"]
    assert (error["field"], error["value"]) == ("assessed_on", "'2022-10-05'")
    assert "2022-07-30" in error["message"]
    day_after = await result(client, project_id, learner_id, assessed_on="2022-07-31")
    assert day_after.status_code == 422
    last_day = await result(client, project_id, learner_id, assessed_on="2022-07-30")
    assert last_day.status_code == 201, last_day.text


async def test_a_certificate_is_verified_by_anyone(client: httpx.AsyncClient) -> None:
    project_id, learner_id = await _enrolled(client, 80)  # learner 80: 王海燕
    issued = (await result(client, project_id, learner_id)).json()["certificate"]
    code = issued["verification_code"]
    response = await client.get(f"/verify/{code.lower()}")  # typed from paper
    assert response.status_code == 200, response.text
    found = response.json()
    assert (found["genuine"], found["kind"], found["status"]) == (True, "certificate", "valid")
    certified = found["certificate"]
    assert certified["certificate_no"] == issued["certificate_no"]
    assert certified["project_title"] == "枸杞产业高质量发展高级研修班"
    assert certified["hours"] == 32.0 and certified["assessed_on"] == "2022-05-12"
    assert certified["learner"] == {"name": "王*燕"}  # 王海燕, masked
    assert "id_number" not in response.text and learner_id not in response.text


async def test_a_certificate_is_withdrawn_when_a_revocation_reaches_back_over_it_s3(
    client: httpx.AsyncClient,
) -> None:
    base = await new_base(client)
    project = await create_project(client, base)
    learner_id = await learner(client, 81)
    assert (await enrol(client, project["id"], learner_id)).status_code == 201
    issued = (await result(client, project["id"], learner_id)).json()["certificate"]
    await _revoke(client, base, "2022-05-10")  # back-dated, before the assessment of 05-12
    found = (await client.get(f"/verify/{issued['verification_code']}")).json()
    assert (found["genuine"], found["status"]) == (True, "withdrawn")
    assert "revoked since 2022-05-10" in found["withdrawn_reason"]
    assert "银川市枸杞产业人才培训基地" in found["withdrawn_reason"]


async def test_a_revocation_after_the_assessment_keeps_the_certificate(
    client: httpx.AsyncClient,
) -> None:
    base = await new_base(client)
    project = await create_project(client, base)
    learner_id = await learner(client, 82)
    assert (await enrol(client, project["id"], learner_id)).status_code == 201
    issued = (await result(client, project["id"], learner_id)).json()["certificate"]
    await _revoke(client, base, "2022-06-01")
    found = (await client.get(f"/verify/{issued['verification_code']}")).json()
    assert found["status"] == "valid" and found["withdrawn_reason"] is None


async def test_an_altered_certificate_record_no_longer_verifies(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    from catalog.programme_models import ProgrammeResult
    from nxce.core import db

    project_id, learner_id = await _enrolled(client, 83)
    code = (await result(client, project_id, learner_id)).json()["certificate"]["verification_code"]
    await db.collection(ProgrammeResult).update_one(
        {"certificate.verification_code": code}, {"$set": {"hours": 320.0}}
    )
    response = await client.get(f"/verify/{code}")
    assert response.status_code == 404
    assert response.json()["genuine"] is False


async def test_an_unknown_code_is_404_and_a_malformed_one_422(client: httpx.AsyncClient) -> None:
    assert (await client.get("/verify/" + "A" * 24)).status_code == 404
    assert (await client.get("/verify/not-a-code")).status_code == 422


async def test_the_page_shows_a_certificate(client: httpx.AsyncClient) -> None:
    project_id, learner_id = await _enrolled(client, 84)
    code = (await result(client, project_id, learner_id)).json()["certificate"]["verification_code"]
    page = await client.get(f"/verify/{code}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "结业证书" in page.text and "枸杞产业高质量发展高级研修班" in page.text
    assert "NX-2022-CY-00001" in page.text


async def test_results_are_heard_before_and_after_they_are_written(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    heard: list[tuple[str, str]] = []

    async def changing(learner_id: str) -> None:
        heard.append(("before", learner_id))

    async def changed(learner_id: str) -> None:
        heard.append(("after", learner_id))

    app.state.catalog_events.subscribe_results(changing=changing, changed=changed)
    project_id, learner_id = await _enrolled(client, 85)
    assert (await result(client, project_id, learner_id)).status_code == 201
    assert heard == [("before", learner_id), ("after", learner_id)]


async def test_a_learners_certificates_are_listed(client: httpx.AsyncClient) -> None:
    from catalog import programme

    project_id, learner_id = await _enrolled(client, 86)
    other = await engineering_project(client, title="葡萄酒酿造技术高级研修班", industry="葡萄酒")
    assert (await enrol(client, other["id"], learner_id)).status_code == 201
    assert (await result(client, project_id, learner_id)).status_code == 201
    assert (await result(client, other["id"], learner_id, passed=False)).status_code == 201
    found = await programme.certificates_of(learner_id=learner_id)
    assert [r.project_title for r in found] == ["枸杞产业高质量发展高级研修班"]
    assert len(await programme.results_of(learner_id=learner_id)) == 2


async def test_the_page_shows_a_withdrawn_certificate_and_why(client: httpx.AsyncClient) -> None:
    base = await new_base(client)
    project = await create_project(client, base)
    learner_id = await learner(client, 87)
    assert (await enrol(client, project["id"], learner_id)).status_code == 201
    issued = (await result(client, project["id"], learner_id)).json()["certificate"]
    await _revoke(client, base, "2022-05-10")
    page = await client.get(
        f"/verify/{issued['verification_code']}", headers={"Accept": "text/html"}
    )
    assert page.status_code == 200
    assert "证书已失效" in page.text and "已取消基地资格" in page.text
    assert "自2022-05-10起" in page.text
