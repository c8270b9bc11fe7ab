"""The client accounts as JSON, for administrators with curl (the pages are /admin/clients):
list, register (the secret in that answer only), a new secret, disable, enable. Every
route needs the `admin` scope; the rules are those of `nxce clients create`
(nxce/core/clients.py), and each write has its line in the administrative log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from catalog import bases
from credits import learners
from nxce.core import clients
from nxce.core.auth import ADMIN, Admin
from nxce.core.clients import Client, Scope
from nxce.core.errors import NotFound, invalid
from nxce.core.json_route import JsonRoute
from nxce.core.params import QueryInt, no_query, single_valued
from nxce.core.problems import responses
from nxce.settings import KEY_PATTERN

router = APIRouter(
    prefix="/clients",
    route_class=JsonRoute,
    tags=["clients"],
    dependencies=[ADMIN, Depends(single_valued)],
    responses=responses(401, 403, 422, 429),
)
NoQuery = Depends(no_query)
KeyPath = Annotated[
    str, Path(pattern=KEY_PATTERN.pattern, description="The client's key (its user name).")
]
NOT_FOUND = responses(404)
NO_STORE = "no-store"


class ClientRead(BaseModel):
    """A client account; its secret is never shown again after it was issued."""

    key: str = Field(description="The HTTP Basic user name.")
    name: str
    scopes: list[Scope]
    learner_id: str | None = Field(description="The learner the client acts as, if any.")
    base_id: str | None = Field(description="The base a client of scope `base` acts for.")
    disabled: bool
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None = Field(
        description="When it last authenticated, to the minute (written at most once a "
        "minute); null if never since this was recorded."
    )


class ClientIssued(ClientRead):
    """A client with the secret just issued: in this answer only (stored hashed)."""

    secret: str = Field(description="The HTTP Basic password. Shown once, never again.")


class ClientPage(BaseModel):
    clients: list[ClientRead]
    total: int = Field(description="How many clients match, on all pages.")
    next: str | None = Field(description="The address of the next page, or null.")


class ClientCreate(BaseModel):
    """A new client: who it is for, what it may do, and whom it acts as or for."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=clients.NAME_MAX, description="Who the client is for.")
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    key: str | None = Field(
        None, max_length=64, description="The Basic user name (default: a random one)."
    )
    learner_id: str | None = Field(
        None, max_length=64, description="Acts as this registered learner (an app)."
    )
    base_id: str | None = Field(
        None, max_length=64, description="With the scope `base` only: the base it acts for."
    )


class ClientFilter(BaseModel):
    """Query of `GET /clients`; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=clients.NAME_MAX, description="Part of the name.")
    scope: Scope | None = None
    disabled: bool | None = None
    after: str | None = Field(None, max_length=64, description="Continue after this key.")
    limit: QueryInt = Field(clients.PAGE_SIZE, ge=1, le=clients.MAX_PAGE_SIZE)


def client_read(client: Client) -> ClientRead:
    return ClientRead.model_validate(client, from_attributes=True)


def _issued(issued: clients.Issued, response: Response) -> ClientIssued:
    response.headers["Cache-Control"] = NO_STORE
    return ClientIssued(**client_read(issued.client).model_dump(), secret=issued.secret)


async def check_bound_exists(*, learner_id: str | None, base_id: str | None) -> None:
    """The learner a client acts as is registered (and not erased), the base it acts for
    exists: 422 naming the field and the value otherwise."""
    if learner_id is not None:
        try:
            learner = await learners.get_learner(learner_id=learner_id)
        except NotFound:
            raise invalid("learner_id", "no such learner is registered", learner_id) from None
        if learner.erased_at is not None:
            raise invalid("learner_id", "the learner's personal data was erased", learner_id)
    if base_id is not None:
        try:
            await bases.get(base_id=base_id)
        except NotFound:
            raise invalid("base_id", "no such base (GET /bases lists them)", base_id) from None


@router.get("", response_model=ClientPage)
async def list_clients(request: Request, filters: Annotated[ClientFilter, Query()]) -> ClientPage:
    """Client accounts in key order, by part of the name, scope and state (admin)."""
    page = await clients.find(
        name=filters.name,
        scope=filters.scope,
        disabled=filters.disabled,
        after=filters.after,
        limit=filters.limit,
    )
    following = None
    if page.next_after is not None:
        query = {k: v for k, v in request.query_params.items() if k != "after"}
        following = f"/clients?{urlencode({**query, 'after': page.next_after})}"
    return ClientPage(
        clients=[client_read(c) for c in page.clients], total=page.total, next=following
    )


@router.post(
    "",
    response_model=ClientIssued,
    status_code=201,
    dependencies=[NoQuery],
    responses=responses(400, 409, 413, 415),
)
async def create_client(body: ClientCreate, admin: Admin, response: Response) -> ClientIssued:
    """Register a client (admin); its secret is in this answer only. 409 when the key is
    taken; 422 naming the field for a scope, binding, learner or base that does not fit."""
    clients.check_binding(scopes=body.scopes, learner_id=body.learner_id, base_id=body.base_id)
    await check_bound_exists(learner_id=body.learner_id, base_id=body.base_id)
    issued = await clients.register(
        by=admin.key,
        name=body.name,
        scopes=body.scopes,
        key=body.key,
        learner_id=body.learner_id,
        base_id=body.base_id,
    )
    response.headers["Location"] = f"/clients/{issued.client.key}"
    return _issued(issued, response)


@router.get("/{key}", response_model=ClientRead, dependencies=[NoQuery], responses=NOT_FOUND)
async def get_client(key: KeyPath) -> ClientRead:
    """One client account (admin)."""
    return client_read(await clients.get(key=key))


@router.post(
    "/{key}/secret",
    response_model=ClientIssued,
    dependencies=[NoQuery],
    responses=NOT_FOUND,
)
async def renew_secret(key: KeyPath, admin: Admin, response: Response) -> ClientIssued:
    """A new secret for the client (admin), in this answer only; the old one stops working
    at once, and web sessions signed in with it end."""
    return _issued(await clients.renew_secret(key=key, by=admin.key), response)


@router.post(
    "/{key}/disable",
    response_model=ClientRead,
    dependencies=[NoQuery],
    responses={**NOT_FOUND, **responses(409)},
)
async def disable_client(key: KeyPath, admin: Admin) -> ClientRead:
    """Disable the client (admin): refused at once on every route. 409 for the caller's
    own client and for the last enabled admin; a disabled client stays as it is."""
    return client_read(await clients.disable(key=key, by=admin.key))


@router.post(
    "/{key}/enable",
    response_model=ClientRead,
    dependencies=[NoQuery],
    responses=NOT_FOUND,
)
async def enable_client(key: KeyPath, admin: Admin) -> ClientRead:
    """Enable a disabled client again (admin), with the secret it had."""
    return client_read(await clients.enable(key=key, by=admin.key))
