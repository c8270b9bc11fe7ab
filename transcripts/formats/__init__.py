"""The formats a transcript is issued in; each renders the same content."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from transcripts.content import Transcript
from transcripts.formats import pdf, sheets


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    media_type: str
    extension: str
    render: Callable[[Transcript], bytes]


def _json(content: Transcript) -> bytes:
    return json.dumps(content.to_json(), ensure_ascii=False, indent=2).encode("utf-8")


FORMATS = {
    f.name: f
    for f in (
        Format("json", "application/json", "json", _json),
        Format("csv", "text/csv; charset=utf-8", "csv", sheets.csv_bytes),
        Format(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
            sheets.xlsx_bytes,
        ),
        Format("pdf", "application/pdf", "pdf", pdf.pdf_bytes),
    )
}
