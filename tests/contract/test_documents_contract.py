"""xAPI documents on every backend (see conftest.py): bytes kept, merges, ETags and the
concurrency they guard, the same cases as tests/lrs/documents."""

import pytest

from tests.lrs.documents.test_documents import (  # noqa: F401
    test_binary_documents_are_stored_byte_for_byte,
    test_if_match_with_a_stale_etag_is_412_and_changes_nothing,
    test_if_none_match_star_refuses_to_overwrite,
    test_post_merges_top_level_properties_of_json_objects,
    test_state_ids_since_and_registrations,
    test_state_put_then_get_returns_the_bytes_and_content_type,
    test_two_devices_merging_with_the_same_etag_never_merge_silently,
    test_two_devices_racing_on_one_state_exactly_one_wins,
)


@pytest.fixture
def seed() -> bool:
    return False
