"""The Meilisearch backend without a server: the requests it builds and how it reads
answers, against a recording stand-in for the client. The contract suite covers a real
server when NXCE_MEILI_URL is set."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from meilisearch.errors import MeilisearchApiError

from search import meili
from search.backend import SearchQuery
from tests.search.test_contract import crafted


@dataclass
class Task:
    task_uid: int


class FakeIndex:
    def __init__(self, client: FakeClient, uid: str) -> None:
        self.client, self.uid = client, uid

    def _task(self, *call: Any) -> Task:
        self.client.calls.append((self.uid, *call))
        return Task(len(self.client.calls))

    def update_settings(self, body: dict[str, Any]) -> Task:
        return self._task("settings", body)

    def add_documents(self, documents: list[dict[str, Any]], primary_key: str) -> Task:
        self.client.documents.setdefault(self.uid, {}).update(
            {d[primary_key]: d for d in documents}
        )
        return self._task("add", len(documents))

    def update_documents(self, documents: list[dict[str, Any]], primary_key: str) -> Task:
        stored = self.client.documents.setdefault(self.uid, {})
        for document in documents:
            stored[document[primary_key]] = {**stored.get(document[primary_key], {}), **document}
        return self._task("update", len(documents))

    def delete_documents(self, ids: list[str]) -> Task:
        return self._task("delete", ids)

    def get_document(self, key: str) -> Any:
        try:
            return SimpleNamespace(**self.client.documents[self.uid][key])
        except KeyError:
            raise MeilisearchApiError(
                "not found", SimpleNamespace(status_code=404, text="{}")
            ) from None

    def search(self, q: str, params: dict[str, Any]) -> dict[str, Any]:
        self.client.calls.append((self.uid, "search", q, params))
        return self.client.answer


class FakeClient:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.indexes: set[str] = set()
        self.documents: dict[str, dict[str, dict[str, Any]]] = {}
        self.answer: dict[str, Any] = {"hits": [], "totalHits": 0}
        self.failed_task: int | None = None

    def get_index(self, uid: str) -> FakeIndex:
        if uid not in self.indexes:
            error = MeilisearchApiError("missing", SimpleNamespace(status_code=404, text="{}"))
            error.code = "index_not_found"
            raise error
        return FakeIndex(self, uid)

    def index(self, uid: str) -> FakeIndex:
        return FakeIndex(self, uid)

    def create_index(self, uid: str, options: dict[str, Any]) -> Task:
        self.indexes.add(uid)
        self.calls.append((uid, "create", options))
        return Task(len(self.calls))

    def delete_index(self, uid: str) -> Task:
        self.indexes.discard(uid)
        self.calls.append((uid, "drop"))
        return Task(len(self.calls))

    def swap_indexes(self, swaps: list[dict[str, Any]]) -> Task:
        self.calls.append(("*", "swap", swaps))
        return Task(len(self.calls))

    def wait_for_task(self, uid: int, timeout: int) -> Any:
        status = "failed" if uid == self.failed_task else "succeeded"
        return SimpleNamespace(status=status, error={"message": "boom"})

    def health(self) -> dict[str, str]:
        return {"status": "available"}

    def multi_search(
        self, queries: list[dict[str, Any]], federation: dict[str, Any]
    ) -> dict[str, Any]:
        self.calls.append(("*", "multi_search", queries, federation))
        return self.answer


@pytest.fixture
def fake() -> FakeClient:
    return FakeClient()


@pytest.fixture
def backend(fake: FakeClient) -> meili.MeiliBackend:
    return meili.MeiliBackend("http://meili.test", "key", "courses", client=fake)


def test_filter_values_are_quoted_and_escaped() -> None:
    query = SearchQuery(series="卫生", subject='临床"医学\\', year=2022, min_hours=1, max_hours=2.5)
    assert meili.filter_expression(query) == (
        'status = "published" AND series = "卫生" AND subject = "临床\\"医学\\\\" '
        "AND year = 2022 AND hours >= 1.0 AND hours <= 2.5"
    )


def test_search_params_sort_empty_queries_by_code_and_ask_facets() -> None:
    params = meili.search_params(SearchQuery(page=3, page_size=10, facets=("series",)))
    assert (params["page"], params["hitsPerPage"], params["sort"], params["facets"]) == (
        3,
        10,
        ["code:asc"],
        ["series"],
    )
    ranked = meili.search_params(SearchQuery(q="枸杞", sort=("hours", "desc")))
    assert ranked["sort"] == ["hours:desc"]


def test_documents_carry_title_pinyin_and_initials() -> None:
    document = meili.meili_document(crafted("A", "宁夏枸杞栽培"))
    assert "gouqi" in document["title_pinyin"].split()
    assert "gq" in document["title_initials"].split()
    assert document["status"] == "published"


def test_answers_become_results_with_our_highlight() -> None:
    hit = {**crafted("A", "宁夏枸杞栽培"), "_rankingScore": 0.9}
    answer = {"hits": [hit], "totalHits": 41, "facetDistribution": {"series": {"枸杞": 41}}}
    result = meili.result_from(answer, SearchQuery(q="gouqi", facets=("series",)))
    assert result.total == 41 and result.facets == {"series": {"枸杞": 41}}
    assert result.hits[0].title_highlighted == "宁夏<em>枸杞</em>栽培"
    assert result.hits[0].score == 0.9


async def test_open_creates_the_index_and_applies_settings(
    backend: meili.MeiliBackend, fake: FakeClient
) -> None:
    await backend.open()
    assert ("courses", "create", {"primaryKey": "code"}) in fake.calls
    settings = next(c[2] for c in fake.calls if c[1] == "settings")
    assert settings["searchableAttributes"][0] == "title"
    assert settings["sortableAttributes"] == ["hours", "year", "code"]
    assert settings["synonyms"]["公需课"] == ["公需科目"]


async def test_index_pushes_batches_and_waits(
    backend: meili.MeiliBackend, fake: FakeClient
) -> None:
    await backend.index([crafted(f"C{n}", "课程") for n in range(2500)])
    assert [c[2] for c in fake.calls if c[1] == "update"] == [1000, 1000, 500]


async def test_popularity_is_a_partial_update_kept_by_reindexing_and_rebuilds(
    backend: meili.MeiliBackend, fake: FakeClient
) -> None:
    await backend.index([crafted("A", "枸杞栽培")])
    await backend.set_popularity({"A": 7})
    assert fake.documents["courses"]["A"]["popularity"] == 7
    await backend.index([crafted("A", "枸杞栽培技术")])
    stored = fake.documents["courses"]["A"]
    assert (stored["title"], stored["popularity"]) == ("枸杞栽培技术", 7)
    await backend.replace_all([crafted("A", "枸杞栽培技术"), crafted("B", "滩羊")], "fp")
    rebuilt = fake.documents["courses_building"]
    assert (rebuilt["A"]["popularity"], rebuilt["B"]["popularity"]) == (7, 0)


def test_settings_rank_by_popularity_after_relevance_and_tolerate_pinyin_typos() -> None:
    settings = meili.settings()
    rules = settings["rankingRules"]
    assert rules[-1] == "popularity:desc" and rules.index("exactness") < len(rules) - 1
    assert settings["typoTolerance"]["minWordSizeForTypos"]["oneTypo"] == 5


async def test_a_failed_task_raises(backend: meili.MeiliBackend, fake: FakeClient) -> None:
    fake.failed_task = 1
    with pytest.raises(RuntimeError, match="failed"):
        await backend.index([crafted("A", "课程")])


async def test_replace_all_swaps_in_a_fresh_index_and_keeps_the_fingerprint(
    backend: meili.MeiliBackend, fake: FakeClient
) -> None:
    await backend.replace_all([crafted("A", "课程")], "abc")
    steps = [c[:2] for c in fake.calls]
    assert steps.index(("courses_building", "create")) < steps.index(("*", "swap"))
    last_drop = max(i for i, step in enumerate(steps) if step == ("courses_building", "drop"))
    assert steps.index(("*", "swap")) < last_drop
    assert await backend.fingerprint() == "abc"


async def test_search_and_suggest_send_the_query(
    backend: meili.MeiliBackend, fake: FakeClient
) -> None:
    await backend.search(SearchQuery(q=" 枸杞 ", series="枸杞"))
    uid, _, q, params = next(c for c in fake.calls if c[1] == "search")
    assert (uid, q) == ("courses", "枸杞") and 'series = "枸杞"' in params["filter"]
    fake.answer = {"hits": [{"code": "A", "title": "枸杞栽培"}]}
    suggestions = await backend.suggest("gouq", 10)
    assert suggestions[0].title_highlighted == "<em>枸杞</em>栽培"
    assert (await backend.health())["ok"] is True


async def test_a_learners_series_is_a_federated_search_weighting_it_up(
    backend: meili.MeiliBackend, fake: FakeClient
) -> None:
    fake.answer = {
        "hits": [{**crafted("K", "会计职业道德"), "_rankingScore": 0.8}],
        "estimatedTotalHits": 12,
        "facetDistribution": {"series": {"会计": 12}},
    }
    query = SearchQuery(q="职业道德", year=2022, prefer_series="会计", page=2, page_size=5)
    result = await backend.search(SearchQuery(**{**vars(query), "facets": ("series",)}))
    _, _, queries, federation = next(c for c in fake.calls if c[1] == "multi_search")
    preferred, rest = queries
    assert preferred["federationOptions"]["weight"] > 1 and "federationOptions" not in rest
    assert preferred["filter"].endswith('AND (series = "会计" OR category = "public")')
    assert rest["filter"].endswith('AND NOT (series = "会计" OR category = "public")')
    assert all("year = 2022" in q["filter"] and q["q"] == "职业道德" for q in queries)
    assert (federation["offset"], federation["limit"]) == (5, 5)
    assert federation["facetsByIndex"] == {"courses": ["series"]}
    assert result.total == 12 and result.facets == {"series": {"会计": 12}}
    await backend.search(SearchQuery(q="", prefer_series="会计"))  # no text: plain listing
    await backend.search(SearchQuery(q="道德", prefer_series="会计", sort=("hours", "asc")))
    assert sum(1 for c in fake.calls if c[1] == "multi_search") == 1
