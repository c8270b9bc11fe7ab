"""How every page words a withdrawn programme certificate (§三: a base's work counts
while it is in good standing): the verification page, the learner's record, the
auditor's learner page and the rosters all say it with `withdrawn_words`."""

from __future__ import annotations

from datetime import date

# A base's status on the assessment date, as the pages name it.
BASE_STATUS_WORDS = {
    "revoked": "已取消基地资格",
    "criticised": "通报批评、限期整改",
    "not yet certified": "尚未认证",
}


def withdrawn_words(status: str | None, since: date | str | None = None) -> str:
    """Why a certificate no longer stands, in Chinese: the base's status on the
    assessment date and since when; `status` None when the base no longer exists."""
    if status is None:
        return "出具证书的基地已不存在，证书不再有效（第三条）"
    named = BASE_STATUS_WORDS.get(status, status)
    if since:
        text = since.isoformat() if isinstance(since, date) else since
        named += f"，自{text}起"
    return f"出具基地在考核之日不具备资格（{named}），证书不再有效（第三条）"
