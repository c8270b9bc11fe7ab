"""Large collections of the embedded store held compactly: as BSON, or on the medium.

mongomock holds a collection's documents as Python dicts (about 5 KB for a statement
record: a dict, its lists, a string per value). Once a collection holds `COMPACT_FROM`
documents, its documents are held as the BSON the durable medium stores (`CODEC`), and
decoded when read: a read answers a new dict, which the reader may change freely.

On a durable store a document whose BSON is committed is not held in memory at all
(`COLD`): it is read from the medium when asked for (`Medium.read`; a full scan reads the
collection in one pass, `Medium.scan`). A document written and not yet committed is held
as BSON until its commit, after which `settled` lets it go, unless it changed again.

mongomock changes documents in place in `_update` and then checks the unique indexes
with the changed document (`_ensure_uniques`): the embedded store writes it back there
(`write_back`), so a changed document is never lost. Values round-trip as they do
through the durable medium: datetimes to milliseconds, as MongoDB keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, ValuesView
from typing import TYPE_CHECKING, Any

from nxce.core.embedded_medium import decode_document, encode_document, encode_key

if TYPE_CHECKING:
    from nxce.core.embedded_medium import Medium

COMPACT_FROM = 10_000  # documents in a collection before it is held compactly
COLD = b""  # held by the medium only (no document encodes to nothing)


class CompactDocuments(MutableMapping[Any, dict[str, Any]]):
    """A collection's documents by key, each held as BSON (in insertion order)."""

    def __init__(self, documents: Any = ()) -> None:
        self.bodies: dict[Any, bytes] = {}
        self.medium: Medium | None = None
        self.name = ""  # the collection's name on the medium
        for key, document in dict(documents).items():
            self[key] = document

    def keep_on(self, medium: Medium, name: str) -> None:
        """Committed documents may be left on `medium`, as collection `name`."""
        self.medium, self.name = medium, name

    def __getitem__(self, key: Any) -> dict[str, Any]:
        body = self.body(key)
        if body is None:
            raise KeyError(key)
        return decode_document(body)

    def __setitem__(self, key: Any, document: dict[str, Any]) -> None:
        self.bodies[key] = encode_document(document)

    def __delitem__(self, key: Any) -> None:
        del self.bodies[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self.bodies))  # a snapshot: callers delete while iterating

    def __len__(self) -> int:
        return len(self.bodies)

    def __contains__(self, key: object) -> bool:
        return key in self.bodies

    def get(self, key: Any, default: Any = None) -> Any:
        body = self.body(key)
        return default if body is None else decode_document(body)

    def body(self, key: Any) -> bytes | None:
        """The document's BSON as the medium stores it, or None."""
        body = self.bodies.get(key)
        if body is COLD and self.medium is not None:
            return self.medium.read(self.name, encode_key(key))
        return body

    def put_body(self, key: Any, body: bytes) -> None:
        """Hold a document by its BSON (`COLD`: it is on the medium only)."""
        self.bodies[key] = body

    def settled(self, key: Any, body: bytes) -> None:
        """`body` of `key` is committed: let it go unless the document changed since."""
        if self.medium is not None and self.bodies.get(key) is body:
            self.bodies[key] = COLD

    def values(self) -> ValuesView[dict[str, Any]]:
        return _Values(self)  # type: ignore[return-value]

    def scan(self) -> Iterator[dict[str, Any]]:
        """Every document in order; those on the medium read in one pass (the medium's
        first-write order is the order they were put here)."""
        bodies = self.bodies
        if self.medium is None or COLD not in bodies.values():
            yield from (decode_document(b) for b in list(bodies.values()))
            return
        seen = set()
        for encoded, stored in self.medium.scan(self.name):
            key = _key(decode_document(encoded)["_id"])
            body = bodies.get(key)
            if body is not None:
                seen.add(key)
                yield decode_document(stored if body is COLD else body)
        for key, body in list(bodies.items()):
            if key not in seen and body is not COLD:
                yield decode_document(body)


class _Values:
    """`values()` of compact documents: one pass over them (see `scan`)."""

    def __init__(self, documents: CompactDocuments) -> None:
        self.documents = documents

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.documents.scan()

    def __len__(self) -> int:
        return len(self.documents)


def _key(identifier: Any) -> Any:
    """The key mongomock files a document under (a dict `_id` as a hashable dict)."""
    if isinstance(identifier, dict):
        from mongomock import helpers

        return helpers.hashdict(identifier)
    return identifier


def compact_if_large(store: Any) -> None:
    """Hold `store`'s documents (a mongomock CollectionStore) compactly once it is large."""
    documents = store._documents
    if type(documents) is not CompactDocuments and len(documents) >= COMPACT_FROM:
        store._documents = CompactDocuments(documents)


def write_back(store: Any, document: dict[str, Any]) -> None:
    """Keep a document mongomock changed in place (compact documents are copies)."""
    documents = store._documents
    if type(documents) is CompactDocuments:
        key = _key(document.get("_id"))
        if key in documents:
            documents[key] = document
