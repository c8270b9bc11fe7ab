"""The sign-in throttle on every backend (see conftest.py): one count across replicas,
the sliding window, nothing written for a success, the TTL index; the same cases as
tests/nxce/core/test_throttle.py (whose pruning of expired windows is the embedded
store's alone: MongoDB's TTL monitor removes them)."""

import pytest

from tests.nxce.core.test_throttle import (  # noqa: F401
    test_a_key_is_let_in_again_when_its_limit_th_latest_failure_leaves_the_window,
    test_a_successful_basic_request_writes_nothing_and_a_failure_writes_two_buckets,
    test_a_typed_account_name_is_kept_only_as_a_digest,
    test_an_expired_window_counts_nothing_and_the_next_failure_starts_it_afresh,
    test_failures_counted_at_once_by_two_replicas_are_neither_lost_nor_doubled,
    test_the_windows_expire_under_a_ttl_index,
    test_two_replicas_share_one_count_of_a_keys_failures,
)


@pytest.fixture
def seed() -> bool:
    return False
