"""The embedded search backend: tantivy in process, persisted in the data directory.

Titles, subjects, tags and descriptions are indexed as character unigrams and bigrams
(every substring finds its course), titles also as jieba words, full pinyin, initials,
their leading characters and their whole normalized text. Ranking is by tiers, each a
constant score, with BM25 ordering within a tier:

    exact title  >  title starts with the term  >  title contains it  >  pinyin  >
    initials  >  subject or tags  >  description

Filters are exact and do not score; facet counts come from tantivy's terms aggregation
over the filtered matches.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tantivy

from search import text
from search.backend import SearchDocument, SearchHit, SearchQuery, SearchResult, Suggestion
from search.highlight import highlight, highlight_terms, is_letters, terms

log = logging.getLogger("nxce.search")

SCHEMA_VERSION = 1
PREFIX_CHARS = 12  # suggest ranks titles by up to this many leading characters
MAX_INITIALS = 12

# Tier scores. A document scores the sum of the tiers it matches, and each tier outweighs
# the sum of all tiers below it, so its best tier decides its place; BM25 of the title
# (tens at most) orders documents within the title tiers.
EXACT, PREFIX, TITLE = 1e5, 1e4, 2e3
PINYIN_WORD, PINYIN, INITIALS_WORD, INITIALS = 1e3, 500.0, 200.0, 100.0
SUBJECT, DESCRIPTION = 10.0, 1.0
_TEXT_FIELDS = ("title", "subject", "tags", "description")


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("code", stored=True, tokenizer_name="raw", fast=True)
    builder.add_text_field("doc", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("title_exact", tokenizer_name="raw")
    builder.add_text_field("title_prefix", tokenizer_name="whitespace", index_option="basic")
    for name in _TEXT_FIELDS:
        builder.add_text_field(f"{name}_1", tokenizer_name="whitespace")
        builder.add_text_field(f"{name}_2", tokenizer_name="whitespace")
    builder.add_text_field("title_words", tokenizer_name="whitespace")
    builder.add_text_field("title_pinyin", tokenizer_name="whitespace")
    builder.add_text_field("title_initials", tokenizer_name="whitespace")
    builder.add_text_field("title_word_pinyin", tokenizer_name="whitespace", index_option="basic")
    builder.add_text_field("title_word_initials", tokenizer_name="whitespace", index_option="basic")
    for name in ("category", "series", "subject"):
        builder.add_text_field(name, tokenizer_name="raw", fast=True)
    builder.add_integer_field("year", indexed=True, fast=True)
    builder.add_float_field("hours", indexed=True, fast=True)
    return builder.build()


SCHEMA = _schema()


def to_tantivy(document: SearchDocument) -> tantivy.Document:
    """The tantivy document of a course: every field the queries below use."""
    title = document["title"]
    normalized_title = " ".join(text.runs(title))
    spelled = text.pinyin(title)
    syllables = spelled[0]
    spelled_words = text.word_pinyin(title, spelled)
    tags = f" {text.RUN_BREAK} ".join(document["tags"])
    fields: dict[str, Any] = {
        "code": document["code"],
        "doc": json.dumps(document, ensure_ascii=False),
        "title_exact": normalized_title,
        "title_prefix": " ".join(
            normalized_title[:n]
            for n in range(1, min(len(normalized_title), PREFIX_CHARS) + 1)
            if not normalized_title[:n].endswith(" ")
        ),
        "title_words": text.words(title),
        "title_pinyin": " ".join(syllables),
        "title_initials": " ".join(text.initials(syllables)),
        "title_word_pinyin": " ".join(p for p, _ in spelled_words),
        "title_word_initials": " ".join(i for _, i in spelled_words),
        "category": document["category"],
        "subject": document["subject"],
        "year": document["year"],
        "hours": float(document["hours"]),
    }
    if document["series"]:
        fields["series"] = document["series"]
    for name, source in (
        ("title", title),
        ("subject", document["subject"]),
        ("tags", tags),
        ("description", document["description"]),
    ):
        source_runs = text.runs(source)
        fields[f"{name}_1"] = text.grams(source, 1, normalized_runs=source_runs)
        fields[f"{name}_2"] = text.grams(source, 2, normalized_runs=source_runs)
    return tantivy.Document(**fields)


def _contains(field: str, term: str) -> tantivy.Query:
    """Documents whose `field` text contains `term` (a normalized single run)."""
    if len(term) == 1:
        return tantivy.Query.term_query(SCHEMA, f"{field}_1", term)
    bigrams = text.query_grams(term)
    if len(bigrams) == 1:
        return tantivy.Query.term_query(SCHEMA, f"{field}_2", bigrams[0])
    return tantivy.Query.phrase_query(SCHEMA, f"{field}_2", _words(bigrams))


def _words(units: list[str]) -> list[str | tuple[int, str]]:
    return list(units)


def _tier(query: tantivy.Query, score: float) -> tuple[tantivy.Occur, tantivy.Query]:
    return tantivy.Occur.Should, tantivy.Query.const_score_query(query, score)


def _sequence(field: str, units: list[str], prefix: str = "") -> tantivy.Query:
    if prefix:
        return tantivy.Query.phrase_prefix_query(SCHEMA, field, [*units, prefix])
    if len(units) == 1:
        return tantivy.Query.term_query(SCHEMA, field, units[0])
    return tantivy.Query.phrase_query(SCHEMA, field, _words(units))


def _pinyin_clauses(term: str) -> list[tuple[tantivy.Occur, tantivy.Query]]:
    clauses = []
    split = text.split_pinyin(term)
    if split is not None and (split[0] or split[1]):
        syllables, rest = split
        clauses.append(_tier(_sequence("title_pinyin", syllables, rest), PINYIN))
        word = tantivy.Query.term_query(SCHEMA, "title_word_pinyin", term)
        clauses.append(_tier(word, PINYIN_WORD - PINYIN))
    if len(term) <= MAX_INITIALS:
        clauses.append(_tier(_sequence("title_initials", list(term)), INITIALS))
        word = tantivy.Query.term_query(SCHEMA, "title_word_initials", term)
        clauses.append(_tier(word, INITIALS_WORD - INITIALS))
    return clauses


def term_query(term: str, *, title_only: bool = False) -> tantivy.Query:
    """A document matches `term` when any of its tiers does; the best tier scores most."""
    clauses = [
        _tier(tantivy.Query.term_query(SCHEMA, "title_prefix", term), PREFIX),
        _tier(_contains("title", term), TITLE),
        (tantivy.Occur.Should, _contains("title", term)),  # BM25 within the title tier
        (tantivy.Occur.Should, tantivy.Query.term_query(SCHEMA, "title_words", term)),
    ]
    if not title_only:
        clauses += [
            _tier(_contains("subject", term), SUBJECT),
            _tier(_contains("tags", term), SUBJECT),
            _tier(_contains("description", term), DESCRIPTION),
        ]
    if is_letters(term):
        clauses += _pinyin_clauses(term)
    return tantivy.Query.boolean_query(clauses)


def _filters(query: SearchQuery) -> list[tantivy.Query]:
    filters = []
    for name in ("category", "series", "subject"):
        value = getattr(query, name)
        if value is not None:
            filters.append(tantivy.Query.term_query(SCHEMA, name, value))
    if query.year is not None:
        filters.append(tantivy.Query.term_query(SCHEMA, "year", query.year))
    if query.min_hours is not None or query.max_hours is not None:
        low = query.min_hours if query.min_hours is not None else 0.0
        high = query.max_hours if query.max_hours is not None else 1e9
        filters.append(
            tantivy.Query.range_query(SCHEMA, "hours", tantivy.FieldType.Float, low, high)
        )
    return filters


def build_query(query: SearchQuery) -> tantivy.Query:
    """The whole tantivy query: every term must match, filters must hold and do not score."""
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    query_terms = terms(query.q)
    whole = " ".join(query_terms)
    for term in query_terms:
        variants = [term_query(v) for v in (term, *text.SYNONYMS.get(term, ()))]
        either = (
            variants[0]
            if len(variants) == 1
            else tantivy.Query.boolean_query([(tantivy.Occur.Should, v) for v in variants])
        )
        clauses.append((tantivy.Occur.Must, either))
    if query_terms:
        exact = tantivy.Query.term_query(SCHEMA, "title_exact", whole)
        clauses.append(_tier(exact, EXACT))
    for condition in _filters(query):
        clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(condition, 0.0)))
    if not clauses:
        return tantivy.Query.all_query()
    if not any(occur == tantivy.Occur.Must for occur, _ in clauses):
        clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
    return tantivy.Query.boolean_query(clauses)


class EmbeddedBackend:
    """tantivy in this process; the index lives in `directory` (or in memory when None)."""

    name = "embedded"

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory / f"embedded-v{SCHEMA_VERSION}" if directory else None
        self._index: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._lock = threading.Lock()

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

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.wait_merging_threads()
            self._writer = None
            self._index = None

    # writes

    def _require(self) -> tuple[tantivy.Index, tantivy.IndexWriter]:
        if self._index is None or self._writer is None:
            raise RuntimeError("the embedded search backend is not open")
        return self._index, self._writer

    def _write(
        self, add: Sequence[SearchDocument], remove: Sequence[str], everything: bool
    ) -> None:
        with self._lock:
            index, writer = self._require()
            if everything:
                writer.delete_all_documents()
            for code in remove:
                writer.delete_documents_by_term("code", code)
            for document in add:
                if not everything:
                    writer.delete_documents_by_term("code", document["code"])
                writer.add_document(to_tantivy(document))
            writer.commit()
            index.reload()

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
            return getattr(self, "_memory_fingerprint", None)
        path = self.directory / "fingerprint"
        return path.read_text(encoding="utf-8") if path.exists() else None

    # reads

    def _search(self, query: SearchQuery) -> SearchResult:
        index, _ = self._require()
        searcher = index.searcher()
        tantivy_query = build_query(query)
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
        clauses = [(tantivy.Occur.Must, term_query(t, title_only=True)) for t in query_terms]
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
