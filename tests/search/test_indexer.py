"""The indexer: background sync, readiness, changes during a rebuild, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from search.backend import SearchDocument, SearchQuery
from search.embedded import EmbeddedBackend
from search.indexer import Indexer
from tests.search.test_contract import crafted


class SlowBackend(EmbeddedBackend):
    """An embedded backend whose rebuild waits until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__(None)
        self.release = asyncio.Event()
        self.fail_index = False

    async def replace_all(self, documents: Sequence[SearchDocument], fingerprint: str) -> None:
        await self.release.wait()
        await super().replace_all(documents, fingerprint)

    async def index(self, documents: Sequence[SearchDocument]) -> None:
        if self.fail_index:
            raise RuntimeError("index unreachable")
        await super().index(documents)


async def codes(backend: EmbeddedBackend, q: str = "") -> list[str]:
    return [h.document["code"] for h in (await backend.search(SearchQuery(q=q))).hits]


@pytest.fixture
async def slow() -> Any:
    backend = SlowBackend()
    await backend.open()
    yield backend
    await backend.close()


async def test_not_ready_until_the_first_build_ends(slow: SlowBackend) -> None:
    async def source() -> list[SearchDocument]:
        return [crafted("A", "心肺复苏技术")]

    indexer = Indexer(slow, source)
    await indexer.start()
    await asyncio.sleep(0.01)
    assert indexer.ready is False
    slow.release.set()
    await indexer.wait()
    assert indexer.ready is True and await codes(slow) == ["A"]


async def test_changes_during_a_rebuild_are_applied_after_it(slow: SlowBackend) -> None:
    async def source() -> list[SearchDocument]:
        return [crafted("A", "心肺复苏技术"), crafted("B", "急诊分诊")]

    indexer = Indexer(slow, source)
    await indexer.start()
    await asyncio.sleep(0.01)
    await indexer.course_changed("B", None)  # retired while the snapshot is indexed
    await indexer.course_changed("C", crafted("C", "院前急救"))
    slow.release.set()
    await indexer.wait()
    assert sorted(await codes(slow)) == ["A", "C"]


async def test_an_index_from_an_earlier_start_answers_at_once(tmp_path: Any) -> None:
    first = EmbeddedBackend(tmp_path)
    await first.open()

    async def source() -> list[SearchDocument]:
        return [crafted("A", "心肺复苏技术")]

    await Indexer(first, source).sync()
    await first.close()
    again = EmbeddedBackend(tmp_path)
    await again.open()
    indexer = Indexer(again, source)
    await indexer.start()
    assert indexer.ready is True
    await indexer.wait()
    assert await indexer.sync() == "index current (1 courses)"
    await again.close()


async def test_a_failed_update_marks_the_index_stale(slow: SlowBackend) -> None:
    slow.release.set()

    async def source() -> list[SearchDocument]:
        return []

    indexer = Indexer(slow, source)
    await indexer.sync()
    slow.fail_index = True
    await indexer.course_changed("A", crafted("A", "心肺复苏技术"))
    assert indexer.stale is True
    slow.fail_index = False
    await indexer.sync(force=True)
    assert indexer.stale is False


async def test_courses_changed_together_are_indexed_and_removed_in_one_go(
    slow: SlowBackend,
) -> None:
    async def source() -> list[SearchDocument]:
        return [crafted("A", "心肺复苏技术"), crafted("B", "急诊分诊")]

    indexer = Indexer(slow, source)
    await indexer.start()
    await asyncio.sleep(0.01)
    await indexer.courses_changed([("B", None), ("C", crafted("C", "院前急救"))])  # queued
    slow.release.set()
    await indexer.wait()
    assert sorted(await codes(slow)) == ["A", "C"]
    await indexer.courses_changed([("A", None), ("D", crafted("D", "枸杞病虫害防治"))])
    assert sorted(await codes(slow)) == ["C", "D"]
    slow.fail_index = True
    await indexer.courses_changed([("E", crafted("E", "滩羊养殖"))])
    assert indexer.stale is True
