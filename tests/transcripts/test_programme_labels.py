"""How a transcript (and the audit's not-counted list) names programme entries (§二,
§五(二)) and the reasons §三 gives for entries at criticised or revoked bases."""

from __future__ import annotations

from typing import Any

import pytest

from credits.labels import not_counted_note, status_note
from transcripts.content import entry_line

BASE = "银川市枸杞产业人才培训基地"


def programme_row(**overrides: Any) -> dict[str, Any]:
    """A 32-hour key-industry seminar on goji as the ledger stores its entry."""
    row: dict[str, Any] = {
        "entry_id": "programme-5f0c",
        "learner_id": "zhangwei",
        "year": 2021,
        "occurred_on": "2021-05-14",
        "category": "professional",
        "hours": 32.0,
        "kind": "programme",
        "source_kind": "programme",
        "source_ref": "5f0c",
        "source": {
            "project_title": "枸杞产业高质量发展高级研修班",
            "programme_kind": "key_industry",
            "base_name": BASE,
            "certificate_no": "NX-2021-CY-00001",
        },
        "clause": "§一(一); §二(三); §五(二)",
        "status": "counted",
        "status_reason": None,
    }
    row.update(overrides)
    return row


def test_a_programme_entry_is_named_by_the_programme_and_its_part() -> None:
    line = entry_line(programme_row())
    assert line.kind_label == "知识更新工程·九个重点产业、领域专业技术培训项目"
    assert line.title == (
        "知识更新工程·九个重点产业、领域专业技术培训项目：枸杞产业高质量发展高级研修班"
        f"（{BASE}，证书编号：NX-2021-CY-00001）"
    )
    assert (line.category_label, line.hours, line.counted) == ("专业课", 32, True)


@pytest.mark.parametrize(
    ("reason", "note"),
    [
        (
            f"base {BASE} was revoked on 2021-05-13 (§三); the result is dated 2021-05-14",
            f"基地{BASE}自2021-05-13起被取消资格（§三），考核日期为2021-05-14",
        ),
        (
            f"base {BASE} was criticised on 2021-05-01 (§三); the result is dated 2021-05-14, "
            "its project started on 2021-05-10",
            f"基地{BASE}自2021-05-01起被通报批评并限期整改（§三），考核日期为2021-05-14，"
            "项目开班日期为2021-05-10",
        ),
        (
            f"base {BASE} was criticised on 2021-05-01 (§三); the training is dated 2021-06-01",
            f"基地{BASE}自2021-05-01起被通报批评并限期整改（§三），培训日期为2021-06-01",
        ),
    ],
    ids=["revoked-result", "criticised-result", "criticised-training"],
)
def test_reasons_of_a_base_not_in_good_standing_are_shown_in_chinese(
    reason: str, note: str
) -> None:
    assert status_note(reason) == note
    assert not_counted_note("reversed", status_note(reason)) == f"已撤销：{note}"
