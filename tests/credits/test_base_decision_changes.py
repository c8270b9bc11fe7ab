"""What a base's status decision (§三) did to learners' ledgers, kept with the decision: a
back-dated revocation recomputes every learner trained at the base at once, and the
entries that changed (hours, counted → reversed) are kept under the decision
(credits/recompute.py `changes`), also when a crash left the recompute to start-up. The
administrative log has a line for the decision, written with it, and one for what the
ledgers did: how many entries changed, of how many learners."""

from __future__ import annotations

import httpx
import pytest
from beanie import PydanticObjectId
from fastapi import FastAPI

from catalog import bases as catalog_bases
from catalog.models import Base
from catalog.schemas import BaseUpdate, StatusChangeCreate
from credits import recompute as credit_recompute
from credits.models import LedgerChange
from nxce.core import admin_log
from nxce.core.admin_log import Area
from nxce.core.errors import Conflict
from tests.conftest import ADMIN, ADMIN_KEY
from tests.credits.conftest import ENGINEERING_BASE, TEACHERS_BASE, base_id
from tests.credits.test_recompute import (
    _trained_at_the_engineering_base,
    by_date,
    change_base,
    ledger,
)


async def decisions(base: str) -> list[str]:
    found = await catalog_bases.get(base_id=base)
    return [str(c.decision_id) for c in found.history]


async def kept(decision_id: str) -> list[LedgerChange]:
    cause = credit_recompute.decision_cause(decision_id)
    changes, total = await credit_recompute.changes(cause=cause)
    assert total == len(changes)
    return changes


async def test_a_back_dated_revocation_keeps_the_entries_it_changed_s3(
    client: httpx.AsyncClient,
) -> None:
    """Revoked on 2019-03-01, recorded today: 张伟's 2019-06-15 training (48 hours) goes from
    counted to reversed, and that one change is kept under the decision, with the hours
    before and after and the reason; his 2019-02-10 training and 李秀英's training at
    another base are not among the changes."""
    engineering = await _trained_at_the_engineering_base(client)
    await change_base(client, engineering, "revoked", "2019-03-01", "长期未开展继续教育活动")
    revocation = (await decisions(engineering))[-1]
    [change] = await kept(revocation)
    later = by_date(await ledger(client))["2019-06-15"]
    assert (change.learner_id, change.entry_id, change.kind) == (
        "zhangwei",
        later["id"],
        "training",
    )
    assert (change.hours_before, change.hours_after) == (48, 48)
    assert (change.status_before, change.status_after) == ("counted", "reversed")
    assert change.reason_after is not None and "revoked on 2019-03-01" in change.reason_after
    assert str(change.occurred_on) == "2019-06-15"


async def test_certifying_again_keeps_the_entries_it_restored_under_its_own_decision_s3(
    client: httpx.AsyncClient,
) -> None:
    engineering = await _trained_at_the_engineering_base(client)
    await change_base(client, engineering, "revoked", "2019-03-01", "长期未开展继续教育活动")
    await change_base(client, engineering, "certified", "2019-05-01", "整改合格，重新认证")
    *_, revocation, certification = await decisions(engineering)
    [restored] = await kept(certification)
    assert (restored.status_before, restored.status_after) == ("reversed", "counted")
    assert restored.reason_after is None
    assert len(await kept(revocation)) == 1  # the revocation's change is still kept


async def test_the_admin_log_has_the_decision_and_what_the_ledgers_did_s3(
    client: httpx.AsyncClient,
) -> None:
    """Two lines for a decision: the decision itself (status from → to, effective date,
    reason, back-dated) and what followed (1 learner recomputed, 1 entry of 1 learner)."""
    engineering = await _trained_at_the_engineering_base(client)
    await change_base(client, engineering, "revoked", "2019-03-01", "长期未开展继续教育活动")
    revocation = (await decisions(engineering))[-1]
    followed, decided = await admin_log.entries(area=Area.bases, target=engineering)
    assert (decided.by, decided.action) == (ADMIN_KEY, "base.status_changed")
    assert decided.detail["status"] == {"from": "certified", "to": "revoked"}
    assert decided.detail["effective_on"] == "2019-03-01"
    assert decided.detail["reason"] == "长期未开展继续教育活动"
    assert decided.detail["back_dated"] is True and decided.detail["decision"] == revocation
    assert ENGINEERING_BASE in decided.summary and "认证 → 取消基地资格" in decided.summary
    assert followed.action == "base.ledgers_followed"
    assert followed.detail == {
        "decision": revocation,
        "learners_recomputed": 1,
        "entries_changed": 1,
        "learners_changed": 1,
    }
    assert "1 名学员的 1 条学时记录随之变化" in followed.summary


async def test_a_decision_that_changes_no_entry_says_so_s3(client: httpx.AsyncClient) -> None:
    """Commended on 2022-01-10: both trainings (2019) stay counted; the learner is
    recomputed, no change is kept, the log says no entry changed."""
    engineering = await _trained_at_the_engineering_base(client)
    await change_base(client, engineering, "commended", "2022-01-10", "培训质量好，通报表扬")
    assert await kept((await decisions(engineering))[-1]) == []
    followed = (await admin_log.entries(area=Area.bases, target=engineering))[0]
    assert followed.detail["entries_changed"] == 0 and followed.detail["learners_recomputed"] == 1
    assert "没有学时记录变化" in followed.summary


async def test_a_refused_decision_writes_no_log_line_s3(client: httpx.AsyncClient) -> None:
    engineering = await _trained_at_the_engineering_base(client)
    body = {"status": "certified", "reason": "重复认证", "effective_on": "2019-03-01"}
    response = await client.post(f"/bases/{engineering}/status", json=body, headers=ADMIN)
    assert response.status_code == 409
    assert await admin_log.entries(area=Area.bases, target=engineering) == []


async def test_a_recompute_a_crash_left_to_start_up_keeps_its_changes_s3(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The learners were marked for decision "d-1" and the revocation written, then the
    process died: the mark carries the decision, so the recompute that finishes it keeps
    the change under it."""
    engineering = await _trained_at_the_engineering_base(client)
    credits = app.state.credits
    await credit_recompute.base_changing(credits=credits, base_id=engineering, decision_id="d-1")
    change = StatusChangeCreate.model_validate(
        {"status": "revoked", "reason": "长期未开展继续教育活动", "effective_on": "2019-03-01"}
    )
    await catalog_bases.change_status(base_id=engineering, change=change, by="admin")
    assert await kept("d-1") == []  # not recomputed yet
    assert await credit_recompute.finish_marks(credits=credits) == 1
    [change_kept] = await kept("d-1")
    assert (change_kept.status_before, change_kept.status_after) == ("counted", "reversed")


async def test_registering_and_correcting_a_base_are_logged_with_their_fields(
    client: httpx.AsyncClient,
) -> None:
    """Registration (name, level, date, reason) and a correction (each field from → to), by
    the admin's key; a correction at a stale revision is a 409 naming the revision now."""
    body = {
        "name": "固原市卫生专业技术人员培训基地",
        "level": "municipal",
        "reason": "经评审认定为市级继续教育基地",
        "effective_on": "2022-03-01",
    }
    created = await client.post("/bases", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    new = created.json()["id"]
    patched = await client.patch(f"/bases/{new}", json={"level": "regional"}, headers=ADMIN)
    assert patched.status_code == 200, patched.text
    updated, registered = await admin_log.entries(area=Area.bases, target=new)
    assert (registered.action, registered.by) == ("base.registered", ADMIN_KEY)
    assert registered.detail["name"] == "固原市卫生专业技术人员培训基地"
    assert registered.detail["effective_on"] == "2022-03-01"
    assert (updated.action, updated.by) == ("base.updated", ADMIN_KEY)
    assert updated.detail == {"level": {"from": "municipal", "to": "regional"}}
    assert "级别：市级 → 自治区级" in updated.summary

    base = await Base.get(PydanticObjectId(new))
    assert base is not None and base.revision == 2
    with pytest.raises(Conflict, match=r"since revision 1.*now revision 2"):
        await catalog_bases.update(
            base_id=new, patch=BaseUpdate(name="固原市卫生人才培训基地"), by="a", revision=1
        )
    assert len(await admin_log.entries(area=Area.bases, target=new)) == 2


async def test_a_criticism_at_a_base_where_no_one_trained_recomputes_no_one_s3(
    client: httpx.AsyncClient,
) -> None:
    teachers = await base_id(client, TEACHERS_BASE)
    body = {
        "status": "criticised",
        "reason": "投诉查实，限期整改",
        "effective_on": "2022-05-01",
        "rectify_by": "2030-12-31",
    }
    response = await client.post(f"/bases/{teachers}/status", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    followed, decided = await admin_log.entries(area=Area.bases, target=teachers)
    assert decided.detail["status"] == {"from": "commended", "to": "criticised"}
    assert decided.detail["rectify_by"] == "2030-12-31"
    assert "限 2030-12-31 前整改" in decided.summary
    assert followed.detail["learners_recomputed"] == 0
