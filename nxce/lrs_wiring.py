"""Wires the record store to the catalog: a course's activity IRI resolves to its definition."""

from __future__ import annotations

from typing import Any

from catalog import service as catalog_service
from lrs.directory import CourseDefinitions
from nxce.settings import Settings

COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"


def course_definitions(settings: Settings) -> CourseDefinitions:
    """The Activity definition of a catalog course, by its activity IRI (None otherwise)."""
    extension = f"{settings.platform_home_page}/xapi/extensions/course"

    async def lookup(activity_id: str) -> dict[str, Any] | None:
        course = await catalog_service.get_by_activity(activity_id=activity_id)
        if course is None:
            return None
        return {
            "name": {"zh-CN": course.title},
            "description": {"zh-CN": course.description},
            "type": COURSE_TYPE,
            "extensions": {
                extension: {
                    "code": course.code,
                    "hours": course.hours,
                    "category": course.category.value,
                    "series": course.series,
                    "status": course.status.value,
                }
            },
        }

    return lookup
