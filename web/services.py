"""The services the pages use, each a dependency with its `Annotated` alias: the only
place in web/ that reads app.state, where the composition root puts them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from credits.context import Credits
from nxce.core.auth import Verifier
from nxce.settings import Settings
from search.backend import SearchBackend
from search.indexer import Indexer
from transcripts.exports import Runner
from transcripts.service import Transcripts
from web.session import Sessions


def credits_service(request: Request) -> Credits:
    found: Credits = request.app.state.credits
    return found


def transcripts_service(request: Request) -> Transcripts:
    found: Transcripts = request.app.state.transcripts
    return found


def exports_service(request: Request) -> Runner:
    """The runner of batch exports (a job is submitted to it once created)."""
    found: Runner = request.app.state.exports
    return found


def search_service(request: Request) -> SearchBackend:
    found: SearchBackend = request.app.state.search
    return found


def indexer_service(request: Request) -> Indexer:
    found: Indexer = request.app.state.indexer
    return found


def verifier_service(request: Request) -> Verifier:
    found: Verifier = request.app.state.verifier
    return found


def sessions_service(request: Request) -> Sessions:
    found: Sessions = request.app.state.sessions
    return found


def settings_service(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


def search_series_service(request: Request) -> tuple[str, ...]:
    """The names of the series, as the search filters offer them."""
    found: tuple[str, ...] = request.app.state.search_series
    return found


CreditsDep = Annotated[Credits, Depends(credits_service)]
TranscriptsDep = Annotated[Transcripts, Depends(transcripts_service)]
ExportsDep = Annotated[Runner, Depends(exports_service)]
SearchDep = Annotated[SearchBackend, Depends(search_service)]
IndexerDep = Annotated[Indexer, Depends(indexer_service)]
VerifierDep = Annotated[Verifier, Depends(verifier_service)]
SessionsDep = Annotated[Sessions, Depends(sessions_service)]
SettingsDep = Annotated[Settings, Depends(settings_service)]
SearchSeriesDep = Annotated[tuple[str, ...], Depends(search_series_service)]
