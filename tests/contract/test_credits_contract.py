"""Crediting and the audit on every backend (see conftest.py): completions credit once,
voiding un-credits, the year in China Standard Time, reviews, the audit's verdicts, and a
rebuild that gives the same ledger, the same cases as tests/credits."""

from pathlib import Path
from typing import Any

import pytest

from tests.credits.conftest import (  # noqa: F401 - fixtures the cases take
    auditor,
    bound_client,
    policy_covering_this_year,
)
from tests.credits.test_audit import (  # noqa: F401
    test_pending_and_reversed_entries_are_listed_and_not_counted_s1_2,
    test_worked_example_intermediate_passes_exactly_s1_2,
    test_worked_example_with_platform_completions_s1_1_s1_2,
)
from tests.credits.test_automatic import (  # noqa: F401
    test_a_learners_app_cannot_credit_another_learner_s1_1,
    test_auditor_approves_a_pending_entry_and_it_counts_s1_1,
    test_completion_sent_twice_with_the_same_id_credits_once_s1_1,
    test_completion_year_is_the_year_in_china_standard_time_s1_1,
    test_public_completion_credits_course_hours_once_s1_1,
    test_second_completion_with_another_id_credits_once_s1_1,
    test_voided_completion_reverses_its_entry_and_the_audit_drops_it_s1_1,
    test_voiding_one_of_two_completions_keeps_the_course_credited_s1_1,
)
from tests.credits.test_rebuild import (  # noqa: F401
    test_rebuild_reproduces_the_ledger_with_a_voided_completion,
)


@pytest.fixture
def extra_settings(tmp_path: Path) -> dict[str, Any]:
    """A (test) policy covering the current year, as tests/credits/test_automatic.py runs."""
    return {"policy_dir": policy_covering_this_year(tmp_path / "policies")}
