"""Mobile sync on every backend (see conftest.py): pulls that miss nothing, an app bound to
its learner, progress as statements arrive, the same cases as tests/lrs/sync."""

from tests.credits.conftest import auditor, bound_client  # noqa: F401 - fixtures the cases take
from tests.lrs.sync.conftest import phone_of  # noqa: F401 - a Basic client or app sign-in
from tests.lrs.sync.test_hardening import (  # noqa: F401
    test_a_statement_stored_while_a_pull_runs_comes_with_the_next_pull,
    test_consistent_through_moves_on_when_nothing_is_stored,
)
from tests.lrs.sync.test_learner_scope import (  # noqa: F401
    test_the_app_keeps_state_for_its_learner_only,
    test_the_app_reads_its_learners_statements_from_every_device,
)
from tests.lrs.sync.test_progress import (  # noqa: F401
    test_courses_in_progress_and_completed_as_statements_arrive,
)
