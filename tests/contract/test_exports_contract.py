"""Batch exports on every backend (see conftest.py): a job made and downloaded, and the
job leases that let one process of several make it (died, taken over, given back), the
same cases as tests/transcripts/test_exports.py."""

from tests.credits.conftest import auditor, bound_client  # noqa: F401 - fixtures the cases take
from tests.transcripts.test_exports import (  # noqa: F401
    test_a_job_taken_over_by_another_process_is_left_to_it,
    test_a_job_whose_process_died_is_taken_up_again,
    test_a_stopping_process_gives_its_job_back,
    test_pdf_export_with_the_audit_by_learner_ids,
    test_who_may_export_and_see_a_job,
)
