"""The catalog fixture: the notice's totals, every series, idempotent loading, and the
service seeding an empty store with it."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import fixtures
from catalog import service
from catalog.series import SERIES, SERIES_NAMES
from fixtures import check, generate
from nxce.app import create_app
from nxce.core import embedded_copy
from nxce.settings import Settings
from tests.conftest import SeededStore


def test_fixture_committed_files_match_the_generator_and_totals() -> None:
    assert check.problems() == []


def test_fixture_has_4344_courses_and_8255_hours() -> None:
    courses = fixtures.read_courses()
    assert len(courses) == 4344  # §四
    assert sum(c.hours for c in courses) == 8255  # §四
    assert all(c.hours > 0 and (c.hours * 2).is_integer() for c in courses)


def test_fixture_covers_public_courses_and_all_23_series() -> None:
    by_series = Counter(c.series for c in fixtures.read_courses())
    assert set(by_series) == {None, *SERIES_NAMES}
    assert all(count >= 50 for count in by_series.values())


def test_fixture_codes_follow_their_series() -> None:
    prefixes = {s.name: s.code_prefix for s in SERIES}
    for course in fixtures.read_courses():
        expected = "GX" if course.series is None else prefixes[course.series]
        assert re.fullmatch(rf"{expected}-\d{{4}}", course.code), course.code
        assert (course.category == "public") == (course.series is None)


def test_fixture_titles_are_chinese_and_unique() -> None:
    courses = fixtures.read_courses()
    assert len({c.title for c in courses}) == len(courses)
    assert all(re.search(r"[\u4e00-\u9fff]{2}", c.title) for c in courses)
    assert all(c.description.startswith("本课程面向") for c in courses)


def test_fixture_multi_part_courses_number_their_parts_in_order() -> None:
    parts: dict[str, list[str]] = {}
    for course in fixtures.read_courses():
        match = re.fullmatch(r"(.+)（([一二三四])）", course.title)
        if match:
            parts.setdefault(match.group(1), []).append(match.group(2))
    assert parts
    assert all(numbers == list("一二三四")[: len(numbers)] for numbers in parts.values())


def test_fixture_generator_is_deterministic() -> None:
    assert generate.render_courses(generate.courses()) == generate.render_courses(
        generate.courses()
    )


async def test_fixture_load_twice_changes_nothing_the_second_time(app: object) -> None:
    again = await service.load(
        courses=fixtures.read_courses(), activity_base="https://nxce.example/a"
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4344)


async def test_fixture_load_updates_a_changed_course_only(app: object) -> None:
    courses = fixtures.read_courses()
    courses[0] = courses[0].model_copy(update={"title": "习近平新时代中国特色社会主义思想学习纲要"})
    report = await service.load(courses=courses, activity_base="https://nxce.example/a")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 4343)
    course = await service.get(code=courses[0].code)
    assert course.title == "习近平新时代中国特色社会主义思想学习纲要" and course.revision == 2
    history = await service.history(code=courses[0].code)
    assert [h.action for h in history] == ["created", "updated"]


def without_times(value: Any) -> Any:
    """`value` without what differs from one load to the next (ids, times)."""
    if isinstance(value, dict):
        kept = (k for k in value if k != "_id" and not k.endswith("_at"))
        return {k: without_times(value[k]) for k in kept}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


async def contents(database: Any, name: str) -> tuple[dict[str, Any], list[Any]]:
    """A collection's indexes and documents, without ids and times."""
    collection = database[name]
    documents = [without_times(doc) async for doc in collection.find({})]
    return await collection.index_information(), documents


async def test_service_seeds_an_empty_store_as_the_tests_seeded_store(
    settings: Settings, seeded_store: SeededStore
) -> None:
    """Test services start on copies of one seeded store (tests/conftest.py); a service
    that connects to an empty store must seed the same catalog, bases and indexes."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        seeded = application.state.database
        copied = embedded_copy.copied(seeded_store.client)[settings.database]
        names = set(await copied.list_collection_names())
        assert names <= set(await seeded.list_collection_names())
        assert await seeded.courses.count_documents({}) == 4344
        for name in names - {"clients"}:  # the service also made its admin client
            assert await contents(seeded, name) == await contents(copied, name), name
