"""Catalog services below HTTP: races between writers, and the shape of their errors."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from catalog import bases, service
from catalog.models import Base, Course
from catalog.schemas import BaseUpdate, CourseUpdate
from nxce.core import db
from nxce.core.errors import Conflict, Unprocessable


async def test_course_write_that_lost_a_race_is_409_and_loses_nothing(app: FastAPI) -> None:
    stale = await service.get(code="KJ-0001")
    winner = await service.update(code="KJ-0001", patch=CourseUpdate(hours=3), by="a")
    assert winner.revision == 2
    with pytest.raises(Conflict, match="changed by another request"):
        await service._apply(stale, {"title": "会计新规"}, "b", service.ChangeAction.updated, None)
    stored = await service.get(code="KJ-0001")
    assert (stored.hours, stored.revision, stored.title) == (3, 2, winner.title)
    history = await service.history(code="KJ-0001")
    assert [h.by for h in history] == ["fixtures", "a"]


async def test_base_write_that_lost_a_race_is_409(app: FastAPI) -> None:
    base = await Base.find_one({})
    assert base is not None
    other = "national" if base.level != "national" else "regional"
    await bases.update(base_id=str(base.id), patch=BaseUpdate(level=other), by="a")
    with pytest.raises(Conflict):
        await bases._save(base, {"level": "municipal"})


async def test_service_validation_errors_carry_the_field(app: FastAPI) -> None:
    with pytest.raises(Unprocessable) as caught:
        await service.update(code="GX-0001", patch=CourseUpdate(category="professional"), by="a")
    assert caught.value.extra["errors"][0]["field"] == "series"


async def test_write_timestamps_have_the_precision_mongodb_stores(app: FastAPI) -> None:
    course = await service.update(code="KJ-0001", patch=CourseUpdate(hours=4), by="a")
    assert course.updated_at.microsecond % 1000 == 0
    raw = await db.collection(Course).find_one({"code": "KJ-0001"})
    assert raw["updated_at"] == course.updated_at
