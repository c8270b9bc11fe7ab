"""What the record store tells the rest of the service, and what it is lent in return.

The store imports no domain package (architecture: `lrs` knows no domain). It publishes
"statements stored" and "statements voided" after a write has committed; the composition
root subscribes the domains that follow statements and lends the store the catalog's
course definitions for the Activities resource."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from lrs.directory import CourseDefinitions
from lrs.statements import store as statements
from lrs.statements.validation.statement import VOIDED

log = logging.getLogger("nxce.lrs")

StatementsListener = Callable[[list[str]], Awaitable[None]]
CountListener = Callable[[int], None]


class StatementEvents:
    """Listeners told of statements after they are stored; one instance per app.

    The statements stand whatever a listener does: a listener that fails is logged and
    the others are still told (listeners catch up on their own, e.g. the ledger at start
    and every 30 s)."""

    def __init__(self) -> None:
        self._stored: list[StatementsListener] = []
        self._voided: list[StatementsListener] = []
        self._counted: list[CountListener] = []

    def on_stored(self, listener: StatementsListener) -> None:
        """`listener(ids)` after every write, with the ids of the statements written (a
        statement sent again included: listeners are idempotent)."""
        self._stored.append(listener)

    def on_voided(self, listener: StatementsListener) -> None:
        """`listener(ids)` with the ids of the statements a write voided."""
        self._voided.append(listener)

    def on_counted(self, listener: CountListener) -> None:
        """`listener(n)` after every committed write, with how many statements it stored
        that were not stored before (a statement sent again is not counted again)."""
        self._counted.append(listener)

    def counted(self, count: int) -> None:
        for listener in self._counted:
            try:
                listener(count)
            except Exception:  # the statements are stored whatever a counter does
                log.exception("a counter of statements stored failed")

    async def published(self, statements: list[dict[str, Any]], statement_ids: list[str]) -> None:
        """The statements of a write, with their ids, are stored: tell the listeners what
        was stored and voided. They are stored already (and committed with what the
        listeners write, on the embedded store): a listener's failure never undoes them.
        One method per instance, so that writes told to the same listeners can share one
        telling (statements.store joins them)."""
        await self.stored(statement_ids)
        await self.voided(sorted({str(s["object"]["id"]).lower() for s in statements if _voids(s)}))

    async def stored(self, statement_ids: list[str]) -> None:
        if not await _tell(self._stored, statement_ids, "stored"):
            await _left_to_catch_up(statement_ids)

    async def voided(self, statement_ids: list[str]) -> None:
        if statement_ids:
            await _tell(self._voided, statement_ids, "voided")


def _voids(statement: Any) -> bool:
    verb = statement.get("verb") if isinstance(statement, dict) else None
    return isinstance(verb, dict) and verb.get("id") == VOIDED


async def _tell(listeners: list[StatementsListener], ids: list[str], what: str) -> bool:
    """Tell every listener; answers whether none failed."""
    told = True
    for listener in listeners:
        try:
            await listener(ids)
        except Exception:  # the statements are stored; the listener catches up later
            log.exception("a listener of statements %s failed; it catches up later", what)
            told = False
    return told


async def _left_to_catch_up(statement_ids: list[str]) -> None:
    """A listener of stored statements failed: the statements are marked as not taken into
    account (`projected` false), which is what the listeners catch up on. On the embedded
    store they were stored as taken into account (statements.store: the listeners' writes
    share their commit); elsewhere they were stored unmarked, and this changes nothing."""
    try:
        await statements.mark_projected(statement_ids, projected=False)
    except Exception:
        log.exception("marking %d statement(s) for catching up failed", len(statement_ids))


@dataclass
class Hooks:
    """What the composition root gives the record store: its event listeners and the
    catalog's course definitions (none: Activities are defined by statements only)."""

    events: StatementEvents = field(default_factory=StatementEvents)
    course_definition: CourseDefinitions | None = None


def hooks(request: Request) -> Hooks:
    """The record store's hooks in this app (a dependency)."""
    found: Hooks | None = getattr(request.app.state, "lrs", None)
    return found if found is not None else Hooks()
