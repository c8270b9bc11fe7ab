"""`If-Match` (RFC 9110 §13.1.1): a write proceeds only if the resource is as expected.

Entity tags of versioned resources are their revision, quoted (`"3"`). `If-Match` uses
the strong comparison: a weak tag (`W/"3"`) never matches; `*` matches any existing
resource; a missing resource matches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nxce.errors import BadRequest, show_value

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')
_REVISION = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Precondition:
    """What an `If-Match` header accepts: any existing version, or these revisions."""

    any: bool
    revisions: frozenset[int]

    def accepts(self, revision: int | None) -> bool:
        """True when a resource at `revision` (None: it does not exist) satisfies it."""
        if revision is None:
            return False
        return self.any or revision in self.revisions


def parse_if_match(header: str | None) -> Precondition | None:
    """The precondition an `If-Match` header states (None when absent); 400 when malformed."""
    if header is None:
        return None
    if header.strip() == "*":
        return Precondition(any=True, revisions=frozenset())
    revisions: set[int] = set()
    for part in header.split(","):
        match = _TAG.fullmatch(part)
        if match is None:
            raise BadRequest(
                f'If-Match must be "*" or entity tags such as "3", got {show_value(header)}'
            )
        weak, tag = match.groups()
        if not weak and _REVISION.fullmatch(tag):
            revisions.add(int(tag))
    return Precondition(any=False, revisions=frozenset(revisions))
