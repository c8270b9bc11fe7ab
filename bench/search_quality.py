"""Relevance of course search against judgements written from learners' point of view.

    python bench/search_quality.py [--per-query] [--kind initials]

Reads `bench/search_judgements.toml` (132 queries, graded by rules over the fixture
catalog; half held out from tuning), indexes the fixture catalog (4344 courses) in the
embedded engine, and in Meilisearch too when NXCE_MEILI_URL is set (a throw-away index),
asks each query for its first ten hits (with prefer_series for a query that names a
learner's series) and prints, for the tuning half and the held-out half separately:

- nDCG@10: DCG of the ten hits (gain 2^grade - 1, discount log2(rank + 1)) over the DCG of
  the ten best-graded courses of the catalog for that query;
- MRR@10: 1 / rank of the first hit graded 2 or 3 (0 when none is in the ten), over the
  queries that have such a course;
- the same by kind of query (characters, pinyin, initials, typo, ...).

Asserts nothing; the figures go in the README with this command.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tomllib
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fixtures  # noqa: E402
from catalog.series import SERIES_NAMES  # noqa: E402
from search import text  # noqa: E402
from search.backend import SearchBackend, SearchDocument, SearchQuery  # noqa: E402
from search.embedded import EmbeddedBackend  # noqa: E402
from search.meili import MeiliBackend  # noqa: E402

JUDGEMENTS = Path(__file__).resolve().parent / "search_judgements.toml"
DEPTH = 10
RELEVANT = 2  # MRR counts the first hit graded at least this


def catalog() -> list[SearchDocument]:
    documents = []
    for course in fixtures.read_courses():
        raw = course.model_dump(mode="json")
        documents.append({k: raw[k] for k in SearchDocument.__annotations__})
    return documents  # type: ignore[return-value]


def satisfies(document: SearchDocument, rule: dict[str, Any]) -> bool:
    """Whether `document` meets every condition of a judgement rule."""
    checks = {
        "title": lambda v: v in document["title"],
        "title_all": lambda v: all(part in document["title"] for part in v),
        "series": lambda v: document["series"] == v,
        "category": lambda v: document["category"] == v,
        "subject": lambda v: document["subject"] == v,
        "subject_contains": lambda v: v in document["subject"],
        "tag": lambda v: v in document["tags"],
        "tag_contains": lambda v: any(v in tag for tag in document["tags"]),
        "description": lambda v: v in document["description"],
    }
    for key, value in rule.items():
        if key == "grade":
            continue
        if key not in checks:
            raise ValueError(f"judgement rule key {key!r} is unknown")
        if not checks[key](value):
            return False
    return True


def grades(query: dict[str, Any], documents: list[SearchDocument]) -> dict[str, int]:
    """Code -> grade of every course some rule of `query` grades."""
    graded = {}
    for document in documents:
        grade = max((r["grade"] for r in query["rules"] if satisfies(document, r)), default=0)
        if grade:
            graded[document["code"]] = grade
    return graded


def dcg(gains: list[int]) -> float:
    return sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(gains))


def ndcg(found: list[str], graded: dict[str, int]) -> float:
    ideal = dcg(sorted(graded.values(), reverse=True)[:DEPTH])
    return dcg([graded.get(code, 0) for code in found[:DEPTH]]) / ideal if ideal else 0.0


def reciprocal_rank(found: list[str], graded: dict[str, int]) -> float:
    for rank, code in enumerate(found[:DEPTH], start=1):
        if graded.get(code, 0) >= RELEVANT:
            return 1 / rank
    return 0.0


async def evaluate(
    backend: SearchBackend, queries: list[dict[str, Any]], documents: list[SearchDocument]
) -> list[dict[str, Any]]:
    rows = []
    for query in queries:
        graded = grades(query, documents)
        result = await backend.search(
            SearchQuery(q=query["q"], prefer_series=query.get("learner_series"), page_size=DEPTH)
        )
        found = [hit.document["code"] for hit in result.hits]
        rows.append(
            {
                **query,
                "ndcg": ndcg(found, graded),
                "rr": reciprocal_rank(found, graded),
                "has_relevant": any(g >= RELEVANT for g in graded.values()),
                "found": found,
                "graded": graded,
            }
        )
    return rows


def report(name: str, rows: list[dict[str, Any]], per_query: bool) -> None:
    print(f"\n{name}: {len(rows)} queries")
    for label, held in (("tuning", False), ("held-out", True)):
        part = [r for r in rows if r["held_out"] == held]
        ranked = [r for r in part if r["has_relevant"]]
        print(
            f"  {label:9} nDCG@10 {statistics.fmean(r['ndcg'] for r in part):.3f}   "
            f"MRR@10 {statistics.fmean(r['rr'] for r in ranked):.3f}   "
            f"({len(part)} queries, {len(ranked)} with a course graded 2+)"
        )
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    for kind, part in sorted(by_kind.items()):
        ranked = [r for r in part if r["has_relevant"]]
        mrr = statistics.fmean(r["rr"] for r in ranked) if ranked else float("nan")
        print(
            f"    {kind:12} nDCG@10 {statistics.fmean(r['ndcg'] for r in part):.3f}   "
            f"MRR@10 {mrr:.3f}   ({len(part)})"
        )
    if per_query:
        for row in rows:
            top = " ".join(str(row["graded"].get(c, 0)) for c in row["found"])
            flag = "H" if row["held_out"] else "T"
            print(f"  {flag} {row['id']:16} {row['ndcg']:.3f} {row['rr']:.2f}  [{top}]")


async def run(backend: SearchBackend, queries: list[dict[str, Any]], per_query: bool) -> None:
    documents = catalog()
    await backend.open()
    try:
        await backend.replace_all(documents, "search-quality")
        report(backend.name, await evaluate(backend, queries, documents), per_query)
    finally:
        if isinstance(backend, MeiliBackend):
            for uid in (backend.uid, backend.meta_uid):
                await backend._call(backend.client.delete_index, uid)
        await backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-query", action="store_true", help="print each query's figures")
    parser.add_argument("--kind", help="only queries of this kind")
    args = parser.parse_args()
    with JUDGEMENTS.open("rb") as file:
        queries = tomllib.load(file)["query"]
    if args.kind:
        queries = [q for q in queries if q["kind"] == args.kind]
    # The service teaches the segmenter the catalog's series and subjects; so does this.
    text.add_words([*SERIES_NAMES, *{d["subject"] for d in catalog()}])
    backends: list[SearchBackend] = [EmbeddedBackend(None)]
    if os.environ.get("NXCE_MEILI_URL"):
        backends.append(
            MeiliBackend(
                os.environ["NXCE_MEILI_URL"],
                os.environ.get("NXCE_MEILI_KEY"),
                uid=f"nxce_quality_{uuid.uuid4().hex[:10]}",
            )
        )
    for backend in backends:
        asyncio.run(run(backend, queries, args.per_query))


if __name__ == "__main__":
    main()
