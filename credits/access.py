"""Who may read a learner's records (§ "Roles" of the credits issue).

Admins and auditors read every learner; a learner-bound client (the app acting as the
learner) reads its own learner only. National id numbers are shown in full to auditors
alone, not merely to admins.
"""

from __future__ import annotations

from nxce.core.auth import Principal
from nxce.core.clients import Scope
from nxce.core.errors import Forbidden


def can_read(principal: Principal, learner_id: str) -> bool:
    return (
        principal.holds(Scope.admin)
        or principal.holds(Scope.auditor)
        or principal.learner_id == learner_id
    )


def check_read(principal: Principal, learner_id: str) -> None:
    if not can_read(principal, learner_id):
        raise Forbidden(f"client {principal.key!r} may not read learner {learner_id!r}")


def check_auditor(principal: Principal) -> None:
    if not (principal.holds(Scope.auditor) or principal.holds(Scope.admin)):
        raise Forbidden(f"client {principal.key!r} is not an auditor")


def sees_full_id_numbers(principal: Principal) -> bool:
    return Scope.auditor.value in principal.scopes
