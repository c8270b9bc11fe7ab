"""HTTP routes of accounts: activation, the app's sign-in and refresh, devices, passwords;
and the admin's: activation codes and learners' devices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from accounts import app_sign_in, service
from accounts.app_sign_in import SignedIn
from accounts.context import Accounts
from accounts.schemas import (
    Activation,
    ActivationCodeRead,
    AppSignIn,
    DeviceRead,
    PasswordChange,
    RefreshRequest,
    TokenRead,
)
from credits.routes import learners_router
from nxce.core.auth import ADMIN, Admin, Authenticated, Principal
from nxce.core.devices import Device
from nxce.core.errors import Forbidden
from nxce.core.json_route import JsonRoute
from nxce.core.params import no_query, single_valued
from nxce.core.problems import responses

router = APIRouter(
    prefix="/auth",
    tags=["accounts"],
    route_class=JsonRoute,
    dependencies=[Depends(single_valued), Depends(no_query)],  # no route here takes any
    responses=responses(400, 413, 422),
)
admin_router = learners_router()
NO_QUERY = Depends(no_query)


def _accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


AccountsDep = Annotated[Accounts, Depends(_accounts)]


Caller = Authenticated


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _learner_of(principal: Principal) -> str:
    if principal.learner_id is None:
        raise Forbidden(f"client {principal.key!r} is not signed in as a learner")
    return principal.learner_id


def _tokens(signed: SignedIn, response: Response) -> TokenRead:
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1
    return TokenRead(
        access_token=signed.access_token,
        expires_in=signed.expires_in,
        refresh_token=signed.refresh_token,
        learner_id=signed.learner_id,
        device_id=signed.device_id,
    )


def _device_read(device: Device, principal: Principal | None) -> DeviceRead:
    return DeviceRead(
        device_id=device.device_id,
        name=device.name,
        created_at=device.created_at,
        last_used_at=device.last_used_at,
        current=principal is not None and principal.device_id == device.device_id,
    )


@router.post("/activate", status_code=204, responses=responses(415, 429))
async def activate(body: Activation, accounts: AccountsDep, request: Request) -> Response:
    """Set a learner's password with the activation code an admin issued (then used up).
    A wrong, used or expired code is one 400; a password breaking a rule is a 422 naming
    it (10-128 characters, not one character repeated, not containing the learner id, id
    number or phone). Every device of the learner is signed out."""
    await service.activate(
        accounts=accounts,
        account=body.account,
        code=body.code,
        password=body.password,
        address=_address(request),
    )
    return Response(status_code=204)


@router.post("/app-sign-in", response_model=TokenRead, responses=responses(401, 415, 429))
async def app_sign_in_route(
    body: AppSignIn, accounts: AccountsDep, request: Request, response: Response
) -> TokenRead:
    """Sign an app in as a learner on a new device: a 15-minute Bearer access token for
    `/xapi` and the learner's own routes, and a refresh token bound to the device. A wrong
    account name or password is one 401, whichever it was; failures are throttled (429)."""
    signed = await app_sign_in.app_sign_in(
        accounts=accounts,
        account=body.account,
        password=body.password,
        device=body.device,
        address=_address(request),
    )
    return _tokens(signed, response)


@router.post("/refresh", response_model=TokenRead, responses=responses(401, 415))
async def refresh(body: RefreshRequest, accounts: AccountsDep, response: Response) -> TokenRead:
    """A new pair for a refresh token, which is spent. The same refresh retried within 60 s
    (its answer lost) answers the same pair; a spent token used after that signs the
    device out (replay) and is a 401."""
    signed = await app_sign_in.refresh(accounts=accounts, refresh_token=body.refresh_token)
    return _tokens(signed, response)


@router.get("/devices", response_model=list[DeviceRead], responses=responses(401, 403, 429))
async def devices(caller: Caller) -> list[DeviceRead]:
    """The devices the caller's learner is signed in on (`current`: this request's)."""
    learner_id = _learner_of(caller)
    return [_device_read(d, caller) for d in await app_sign_in.devices_of(learner_id=learner_id)]


@router.delete("/devices/{device_id}", status_code=204, responses=responses(401, 403, 404, 429))
async def sign_out(device_id: str, caller: Caller) -> Response:
    """Sign one of the learner's devices out, at once: its access token is refused from
    the next request on, its refresh token too."""
    learner_id = _learner_of(caller)
    await app_sign_in.sign_out(learner_id=learner_id, device_id=device_id, by=caller.key)
    return Response(status_code=204)


@router.post("/password", status_code=204, responses=responses(401, 403, 415, 429))
async def change_password(
    body: PasswordChange, caller: Caller, accounts: AccountsDep, request: Request
) -> Response:
    """A signed-in learner's new password, the current one required (422 naming `old`
    when wrong); the learner's other devices are signed out."""
    learner_id = _learner_of(caller)
    await service.change_password(
        accounts=accounts,
        learner_id=learner_id,
        old=body.old,
        new=body.new,
        address=_address(request),
        keep_device=caller.device_id,
    )
    return Response(status_code=204)


@admin_router.post(
    "/{learner_id}/activation-code",
    response_model=ActivationCodeRead,
    status_code=201,
    dependencies=[ADMIN, NO_QUERY],
    responses=responses(413),
)
async def issue_code(learner_id: str, admin: Admin, accounts: AccountsDep) -> ActivationCodeRead:
    """A new activation code for the learner (admin), shown once; any earlier code stops
    working. The learner sets a password with it (POST /auth/activate): this is how a
    forgotten password is reset. The current password works until the code is used."""
    issued = await service.issue_code(accounts=accounts, learner_id=learner_id, by=admin.key)
    return ActivationCodeRead(code=issued.code, expires_at=issued.expires_at)


@admin_router.get(
    "/{learner_id}/devices", response_model=list[DeviceRead], dependencies=[ADMIN, NO_QUERY]
)
async def learner_devices(learner_id: str) -> list[DeviceRead]:
    """The devices a learner is signed in on (admin)."""
    return [_device_read(d, None) for d in await app_sign_in.devices_of(learner_id=learner_id)]


@admin_router.delete(
    "/{learner_id}/devices/{device_id}", status_code=204, dependencies=[ADMIN, NO_QUERY]
)
async def learner_sign_out(learner_id: str, device_id: str, admin: Admin) -> Response:
    """Sign one of a learner's devices out at once (admin)."""
    await app_sign_in.sign_out(
        learner_id=learner_id, device_id=device_id, by=admin.key, by_admin=True
    )
    return Response(status_code=204)
