"""One contract for every search backend (see conftest.py for which run here)."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from search.backend import SearchBackend, SearchDocument, SearchQuery
from tests.search.conftest import fixture_documents

DOCUMENTS = fixture_documents()
BY_CODE = {d["code"]: d for d in DOCUMENTS}


def crafted(code: str, title: str, **fields: Any) -> SearchDocument:
    document: dict[str, Any] = {
        "code": code,
        "title": title,
        "description": "",
        "category": "professional",
        "series": "卫生",
        "subject": "临床医学",
        "hours": 1.0,
        "year": 2022,
        "tags": [],
        "base": "宁夏医学继续教育培训中心",
        "delivery": "both",
    }
    document.update(fields)
    return document  # type: ignore[return-value]


async def all_codes(backend: SearchBackend, query: SearchQuery) -> list[str]:
    codes: list[str] = []
    page = 1
    while True:
        result = await backend.search(
            SearchQuery(**{**vars(query), "page": page, "page_size": 100})
        )
        codes += [h.document["code"] for h in result.hits]
        if len(codes) >= result.total or not result.hits:
            return codes
        page += 1


async def test_every_title_substring_finds_its_course(fixture_backend: SearchBackend) -> None:
    rng = random.Random(4344)
    for document in rng.sample(DOCUMENTS, 150):
        title = document["title"].replace(" ", "")
        length = rng.randint(1, min(6, len(title)))
        start = rng.randint(0, len(title) - length)
        query = SearchQuery(
            q=title[start : start + length],
            series=document["series"],
            subject=document["subject"],
            category=document["category"],
        )
        assert document["code"] in await all_codes(fixture_backend, query), query.q


async def test_exact_title_ranks_first(fixture_backend: SearchBackend) -> None:
    for document in random.Random(1).sample(DOCUMENTS, 40):
        result = await fixture_backend.search(SearchQuery(q=document["title"], page_size=3))
        assert result.hits[0].document["title"] == document["title"]


async def test_two_characters_find_every_title_containing_them(
    fixture_backend: SearchBackend,
) -> None:
    for q in ("枸杞", "会计", "滩羊", "护理", "档案"):
        expected = {d["code"] for d in DOCUMENTS if q in d["title"]}
        found = await all_codes(fixture_backend, SearchQuery(q=q))
        assert expected <= set(found), q
        title_hits = [c for c in found if q in BY_CODE[c]["title"]]
        assert found[: len(title_hits)] == title_hits, f"{q}: title matches must come first"


async def test_pinyin_finds_gouqi(fixture_backend: SearchBackend) -> None:
    gouqi = {d["code"] for d in DOCUMENTS if "枸杞" in d["title"]}
    for q in ("gouqi", "GouQi", "gou qi"):
        result = await fixture_backend.search(SearchQuery(q=q, page_size=20))
        top = {h.document["code"] for h in result.hits}
        assert top <= gouqi, q
        assert all("<em>枸杞</em>" in h.title_highlighted for h in result.hits), q


async def test_initials_find_gouqi_among_words_spelled_gq(fixture_backend: SearchBackend) -> None:
    gouqi = {d["code"] for d in DOCUMENTS if "枸杞" in d["title"]}
    found = await all_codes(fixture_backend, SearchQuery(q="gq"))
    assert gouqi <= set(found)
    first = await fixture_backend.search(SearchQuery(q="gq", page_size=50))
    assert all("<em>" in h.title_highlighted for h in first.hits)


async def test_pinyin_finds_kuaiji_and_tanyang(fixture_backend: SearchBackend) -> None:
    for q, word in (("kuaiji", "会计"), ("tanyang", "滩羊"), ("huli", "护理")):
        result = await fixture_backend.search(SearchQuery(q=q, page_size=5))
        assert result.hits and all(word in h.document["title"] for h in result.hits), q


async def test_traditional_characters_find_simplified_titles(
    fixture_backend: SearchBackend,
) -> None:
    simplified = await all_codes(fixture_backend, SearchQuery(q="会计"))
    traditional = await all_codes(fixture_backend, SearchQuery(q="會計"))
    assert traditional == simplified and simplified


async def test_full_width_letters_match_half_width(fixture_backend: SearchBackend) -> None:
    assert await all_codes(fixture_backend, SearchQuery(q="ＢＩＭ")) == await all_codes(
        fixture_backend, SearchQuery(q="BIM")
    )


async def test_empty_query_lists_by_filters_in_code_order(fixture_backend: SearchBackend) -> None:
    result = await fixture_backend.search(SearchQuery(series="档案", page_size=100))
    expected = sorted(d["code"] for d in DOCUMENTS if d["series"] == "档案")
    assert result.total == len(expected)
    assert [h.document["code"] for h in result.hits] == expected[:100]


async def test_filters_are_exact_and_combine(fixture_backend: SearchBackend) -> None:
    query = SearchQuery(
        category="professional", series="卫生", year=2022, min_hours=1.5, max_hours=3
    )
    expected = {
        d["code"]
        for d in DOCUMENTS
        if d["series"] == "卫生" and d["year"] == 2022 and 1.5 <= d["hours"] <= 3
    }
    assert set(await all_codes(fixture_backend, query)) == expected


async def test_facet_counts_are_correct_under_filters(fixture_backend: SearchBackend) -> None:
    result = await fixture_backend.search(
        SearchQuery(q="管理", year=2021, facets=("series", "category", "year"))
    )
    matching = [d for d in DOCUMENTS if d["year"] == 2021]
    codes = set(await all_codes(fixture_backend, SearchQuery(q="管理", year=2021)))
    matching = [d for d in matching if d["code"] in codes]
    assert result.total == len(matching)
    assert result.facets["series"] == dict(Counter(d["series"] for d in matching if d["series"]))
    assert result.facets["category"] == dict(Counter(d["category"] for d in matching))
    assert result.facets["year"] == {"2021": len(matching)}


async def test_empty_query_facets_count_the_catalog(fixture_backend: SearchBackend) -> None:
    result = await fixture_backend.search(SearchQuery(facets=("category",)))
    assert result.total == 4344
    assert result.facets["category"] == dict(Counter(d["category"] for d in DOCUMENTS))


@pytest.mark.parametrize(
    "sort", [("hours", "asc"), ("hours", "desc"), ("year", "asc"), ("code", "desc")]
)
async def test_sort_orders_hits(fixture_backend: SearchBackend, sort: tuple[str, str]) -> None:
    result = await fixture_backend.search(
        SearchQuery(q="管理", sort=sort, page_size=50)  # type: ignore[arg-type]
    )
    values = [h.document[sort[0]] for h in result.hits]  # type: ignore[literal-required]
    assert values == sorted(values, reverse=sort[1] == "desc")


async def test_paging_is_disjoint_and_complete(fixture_backend: SearchBackend) -> None:
    first = await fixture_backend.search(SearchQuery(q="枸杞", page_size=10))
    second = await fixture_backend.search(SearchQuery(q="枸杞", page=2, page_size=10))
    one = [h.document["code"] for h in first.hits]
    two = [h.document["code"] for h in second.hits]
    assert len(one) == 10 and not set(one) & set(two)
    beyond = await fixture_backend.search(SearchQuery(q="枸杞", page=1000, page_size=10))
    assert beyond.hits == [] and beyond.total == first.total


@pytest.mark.parametrize(
    "q",
    [
        '"枸杞"',
        "title:x",
        "AND",
        "OR NOT",
        "*",
        "\\",
        "枸杞*",
        "😀",
        "(",
        "[",
        "{}",
        "-会计",
        "+",
        "~",
        "'; DROP",
        "\x00",
        "a" * 100,
    ],
)
async def test_hostile_input_is_text(fixture_backend: SearchBackend, q: str) -> None:
    result = await fixture_backend.search(SearchQuery(q=q, facets=("series",)))
    assert result.total >= 0
    await fixture_backend.suggest(q, 10)


@pytest.mark.parametrize("q", ['"滩羊"', "《滩羊》", "滩羊！", "滩羊*"])
async def test_punctuation_separates_terms(fixture_backend: SearchBackend, q: str) -> None:
    quoted = await all_codes(fixture_backend, SearchQuery(q=q))
    assert set(quoted) == set(await all_codes(fixture_backend, SearchQuery(q="滩羊")))


async def test_initials_are_ambiguous_but_always_spell_the_query(
    fixture_backend: SearchBackend,
) -> None:
    found = await all_codes(fixture_backend, SearchQuery(q="kj"))
    titles = [BY_CODE[c]["title"] for c in found]
    assert any("会计" in t for t in titles) and any("科技" in t for t in titles)


async def test_suggest_puts_titles_starting_with_the_text_first(
    fixture_backend: SearchBackend,
) -> None:
    suggestions = await fixture_backend.suggest("枸杞", 10)
    assert len(suggestions) == 10
    assert all("枸杞" in s.title for s in suggestions)
    starts = [s.title.startswith("枸杞") for s in suggestions]
    assert starts == sorted(starts, reverse=True)
    assert starts[0]


async def test_suggest_completes_pinyin_prefixes(fixture_backend: SearchBackend) -> None:
    suggestions = await fixture_backend.suggest("gouq", 10)
    assert suggestions and all("枸杞" in s.title for s in suggestions)
    assert await fixture_backend.suggest("", 10) == []


async def test_index_and_delete_take_effect_at_once(small_backend: SearchBackend) -> None:
    await small_backend.index([crafted("T-1", "糖尿病足的预防与护理")])
    assert (await small_backend.search(SearchQuery(q="糖尿病足"))).total == 1
    await small_backend.index([crafted("T-1", "糖尿病视网膜病变筛查")])
    assert (await small_backend.search(SearchQuery(q="糖尿病足"))).total == 0
    assert (await small_backend.search(SearchQuery(q="视网膜"))).total == 1
    await small_backend.delete(["T-1"])
    assert (await small_backend.search(SearchQuery(q="视网膜"))).total == 0


async def test_ranking_tiers(small_backend: SearchBackend) -> None:
    await small_backend.replace_all(
        [
            crafted("D", "基层常见病诊疗", description="包括高血压的社区管理"),
            crafted("S", "慢病随访方法", subject="高血压"),
            crafted("T2", "老年高血压患者的用药管理"),
            crafted("T1", "高血压防治进展"),
            crafted("E", "高血压"),
        ],
        "tiers",
    )
    result = await small_backend.search(SearchQuery(q="高血压"))
    assert [h.document["code"] for h in result.hits] == ["E", "T1", "T2", "S", "D"]


async def test_synonyms_find_each_other(small_backend: SearchBackend) -> None:
    await small_backend.replace_all(
        [crafted("P", "公需科目学习指南", category="public", series=None)], "synonyms"
    )
    result = await small_backend.search(SearchQuery(q="公需课"))
    assert [h.document["code"] for h in result.hits] == ["P"]


async def test_replace_all_keeps_exactly_the_documents_and_fingerprint(
    small_backend: SearchBackend,
) -> None:
    await small_backend.index([crafted("OLD", "旧课程")])
    await small_backend.replace_all([crafted("NEW", "新课程")], "abc")
    assert await small_backend.fingerprint() == "abc"
    result = await small_backend.search(SearchQuery())
    assert [h.document["code"] for h in result.hits] == ["NEW"]


async def test_health_reports_ok(small_backend: SearchBackend) -> None:
    assert (await small_backend.health())["ok"] is True


async def test_popularity_orders_equally_relevant_hits(small_backend: SearchBackend) -> None:
    await small_backend.replace_all(
        [crafted(code, "枸杞制干技术") for code in ("P1", "P2", "P3", "P4")], "popularity"
    )
    await small_backend.set_popularity({"P2": 5, "P3": 1, "P4": 3})
    result = await small_backend.search(SearchQuery(q="枸杞"))
    assert [h.document["code"] for h in result.hits] == ["P2", "P4", "P3", "P1"]
    await small_backend.set_popularity({"P1": 9, "P2": 0})  # P3, P4 keep theirs
    result = await small_backend.search(SearchQuery(q="gouqi"))
    assert [h.document["code"] for h in result.hits] == ["P1", "P4", "P3", "P2"]


async def test_popularity_survives_reindexing_a_course(small_backend: SearchBackend) -> None:
    await small_backend.replace_all(
        [crafted("A", "滩羊养殖"), crafted("B", "滩羊养殖")], "popularity"
    )
    await small_backend.set_popularity({"B": 2})
    await small_backend.index([crafted("B", "滩羊养殖", hours=2.0)])
    result = await small_backend.search(SearchQuery(q="滩羊"))
    assert [h.document["code"] for h in result.hits] == ["B", "A"]


async def test_prefer_series_ranks_the_learners_series_and_public_first_among_equals(
    small_backend: SearchBackend,
) -> None:
    await small_backend.replace_all(
        [
            crafted("H", "职业道德与法规", series="卫生"),
            crafted("K", "职业道德与法规", series="会计"),
            crafted("P", "职业道德与法规", category="public", series=None),
            crafted("J", "职业道德与法规", series="建设"),
        ],
        "prefer",
    )
    await small_backend.set_popularity({"H": 8, "J": 4})
    plain = await small_backend.search(SearchQuery(q="职业道德"))
    assert [h.document["code"] for h in plain.hits][:2] == ["H", "J"]
    preferred = await small_backend.search(SearchQuery(q="职业道德", prefer_series="会计"))
    codes = [h.document["code"] for h in preferred.hits]
    assert set(codes[:2]) == {"K", "P"} and codes[2:] == ["H", "J"]
    assert preferred.total == plain.total == 4  # a ranking signal, not a filter


async def test_gq_puts_gouqi_first(fixture_backend: SearchBackend) -> None:
    result = await fixture_backend.search(SearchQuery(q="gq", page_size=10))
    assert all("枸杞" in h.document["title"] for h in result.hits)
    assert result.total > 126  # 灌区 and other gq words are still found, after 枸杞


async def test_ambiguous_initials_rank_expansions_by_coverage(
    small_backend: SearchBackend,
) -> None:
    await small_backend.replace_all(
        [
            crafted("K1", "企业会计准则解读", series="会计"),
            crafted("K2", "政府会计实务", series="会计"),
            crafted("K3", "管理会计工具", series="会计"),
            crafted("T1", "农业科技推广", series="农业"),
            crafted("T2", "科技成果转化", series="自然科研"),
        ],
        "coverage",
    )
    plain = await small_backend.search(SearchQuery(q="kj"))
    codes = [h.document["code"] for h in plain.hits]
    assert set(codes[:3]) == {"K1", "K2", "K3"} and set(codes[3:]) == {"T1", "T2"}
    researcher = await small_backend.search(SearchQuery(q="kj", prefer_series="自然科研"))
    assert researcher.hits[0].document["code"] == "T2"


async def test_expansions_weigh_completions(small_backend: SearchBackend) -> None:
    await small_backend.replace_all(
        [
            crafted("A1", "灌区节水改造"),
            crafted("A2", "灌区信息化管理"),
            crafted("B1", "枸杞制干"),
        ],
        "completions",
    )
    codes = [h.document["code"] for h in (await small_backend.search(SearchQuery(q="gq"))).hits]
    assert codes[-1] == "B1"  # 灌区 covers more of the catalog
    await small_backend.set_popularity({"B1": 50})
    codes = [h.document["code"] for h in (await small_backend.search(SearchQuery(q="gq"))).hits]
    assert codes[0] == "B1"  # 枸杞 now covers all the completions


async def test_pinyin_of_five_letters_tolerates_a_typo(fixture_backend: SearchBackend) -> None:
    for q, word in (("gouqu", "枸杞"), ("tanyag", "滩羊"), ("kuaji", "会计")):
        result = await fixture_backend.search(SearchQuery(q=q, page_size=10))
        assert result.hits and all(word in h.document["title"] for h in result.hits), q


async def test_pinyin_under_five_letters_tolerates_no_typo(small_backend: SearchBackend) -> None:
    await small_backend.index([crafted("H", "护理质量管理")])
    assert (await small_backend.search(SearchQuery(q="huli"))).total == 1
    assert (await small_backend.search(SearchQuery(q="huki"))).total == 0


async def test_bm25_orders_hits_within_a_tier(small_backend: SearchBackend) -> None:
    await small_backend.replace_all(
        [
            crafted("LONG", "基层医疗卫生机构枸杞相关慢性病健康管理与随访服务规范"),
            crafted("SHORT", "优质枸杞栽培"),
        ],
        "bm25",
    )
    for q in ("枸杞", "gouqi", "gq"):
        result = await small_backend.search(SearchQuery(q=q))
        assert [h.document["code"] for h in result.hits] == ["SHORT", "LONG"], q
