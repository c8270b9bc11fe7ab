"""The embedded search backend: tantivy in process, persisted in the data directory.

Titles, subjects, tags and descriptions are indexed as character unigrams and bigrams
(every substring finds its course), titles also as jieba words, full pinyin, initials,
their leading characters and their whole normalized text; `search.embedded_query` holds the
schema and the ranking. Filters are exact and do not score; facet counts come from
tantivy's terms aggregation over the filtered matches.

Popularity is a fast field (`popularity`, u64) and, for ranking, a few bit terms of its
log level: `set_popularity` re-adds only the courses whose count changed (tantivy has no
in-place update), never the whole catalog. Beside the index, two small files: the
popularity of each course (`popularity.json`) and the expansion table of title words
(`expansions.json`, see `search.expansion`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tantivy

from search import text
from search.backend import SearchDocument, SearchHit, SearchQuery, SearchResult, Suggestion
from search.embedded_query import SCHEMA, SCHEMA_VERSION, build_query, term_query, to_tantivy
from search.expansion import Expansions
from search.highlight import highlight, highlight_terms, terms

log = logging.getLogger("nxce.search")
SAVE_EVERY = 30.0  # seconds between writes of the tables after single-course changes


def _synonyms(term: str) -> tuple[str, ...]:
    return text.SYNONYMS.get(term, ())


class EmbeddedBackend:
    """tantivy in this process; the index lives in `directory` (or in memory when None)."""

    name = "embedded"

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory / f"embedded-v{SCHEMA_VERSION}" if directory else None
        self._index: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._lock = threading.Lock()
        self._popularity: dict[str, int] = {}
        self._expansions = Expansions()
        self._memory_fingerprint: str | None = None
        self._saved_at = -SAVE_EVERY
        self._unsaved = False

    # lifecycle

    async def open(self) -> None:
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        if self.directory is None:
            self._index = tantivy.Index(SCHEMA)
        else:
            self.directory.mkdir(parents=True, exist_ok=True)
            try:
                self._index = tantivy.Index(SCHEMA, path=str(self.directory), reuse=True)
            except ValueError:
                log.warning("search index at %s is unreadable; rebuilding it", self.directory)
                shutil.rmtree(self.directory)
                self.directory.mkdir(parents=True)
                self._index = tantivy.Index(SCHEMA, path=str(self.directory), reuse=False)
        self._writer = self._index.writer(heap_size=64_000_000, num_threads=1)
        self._index.reload()
        self._load_tables()

    def _load_tables(self) -> None:
        """Popularity and expansions from their files; rebuilt from the index if missing."""
        if self.directory is None or self._index is None:
            return
        popularity = self.directory / "popularity.json"
        if popularity.exists():
            self._popularity = json.loads(popularity.read_text(encoding="utf-8"))
        expansions = self.directory / "expansions.json"
        if expansions.exists():
            self._expansions = Expansions.load(expansions.read_text(encoding="utf-8"))
            return
        searcher = self._index.searcher()
        found = searcher.search(tantivy.Query.all_query(), limit=max(searcher.num_docs, 1))
        for _, address in found.hits:
            document = json.loads(searcher.doc(address)["doc"][0])
            self._expansions.add(document["title"], self._popularity.get(document["code"], 0))
        self._save_tables()

    def _save_tables(self, *, unless_recent: bool = False) -> None:
        """Write both tables (the expansion table is a few MB: after a single course's
        change, at most every SAVE_EVERY seconds; at close and after bulk writes always)."""
        if self.directory is None:
            return
        now = time.monotonic()
        if unless_recent and now - self._saved_at < SAVE_EVERY:
            self._unsaved = True
            return
        self._saved_at, self._unsaved = now, False
        for name, content in (
            ("popularity.json", json.dumps(self._popularity, ensure_ascii=False)),
            ("expansions.json", self._expansions.dump()),
        ):
            partial = self.directory / f"{name}.partial"
            partial.write_text(content, encoding="utf-8")
            partial.replace(self.directory / name)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            if self._unsaved:
                self._save_tables()
            if self._writer is not None:
                self._writer.wait_merging_threads()
            self._writer = None
            self._index = None

    # writes

    def _require(self) -> tuple[tantivy.Index, tantivy.IndexWriter]:
        if self._index is None or self._writer is None:
            raise RuntimeError("the embedded search backend is not open")
        return self._index, self._writer

    @staticmethod
    def _stored(searcher: tantivy.Searcher, code: str) -> SearchDocument | None:
        """The document indexed under `code`, if any."""
        found = searcher.search(tantivy.Query.term_query(SCHEMA, "code", code), limit=1)
        for _, address in found.hits:
            document: SearchDocument = json.loads(searcher.doc(address)["doc"][0])
            return document
        return None

    def _write(
        self, add: Sequence[SearchDocument], remove: Sequence[str], everything: bool
    ) -> None:
        with self._lock:
            index, writer = self._require()
            # A rebuild fills a fresh table, swapped in once whole (searches go on meanwhile).
            expansions = Expansions() if everything else self._expansions
            if everything:
                writer.delete_all_documents()
            else:
                searcher = index.searcher()
                for code in {*remove, *(d["code"] for d in add)}:
                    old = self._stored(searcher, code)
                    if old is not None:
                        popularity = self._popularity.get(code, 0)
                        expansions.add(old["title"], popularity, sign=-1)
            for code in remove:
                writer.delete_documents_by_term("code", code)
            latest = {d["code"]: d for d in add}  # the last of a code given twice wins
            for document in latest.values():
                popularity = self._popularity.get(document["code"], 0)
                if not everything:
                    writer.delete_documents_by_term("code", document["code"])
                writer.add_document(to_tantivy(document, popularity))
                expansions.add(document["title"], popularity)
            writer.commit()
            index.reload()
            self._expansions = expansions
            self._save_tables(unless_recent=not everything)

    def _set_popularity(self, counts: Mapping[str, int]) -> None:
        with self._lock:
            index, writer = self._require()
            searcher = index.searcher()
            changed = False
            for code, count in counts.items():
                count = max(int(count), 0)
                before = self._popularity.get(code, 0)
                if count == before:
                    continue
                if count:
                    self._popularity[code] = count
                else:
                    self._popularity.pop(code, None)
                document = self._stored(searcher, code)
                if document is None:
                    continue
                self._expansions.change_popularity(document["title"], count - before)
                writer.delete_documents_by_term("code", code)
                writer.add_document(to_tantivy(document, count))
                changed = True
            if changed:
                writer.commit()
                index.reload()
            self._save_tables()

    async def set_popularity(self, counts: Mapping[str, int]) -> None:
        await asyncio.to_thread(self._set_popularity, counts)

    async def index(self, documents: Sequence[SearchDocument]) -> None:
        await asyncio.to_thread(self._write, documents, (), False)

    async def delete(self, codes: Sequence[str]) -> None:
        await asyncio.to_thread(self._write, (), codes, False)

    async def replace_all(self, documents: Sequence[SearchDocument], fingerprint: str) -> None:
        await asyncio.to_thread(self._write, documents, (), True)
        if self.directory is not None:
            (self.directory / "fingerprint").write_text(fingerprint, encoding="utf-8")
        else:
            self._memory_fingerprint = fingerprint

    async def fingerprint(self) -> str | None:
        if self.directory is None:
            return self._memory_fingerprint
        path = self.directory / "fingerprint"
        return path.read_text(encoding="utf-8") if path.exists() else None

    # reads

    def _search(self, query: SearchQuery) -> SearchResult:
        index, _ = self._require()
        searcher = index.searcher()
        tantivy_query = build_query(query, self._expansions, _synonyms)
        offset = (query.page - 1) * query.page_size
        if query.sort is not None:
            field, order = query.sort
            found = searcher.search(
                tantivy_query,
                limit=query.page_size,
                offset=offset,
                order_by_field=field,
                order=tantivy.Order.Asc if order == "asc" else tantivy.Order.Desc,
            )
        elif not query.q.strip():
            found = searcher.search(
                tantivy_query,
                limit=query.page_size,
                offset=offset,
                order_by_field="code",
                order=tantivy.Order.Asc,
            )
        else:
            found = searcher.search(tantivy_query, limit=query.page_size, offset=offset)
        query_terms = highlight_terms(query.q)
        hits = []
        for key, address in found.hits:
            document: SearchDocument = json.loads(searcher.doc(address)["doc"][0])
            score = float(key) if query.sort is None and query.q.strip() else None
            hits.append(SearchHit(document, highlight(document["title"], query_terms), score))
        facets = self._facets(searcher, tantivy_query, query.facets) if query.facets else {}
        total = found.count  # type: ignore[attr-defined]  # present at run time, not in stubs
        return SearchResult(hits=hits, total=total or 0, facets=facets)

    @staticmethod
    def _facets(
        searcher: tantivy.Searcher, query: tantivy.Query, names: Sequence[str]
    ) -> dict[str, dict[str, int]]:
        spec = {name: {"terms": {"field": name, "size": 1000}} for name in names}
        answer = searcher.aggregate(query, spec)
        return {
            name: {str(b["key"]): int(b["doc_count"]) for b in answer[name]["buckets"]}
            for name in names
        }

    async def search(self, query: SearchQuery) -> SearchResult:
        return await asyncio.to_thread(self._search, query)

    def _suggest(self, q: str, limit: int) -> list[Suggestion]:
        index, _ = self._require()
        query_terms = terms(q)
        if not query_terms:
            return []
        searcher = index.searcher()
        clauses = [
            (tantivy.Occur.Must, term_query(t, self._expansions, title_only=True))
            for t in query_terms
        ]
        found = searcher.search(tantivy.Query.boolean_query(clauses), limit=limit)
        suggestions = []
        for _, address in found.hits:
            document = json.loads(searcher.doc(address)["doc"][0])
            suggestions.append(
                Suggestion(
                    document["code"], document["title"], highlight(document["title"], query_terms)
                )
            )
        return suggestions

    async def suggest(self, q: str, limit: int) -> list[Suggestion]:
        return await asyncio.to_thread(self._suggest, q, limit)

    async def health(self) -> dict[str, Any]:
        if self._index is None:
            return {"ok": False, "backend": self.name, "detail": "not open"}
        documents = self._index.searcher().num_docs
        return {
            "ok": True,
            "backend": self.name,
            "documents": documents,
            "directory": str(self.directory) if self.directory else None,
        }
