"""HTTP routes of the document resources and of Activities and Agents, under /xapi.

State (`/activities/state`), Activity Profile (`/activities/profile`) and Agent Profile
(`/agents/profile`) store documents of any content type byte for byte; `/activities` and
`/agents` answer what the LRS knows of an Activity or an Agent (Communication 2.2-2.7).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from lrs import directory, identity, openapi
from lrs.documents import service
from lrs.documents.models import Kind
from lrs.documents.service import Conditions, Identity
from lrs.events import hooks
from lrs.statements import primitives
from lrs.statements.validation.actors import ActorChecker
from lrs.statements.validation.values import StatementInvalid
from lrs.versions import V2, XapiVersion
from nxce.core import json_input
from nxce.core.auth import Principal, authenticate
from nxce.core.clients import Scope
from nxce.core.errors import BadRequest, Forbidden, NotFound
from nxce.core.json_route import JsonRoute
from nxce.core.preconditions import parse_tags

router = APIRouter(prefix="/xapi", route_class=JsonRoute, tags=["xapi"])

_XAPI_SCOPES = (
    Scope.all,
    Scope.all_read,
    Scope.statements_read,
    Scope.statements_read_mine,
    Scope.statements_write,
    Scope.state,
    Scope.profile,
)


def _version(request: Request) -> XapiVersion:
    version: XapiVersion = request.scope.get("state", {}).get("xapi_version", V2)
    return version


async def _authorize(request: Request, scope: Scope) -> Principal:
    """The client, if it holds `scope` (or all; or all/read for reads)."""
    principal = await authenticate(request)
    reading = request.method in ("GET", "HEAD")
    allowed = [scope, Scope.all, *([Scope.all_read] if reading else [])]
    if not any(principal.holds(s) for s in allowed):
        raise Forbidden(f"client {principal.key!r} lacks the scope {scope.value!r}")
    return principal


def _parameters(request: Request, allowed: set[str]) -> dict[str, str]:
    parameters = dict(request.query_params)
    if len(parameters) != len(request.query_params.multi_items()):
        raise BadRequest("each parameter may be given once")
    unknown = sorted(set(parameters) - allowed)
    if unknown:
        raise BadRequest(f"{request.url.path} has no parameter {unknown[0]!r}")
    return parameters


def _required(parameters: dict[str, str], name: str) -> str:
    value = parameters.get(name)
    if value is None or value == "":
        raise BadRequest(f"the {name} parameter is required")
    return value


def _activity_id(parameters: dict[str, str]) -> str:
    value = _required(parameters, "activityId")
    if not primitives.is_iri(value):
        raise BadRequest(f"activityId must be an IRI, got {value[:80]!r}")
    return value


def _agent(parameters: dict[str, str]) -> dict[str, Any]:
    value = _required(parameters, "agent")
    agent: dict[str, Any] = json_input.loads(value, "agent")
    try:
        ActorChecker(V2).actor(agent, "agent")
    except StatementInvalid as error:
        raise BadRequest(f"{error}") from None
    if identity.ifi_key(agent) is None:
        raise BadRequest("agent must be identified (mbox, mbox_sha1sum, openid or account)")
    return agent


def _registration(parameters: dict[str, str]) -> str:
    value = parameters.get("registration")
    if value is None:
        return ""
    if not primitives.is_uuid(value):
        raise BadRequest(f"registration must be a UUID, got {value[:80]!r}")
    return value.lower()


def _since_us(parameters: dict[str, str]) -> int | None:
    value = parameters.get("since")
    if value is None:
        return None
    moment = primitives.parse_timestamp(value)
    if moment is None:
        raise BadRequest(f"since must be an ISO 8601 timestamp with a time zone, got {value!r}")
    return int(moment.timestamp() * 1_000_000)


def _conditions(request: Request) -> Conditions:
    return Conditions(
        if_match=parse_tags(request.headers.get("if-match"), name="If-Match", bare=True),
        if_none_match=parse_tags(
            request.headers.get("if-none-match"), name="If-None-Match", bare=True
        ),
    )


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


class _Resource:
    """One document resource: how its requests name a document and its context."""

    def __init__(
        self,
        kind: Kind,
        scope: Scope,
        id_name: str,
        activity: bool,
        agent: bool,
        registration: bool,
    ) -> None:
        self.kind, self.scope, self.id_name = kind, scope, id_name
        self.activity, self.agent, self.registration = activity, agent, registration

    def allowed(self) -> set[str]:
        names = {self.id_name, "since"}
        names |= {"activityId"} if self.activity else set()
        names |= {"agent"} if self.agent else set()
        names |= {"registration"} if self.registration else set()
        return names

    def identity(self, parameters: dict[str, str], *, single: bool) -> Identity:
        return Identity(
            kind=self.kind,
            activity_id=_activity_id(parameters) if self.activity else "",
            agent=(identity.ifi_key(_agent(parameters)) or "") if self.agent else "",
            registration=_registration(parameters) if self.registration else "",
            document_id=_required(parameters, self.id_name) if single else "",
        )

    def require_conditions(self, version: XapiVersion) -> bool:
        """Communication 3.1: PUT over an existing Profile needs If-Match or If-None-Match;
        xAPI 2.0 asks the same of State documents."""
        return self.kind != Kind.state or version.is_2

    def require_conditions_always(self, version: XapiVersion) -> bool:
        """xAPI 1.0.3 Communication 3.1: a PUT to a Profile carries one of the two headers
        even when it creates the document (2.0 relaxed this)."""
        return self.kind != Kind.state and not version.is_2


STATE = _Resource(Kind.state, Scope.state, "stateId", True, True, True)
ACTIVITY_PROFILE = _Resource(Kind.activity_profile, Scope.profile, "profileId", True, False, False)
AGENT_PROFILE = _Resource(Kind.agent_profile, Scope.profile, "profileId", False, True, False)


def _own(request: Request, principal: Principal, document: Identity) -> Identity:
    """A client bound to a learner (the app acting as them) reads and writes the State and
    agent profiles of its learner only: 403 for another agent's."""
    bound = principal.learner_id is not None and not principal.holds(Scope.admin)
    if (
        bound
        and document.agent
        and document.agent
        not in identity.learner_keys(
            request.app.state.settings.platform_home_page, str(principal.learner_id)
        )
    ):
        raise Forbidden(
            f"client {principal.key!r} acts for learner {principal.learner_id!r} only; "
            "the agent parameter names someone else"
        )
    return document


def _may_change(principal: Principal, resource: _Resource, method: str) -> None:
    """Activity profiles (a course's shared settings, written by admins, read by every
    learner) are read-only for a client bound to a learner: it changes its own agent
    profiles and State only."""
    bound = principal.learner_id is not None and not principal.holds(Scope.admin)
    if bound and resource.kind == Kind.activity_profile:
        raise Forbidden(
            f"client {principal.key!r} acts for learner {principal.learner_id!r}: activity "
            f"profiles are shared by every learner of the activity, so {method} is refused; "
            "it may change its learner's agent profiles and State"
        )


async def _get(request: Request, resource: _Resource) -> Response:
    principal = await _authorize(request, resource.scope)
    parameters = _parameters(request, resource.allowed())
    if resource.id_name in parameters:
        if "since" in parameters:
            raise BadRequest(f"since lists documents; it does not go with {resource.id_name}")
        document = _own(request, principal, resource.identity(parameters, single=True))
        found = await service.get(identity=document)
        if found is None:
            raise NotFound(f"no document with {resource.id_name} {parameters[resource.id_name]!r}")
        return Response(
            found.content,
            media_type=found.content_type,
            headers={
                "ETag": f'"{found.etag}"',
                "Last-Modified": _http_date(found.updated),
            },
        )
    context = _own(request, principal, resource.identity(parameters, single=False))
    ids, latest = await service.ids(
        context=context,
        since_us=_since_us(parameters),
        any_registration=resource.registration and "registration" not in parameters,
    )
    headers = {"Last-Modified": _http_date(latest)} if latest else {}
    body = json.dumps(ids, ensure_ascii=False).encode("utf-8")
    headers["ETag"] = f'"{service.etag_of(body)}"'
    return Response(body, media_type="application/json", headers=headers)


async def _write(request: Request, resource: _Resource, method: str) -> Response:
    principal = await _authorize(request, resource.scope)
    _may_change(principal, resource, method)
    parameters = _parameters(request, resource.allowed() - {"since"})
    document = _own(request, principal, resource.identity(parameters, single=True))
    content = await request.body()
    content_type = request.headers.get("content-type") or "application/octet-stream"
    if method == "PUT":
        await service.put(
            identity=document,
            content=content,
            content_type=content_type,
            conditions=_conditions(request),
            require_conditions=resource.require_conditions(_version(request)),
            require_conditions_always=resource.require_conditions_always(_version(request)),
        )
    else:
        await service.post(
            identity=document,
            content=content,
            content_type=content_type,
            conditions=_conditions(request),
        )
    return Response(status_code=204)


async def _delete(request: Request, resource: _Resource) -> Response:
    principal = await _authorize(request, resource.scope)
    _may_change(principal, resource, "DELETE")
    parameters = _parameters(request, resource.allowed() - {"since"})
    if resource.id_name in parameters:
        document = _own(request, principal, resource.identity(parameters, single=True))
        await service.delete(identity=document, conditions=_conditions(request))
    elif resource.kind == Kind.state:
        await service.delete_all(
            context=_own(request, principal, resource.identity(parameters, single=False)),
            any_registration="registration" not in parameters,
        )
    else:
        raise BadRequest(f"DELETE needs the {resource.id_name} parameter")
    return Response(status_code=204)


def _routes(path: str, resource: _Resource) -> None:
    async def get(request: Request) -> Response:
        return await _get(request, resource)

    async def put(request: Request) -> Response:
        return await _write(request, resource, "PUT")

    async def post(request: Request) -> Response:
        return await _write(request, resource, "POST")

    async def delete(request: Request) -> Response:
        return await _delete(request, resource)

    described = openapi.documents(
        id_name=resource.id_name,
        activity=resource.activity,
        agent=resource.agent,
        registration=resource.registration,
    )
    handlers: dict[str, Callable[..., Any]] = {
        "GET": get,
        "PUT": put,
        "POST": post,
        "DELETE": delete,
    }
    for method, handler in handlers.items():
        router.add_api_route(
            path,
            handler,
            methods=[method],
            name=f"{resource.kind}_{method}",
            status_code=200 if method == "GET" else 204,
            openapi_extra=described[method],
        )


_routes("/activities/state", STATE)
_routes("/activities/profile", ACTIVITY_PROFILE)
_routes("/agents/profile", AGENT_PROFILE)


async def _authorize_reader(request: Request) -> Principal:
    """Activities and Agents are open to any client holding an xAPI scope."""
    principal = await authenticate(request)
    if not any(principal.holds(s) for s in _XAPI_SCOPES):
        raise Forbidden(f"client {principal.key!r} holds no xAPI scope")
    return principal


# Who may learn the names other clients' statements gave an Agent.
_READS_ALL_STATEMENTS = (Scope.statements_read, Scope.all_read, Scope.all)


@router.get("/activities", openapi_extra=openapi.ACTIVITY)
async def get_activity(request: Request) -> JSONResponse:
    """Communication 2.5: the Activity object the LRS holds (a course's, from the catalog)."""
    await _authorize_reader(request)
    parameters = _parameters(request, {"activityId"})
    found = await directory.activity(
        activity_id=_activity_id(parameters),
        course_definition=hooks(request).course_definition,
    )
    return JSONResponse(found)


@router.get("/agents", openapi_extra=openapi.PERSON)
async def get_person(request: Request) -> JSONResponse:
    """Communication 2.4: the Person object of what the LRS knows of an Agent."""
    principal = await _authorize_reader(request)
    parameters = _parameters(request, {"agent"})
    agent = _agent(parameters)
    if agent.get("objectType") == "Group":
        raise BadRequest("agent must be an Agent, not a Group (Communication 2.4)")
    names_from_statements = any(principal.holds(s) for s in _READS_ALL_STATEMENTS)
    if principal.learner_id is not None and not principal.holds(Scope.admin):
        # A client acting for a learner learns names of its own learner only.
        own = identity.learner_keys(
            request.app.state.settings.platform_home_page, principal.learner_id
        )
        names_from_statements = names_from_statements and identity.ifi_key(agent) in own
    return JSONResponse(
        await directory.person(agent=agent, names_from_statements=names_from_statements)
    )
