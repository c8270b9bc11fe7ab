"""The embedded engine's schema, documents and queries: tiers, BM25 within them, and the
ranking signals (expansions, the learner's series, popularity).

A document scores, per query term, the tiers it matches; each tier outweighs everything
that can be added to the tiers below it (tiers are at least 100 apart):

    exact title  >  title starts with the term  >  title contains it  >  pinyin word  >
    pinyin  >  a typo of a pinyin word (five letters or more)  >  initials word  >
    initials  >  the term names a series  >  subject or tags  >  description

Within a tier, in this order of weight (our reading of "equally relevant": the same tier):

- expansions: a pinyin or initials term adds, for each title word it spells, up to
  EXPANSION_SPAN in proportion to the word's coverage of the catalog and of completions
  against the best-covering word's (`gq`: 枸杞 before 灌区; see `search.expansion`);
- the learner's series: SERIES_BONUS for courses of `prefer_series` and public courses;
- BM25 of the field the tier matched (title, pinyin or initials words, subject, tags),
  scaled so that it stays below SERIES_BONUS for all but freak texts (descriptions are
  constant: their BM25 would cost a second pass over the longest postings);
- popularity: distinct learners who completed the course, on a log scale (1, 2, 3, ...,
  1000 all differ) worth at most a few points, so it orders hits BM25 scores alike, and
  orders the description tier outright.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import tantivy

from search import text
from search.backend import SearchDocument, SearchQuery
from search.expansion import Expansions
from search.highlight import is_letters, terms

SCHEMA_VERSION = 2
PREFIX_CHARS = 12  # suggest ranks titles by up to this many leading characters
MAX_INITIALS = 12

EXACT, PREFIX, TITLE = 1e5, 1e4, 2e3
PINYIN_WORD, PINYIN, TYPO = 1100.0, 900.0, 700.0
INITIALS_WORD, INITIALS, SERIES, SUBJECT, DESCRIPTION = 500.0, 400.0, 300.0, 200.0, 100.0
# Within a tier: expansions (0..80) > learner's series (40) > BM25 (scaled) > popularity.
EXPANSION_SPAN = 80.0
EXPANSIONS = 6  # words of one key that get a bonus (the rest, covering little: none)
TYPO_WORDS = 3  # a typo stands for at most this many near pinyin words
SERIES_BONUS = 40.0
# A term scores its best tier; other tiers it matches add this fraction of theirs (a title
# match also in the description comes before one in the title only, all else equal).
TIE_BREAKER = 0.01
BM25_TITLE, BM25_WORDS, BM25_SUBJECT = 1.0, 1.0, 0.5
POPULARITY_BITS = 8  # popularity enters as 8 bits of 8*log2(1+n): 1, 2, 3 ... 1e6 all differ
POPULARITY_UNIT = 0.05  # 1 learner 0.4, 10 learners 1.4, 1000 learners 4.0
PUBLIC = "public"
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
    builder.add_text_field("title_word_pinyin", tokenizer_name="whitespace")
    builder.add_text_field("title_word_initials", tokenizer_name="whitespace")
    for name in ("category", "series", "subject"):
        builder.add_text_field(name, tokenizer_name="raw", fast=True)
    builder.add_integer_field("year", indexed=True, fast=True)
    builder.add_float_field("hours", indexed=True, fast=True)
    builder.add_unsigned_field("popularity", indexed=True, fast=True, stored=True)
    builder.add_text_field("popularity_bits", tokenizer_name="whitespace", index_option="basic")
    return builder.build()


SCHEMA = _schema()


def popularity_level(count: int) -> int:
    """Popularity on a log scale that still tells 1, 2, 3, ... completions apart."""
    level = round(8 * math.log2(1 + max(count, 0)))
    return min(int(level), (1 << POPULARITY_BITS) - 1)


def to_tantivy(document: SearchDocument, popularity: int = 0) -> tantivy.Document:
    """The tantivy document of a course: every field the queries below use."""
    title = document["title"]
    normalized_title = " ".join(text.runs(title))
    spelled = text.pinyin(title)
    syllables = spelled[0]
    spelled_words = text.word_pinyin(title, spelled)
    tags = f" {text.RUN_BREAK} ".join(document["tags"])
    level = popularity_level(popularity)
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
        "popularity_bits": " ".join(
            f"b{bit}" for bit in range(POPULARITY_BITS) if level >> bit & 1
        ),
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
    built = tantivy.Document(**fields)
    built.add_unsigned("popularity", max(popularity, 0))
    return built


Clause = tuple[tantivy.Occur, tantivy.Query]


def _contains(field: str, term: str) -> tantivy.Query:
    """Documents whose `field` text contains `term` (a normalized single run)."""
    if len(term) == 1:
        return tantivy.Query.term_query(SCHEMA, f"{field}_1", term)
    bigrams = text.query_grams(term)
    if len(bigrams) == 1:
        return tantivy.Query.term_query(SCHEMA, f"{field}_2", bigrams[0])
    return tantivy.Query.phrase_query(SCHEMA, f"{field}_2", list[str | tuple[int, str]](bigrams))


def _tier(query: tantivy.Query, score: float) -> Clause:
    return tantivy.Occur.Should, tantivy.Query.const_score_query(query, score)


def _bm25(query: tantivy.Query, scale: float) -> Clause:
    """BM25 of `query`, scaled to order documents within their tier."""
    scaled = query if scale == 1.0 else tantivy.Query.boost_query(query, scale)
    return tantivy.Occur.Should, scaled


def _sequence(field: str, units: list[str], prefix: str = "") -> tantivy.Query:
    if prefix:
        return tantivy.Query.phrase_prefix_query(SCHEMA, field, [*units, prefix])
    if len(units) == 1:
        return tantivy.Query.term_query(SCHEMA, field, units[0])
    return tantivy.Query.phrase_query(SCHEMA, field, list[str | tuple[int, str]](units))


def _steps(words: list[str], expansions: Expansions, best: float) -> list[Clause]:
    """Per title word, a bonus in proportion to its coverage against the best word's."""
    return [
        _tier(_contains("title", word), EXPANSION_SPAN * expansions.weight(word) / best)
        for word in words
        if expansions.weight(word) > 0
    ]


def _tiered(query: tantivy.Query, score: float, *bm25: tuple[tantivy.Query, float]) -> Any:
    """A tier: `query` matches and scores `score`, plus the scaled BM25 of `bm25`."""
    if not bm25:
        return tantivy.Query.const_score_query(query, score)
    clauses = [(tantivy.Occur.Must, tantivy.Query.const_score_query(query, score))]
    clauses += [_bm25(q, scale) for q, scale in bm25]
    return tantivy.Query.boolean_query(clauses)


def _pinyin_tiers(term: str, expansions: Expansions) -> tuple[list[Any], list[Clause]]:
    """The pinyin, typo and initials tiers of a letters term, and its expansion bonuses."""
    tiers = []
    split = text.split_pinyin(term)
    if split is not None and (split[0] or split[1]):
        syllables, rest = split
        tiers.append(_tiered(_sequence("title_pinyin", syllables, rest), PINYIN))
        word = tantivy.Query.term_query(SCHEMA, "title_word_pinyin", term)
        tiers.append(_tiered(word, PINYIN_WORD, (word, BM25_WORDS)))
    if len(term) <= MAX_INITIALS:
        tiers.append(_tiered(_sequence("title_initials", list(term)), INITIALS))
        word = tantivy.Query.term_query(SCHEMA, "title_word_initials", term)
        tiers.append(_tiered(word, INITIALS_WORD, (word, BM25_WORDS)))
    words = expansions.ranked(term)[:EXPANSIONS]
    for near in expansions.near(term)[:TYPO_WORDS]:
        near_split = text.split_pinyin(near)
        if near_split is not None and not near_split[1]:
            spelled = _sequence("title_pinyin", near_split[0])
            tiers.append(_tiered(spelled, TYPO, (spelled, BM25_WORDS)))
            words += expansions.ranked(near)[:EXPANSIONS]
    best = max((expansions.weight(w) for w in words), default=0.0)
    return tiers, _steps(words, expansions, best) if best > 0 else []


def term_query(term: str, expansions: Expansions, *, title_only: bool = False) -> tantivy.Query:
    """A document matches `term` when any of its tiers does; its best tier counts (the
    others only by TIE_BREAKER), plus the expansion bonuses of a letters term."""
    in_title = _contains("title", term)
    whole_word = tantivy.Query.term_query(SCHEMA, "title_words", term)
    tiers = [
        _tiered(
            tantivy.Query.term_query(SCHEMA, "title_prefix", term),
            PREFIX,
            (in_title, BM25_TITLE),
            (whole_word, BM25_TITLE),
        ),
        _tiered(in_title, TITLE, (in_title, BM25_TITLE), (whole_word, BM25_TITLE)),
    ]
    if not title_only:
        tiers.append(_tiered(tantivy.Query.term_query(SCHEMA, "series", term), SERIES))
        for field, score in (("subject", SUBJECT), ("tags", SUBJECT)):
            tiers.append(
                _tiered(_contains(field, term), score, (_contains(field, term), BM25_SUBJECT))
            )
        # Descriptions are long and many: their BM25 would cost a second pass over the
        # longest postings of all; within this lowest tier popularity orders hits.
        tiers.append(_tiered(_contains("description", term), DESCRIPTION))
    bonuses: list[Clause] = []
    if is_letters(term):
        pinyin_tiers, bonuses = _pinyin_tiers(term, expansions)
        tiers += pinyin_tiers
    best = tantivy.Query.disjunction_max_query(tiers, TIE_BREAKER)
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, best), *bonuses])


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


def _bonuses(query: SearchQuery) -> list[Clause]:
    """Among equally relevant hits: the learner's series and public courses, popularity."""
    bonuses = [
        _tier(
            tantivy.Query.term_query(SCHEMA, "popularity_bits", f"b{bit}"), POPULARITY_UNIT * 2**bit
        )
        for bit in range(POPULARITY_BITS)
    ]
    if query.prefer_series is not None:
        preferred = tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.term_query(SCHEMA, "series", query.prefer_series),
                ),
                (tantivy.Occur.Should, tantivy.Query.term_query(SCHEMA, "category", PUBLIC)),
            ]
        )
        bonuses.append(_tier(preferred, SERIES_BONUS))
    return bonuses


def build_query(
    query: SearchQuery, expansions: Expansions, synonyms: Callable[[str], tuple[str, ...]]
) -> tantivy.Query:
    """The whole tantivy query: every term must match, filters must hold and do not score."""
    clauses: list[Clause] = []
    query_terms = terms(query.q)
    whole = " ".join(query_terms)
    for term in query_terms:
        variants = [term_query(v, expansions) for v in (term, *synonyms(term))]
        either = (
            variants[0]
            if len(variants) == 1
            else tantivy.Query.boolean_query([(tantivy.Occur.Should, v) for v in variants])
        )
        clauses.append((tantivy.Occur.Must, either))
    if query_terms:
        exact = tantivy.Query.term_query(SCHEMA, "title_exact", whole)
        clauses.append(_tier(exact, EXACT))
        clauses += _bonuses(query)
    for condition in _filters(query):
        clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(condition, 0.0)))
    if not clauses:
        return tantivy.Query.all_query()
    if not any(occur == tantivy.Occur.Must for occur, _ in clauses):
        clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
    return tantivy.Query.boolean_query(clauses)
