"""The catalog's HTTP cases, run against a real MongoDB only (see conftest.py): the
embedded store runs them in tests/catalog already."""

import pytest

from tests.catalog.test_auth import *  # noqa: F403
from tests.catalog.test_bases import *  # noqa: F403
from tests.catalog.test_courses import *  # noqa: F403
from tests.catalog.test_validation import *  # noqa: F403
from tests.test_fixtures import (  # noqa: F401
    test_fixture_load_twice_changes_nothing_the_second_time,
    test_fixture_load_updates_a_changed_course_only,
)


@pytest.fixture
def backend() -> str:
    return "mongodb"
