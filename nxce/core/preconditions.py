"""`If-Match` and `If-None-Match` (RFC 9110 §13.1.1-2): a write proceeds only if the
resource is as the client expects. One parser and one comparison for every resource.

`If-Match` compares strongly: a weak tag (`W/"3"`) never matches; `*` matches any existing
resource; a missing resource matches nothing. `If-None-Match` compares weakly: `W/"3"`
matches the tag `3`. Entity tags of versioned resources (courses) are their revision,
quoted (`"3"`); documents of the record store are tagged by a digest of their content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nxce.core.errors import BadRequest, show_value

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')
_BARE = re.compile(r"\s*(W/)?([^\s\",]+)\s*")


@dataclass(frozen=True)
class EntityTags:
    """What an `If-Match` or `If-None-Match` header names: any version (`*`), or tags."""

    any: bool
    strong: frozenset[str]
    weak: frozenset[str] = frozenset()

    def matches_strongly(self, etag: str | None) -> bool:
        """`If-Match`: true when a resource tagged `etag` (None: it does not exist) passes."""
        if etag is None:
            return False
        return self.any or etag in self.strong

    def matches_weakly(self, etag: str | None) -> bool:
        """`If-None-Match`: true when a resource tagged `etag` is one the header names."""
        if etag is None:
            return False
        return self.any or etag in self.strong or etag in self.weak

    def accepts(self, revision: int | None) -> bool:
        """`If-Match` on a versioned resource at `revision` (None: it does not exist)."""
        return self.matches_strongly(None if revision is None else str(revision))


# A precondition on a versioned resource: what `If-Match` accepts.
Precondition = EntityTags


def parse_tags(header: str | None, *, name: str, bare: bool = False) -> EntityTags | None:
    """The entity tags a header lists (None when absent); 400 naming the header when it is
    malformed. `bare`: tags without quotes are taken as written (xAPI clients send them;
    Communication 3.1 does not insist on quotes)."""
    if header is None:
        return None
    if header.strip() == "*":
        return EntityTags(any=True, strong=frozenset())
    strong: set[str] = set()
    weak: set[str] = set()
    for part in header.split(","):
        match = _TAG.fullmatch(part) or (_BARE.fullmatch(part) if bare else None)
        if match is None:
            raise BadRequest(
                f'{name} must be "*" or entity tags such as "3", got {show_value(header)}'
            )
        is_weak, tag = match.groups()
        (weak if is_weak else strong).add(tag)
    return EntityTags(any=False, strong=frozenset(strong), weak=frozenset(weak))


def parse_if_match(header: str | None) -> Precondition | None:
    """The precondition an `If-Match` header states on a versioned resource."""
    return parse_tags(header, name="If-Match")
