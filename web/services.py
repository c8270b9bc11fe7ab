"""The services the pages use, each a dependency with its `Annotated` alias: the only
place in web/ that reads app.state, where the composition root puts them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from accounts.context import Accounts
from catalog.events import CatalogEvents
from catalog.programme import Programme
from credits.context import Credits
from nxce.core.auth import Verifier
from nxce.settings import Settings
from search.backend import SearchBackend
from search.indexer import Indexer
from transcripts.exports import Runner
from transcripts.service import Transcripts
from web.session import Sessions

T = TypeVar("T")


def _from_app(name: str, kind: type[T]) -> Callable[[Request], T]:
    """A dependency answering the service the app factory put on `app.state.<name>`."""

    def dependency(request: Request) -> T:
        found: T = getattr(request.app.state, name)
        return found

    dependency.__name__ = f"{name}_service"
    return dependency


sessions_service = _from_app("sessions", Sessions)  # also for pages answered outside a route

CreditsDep = Annotated[Credits, Depends(_from_app("credits", Credits))]
TranscriptsDep = Annotated[Transcripts, Depends(_from_app("transcripts", Transcripts))]
# The runner of batch exports (a job is submitted to it once created).
ExportsDep = Annotated[Runner, Depends(_from_app("exports", Runner))]
SearchDep = Annotated[SearchBackend, Depends(_from_app("search", SearchBackend))]
IndexerDep = Annotated[Indexer, Depends(_from_app("indexer", Indexer))]
VerifierDep = Annotated[Verifier, Depends(_from_app("verifier", Verifier))]
SessionsDep = Annotated[Sessions, Depends(sessions_service)]
# Learners' accounts: sign-in by password, activation codes, devices.
AccountsDep = Annotated[Accounts, Depends(_from_app("accounts", Accounts))]
SettingsDep = Annotated[Settings, Depends(_from_app("settings", Settings))]
# The names of the series, as the search filters offer them.
SearchSeriesDep = Annotated[tuple[str, ...], Depends(_from_app("search_series", tuple))]
# The knowledge-update programme's collaborators (certificate codes, the learner lookup),
# and the catalog's events (a result recorded is credited by their listeners).
ProgrammeDep = Annotated[Programme, Depends(_from_app("programme", Programme))]
CatalogEventsDep = Annotated[CatalogEvents, Depends(_from_app("catalog_events", CatalogEvents))]
