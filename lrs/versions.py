"""xAPI versions: which a request asks for, and which behaviour that selects.

xAPI 1.0.3 Communication 3.3 / xAPI 2.0 4.1.2: every request carries
`X-Experience-API-Version`; the LRS answers with the version it served. Requests for
1.0.0-1.0.3 are served by the 1.0.3 rules, requests for 2.0.x by the 2.0.0 rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER = "X-Experience-API-Version"
SUPPORTED = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0")
_ONE = re.compile(r"^1\.0(\.[0-3])?$")
_TWO = re.compile(r"^2\.0(\.\d+)?$")


@dataclass(frozen=True)
class XapiVersion:
    """The version of the rules a request is served by."""

    requested: str
    served: str

    @property
    def is_2(self) -> bool:
        return self.served.startswith("2.")


V1 = XapiVersion("1.0.3", "1.0.3")
V2 = XapiVersion("2.0.0", "2.0.0")


def parse(header: str | None) -> XapiVersion | None:
    """The version a header value asks for; None when it is missing or not supported."""
    if header is None:
        return None
    value = header.strip()
    if _ONE.match(value):
        return XapiVersion(value, "1.0.3")
    if _TWO.match(value):
        return XapiVersion(value, "2.0.0")
    return None


def statement_version_ok(value: str, served: XapiVersion) -> bool:
    """Data 2.4.10 / 2.0 4.2.4.3: a Statement's `version` the LRS accepts under `served`."""
    if _ONE.match(value) or re.fullmatch(r"1\.0\.\d+", value):
        return True
    return served.is_2 and bool(_TWO.match(value))
