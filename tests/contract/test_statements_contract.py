"""Statements on every backend (see conftest.py): stored once, conflicts, voiding, `more`,
since/until, Consistent-Through and attachments, the same cases as tests/lrs."""

import pytest

from tests.lrs.test_attachments import (  # noqa: F401
    test_attachments_forged_part_does_not_replace_later_real_data,
    test_attachments_missing_data_part_is_400,
    test_attachments_true_answers_multipart_with_statement_and_raw_data,
    test_attachments_true_on_a_query_answers_every_part_once,
)
from tests.lrs.test_statements_query import (  # noqa: F401
    test_statements_more_keeps_the_filters,
    test_statements_more_returns_every_statement_once_with_no_empty_page,
    test_statements_query_since_is_exclusive_and_until_inclusive_on_stored,
    test_statements_statement_ref_chain_stored_backwards_propagates,
    test_statements_stored_after_the_first_page_stay_out_of_that_query,
    test_statements_stored_strictly_increases_over_a_batch_and_across_requests,
)
from tests.lrs.test_statements_write import (  # noqa: F401
    test_statements_post_batch_with_one_conflict_stores_none,
    test_statements_post_same_id_same_content_is_noop,
    test_statements_put_same_id_different_content_is_409_and_keeps_the_first,
    test_statements_put_same_id_same_content_is_noop,
)
from tests.lrs.test_versioning import (  # noqa: F401
    test_statements_consistent_through_is_not_before_the_last_stored,
)
from tests.lrs.test_voiding import (  # noqa: F401
    test_voided_statement_is_404_by_statement_id,
    test_voided_statement_is_returned_by_voided_statement_id,
    test_voiding_a_voiding_statement_is_400_and_it_stays,
    test_voiding_stored_before_its_target_voids_it_on_arrival,
)


@pytest.fixture
def seed() -> bool:
    return False  # the record store needs no catalog
