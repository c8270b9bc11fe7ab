"""HTTP routes of the xAPI resources under /xapi: About and Statements.

Requests are read by hand, not by FastAPI's parameter models: xAPI answers every bad
request with 400 (never 422), takes JSON or multipart/mixed bodies, and its parameters
(agent is JSON, booleans are true/false) follow the specification, not Python.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from lrs import identity, openapi, versions
from lrs.events import hooks
from lrs.statements import formats, multipart, primitives, query, sequence, store
from lrs.statements.models import StatementRecord
from lrs.statements.validation.actors import ActorChecker
from lrs.statements.validation.values import StatementInvalid
from nxce.core import json_input
from nxce.core.auth import Principal, authenticate
from nxce.core.clients import Scope
from nxce.core.errors import BadRequest, Forbidden
from nxce.core.json_route import JsonRoute

log = logging.getLogger("nxce.lrs")
router = APIRouter(prefix="/xapi", route_class=JsonRoute, tags=["xapi"])

CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
WRITE_SCOPES = (Scope.statements_write, Scope.all)
READ_SCOPES = (Scope.statements_read, Scope.all_read, Scope.all)
MAX_AGENT_CHARS = 2000
_SINGLE_PARAMETERS = {"statementId", "voidedStatementId", "attachments", "format"}
_QUERY_PARAMETERS = {
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
    "more",
}


def _version(request: Request) -> versions.XapiVersion:
    version: versions.XapiVersion = request.scope.get("state", {}).get("xapi_version", versions.V2)
    return version


async def _principal(request: Request) -> Principal:
    return await authenticate(request)


def _writer(request: Request, principal: Principal) -> store.Writer:
    home_page = request.app.state.settings.platform_home_page
    acting_as = None
    if principal.learner_id is not None and not principal.holds(Scope.admin):
        acting_as = frozenset(_learner_keys(request, principal.learner_id))
    return store.Writer(
        identity.authority(key=principal.key, name=principal.name, home_page=home_page),
        # A client acting for one learner never voids others' statements, whatever it holds.
        privileged=principal.holds(Scope.all) and acting_as is None,
        acting_as=acting_as,
    )


def _learner_keys(request: Request, learner_id: str) -> list[str]:
    return identity.learner_keys(request.app.state.settings.platform_home_page, learner_id)


def _require_write(principal: Principal) -> None:
    if not any(principal.holds(s) for s in WRITE_SCOPES):
        raise Forbidden(
            f"client {principal.key!r} may not write statements (needs statements/write or all)"
        )


def _read_restriction(request: Request, principal: Principal) -> query.Visible:
    """What the client may read: every statement; under statements/read/mine those it
    stored; and a client bound to a learner (the app acting as them), whatever its read
    scope, the statements about its learner only, wherever they came from (the web player
    too), so it can pull what other devices recorded."""
    bound = None
    if principal.learner_id is not None and not principal.holds(Scope.admin):
        bound = frozenset(_learner_keys(request, principal.learner_id))
    if any(principal.holds(s) for s in READ_SCOPES):
        return query.Visible(agents=bound)
    if principal.holds(Scope.statements_read_mine):
        if bound is not None:
            return query.Visible(agents=bound)
        return query.Visible(authority=_writer(request, principal).key)
    raise Forbidden(
        f"client {principal.key!r} may not read statements "
        "(needs statements/read, statements/read/mine, all/read or all)"
    )


async def _consistent_through() -> str:
    return primitives.format_timestamp(await query.consistent_through())


def _json_loads(raw: bytes, what: str) -> Any:
    """The statements of a body, refused values named by their path: `statement.result…`
    for one statement, `statements[2].result…` in a batch."""
    if what == "statements":
        what = "statements" if raw.lstrip()[:1] == b"[" else "statement"
    return json_input.loads(raw, what)


async def _statements_body(request: Request) -> tuple[Any, dict[str, multipart.Part], bool]:
    """The statements of a PUT or POST body, with the attachment parts when multipart."""
    content_type = request.headers.get("content-type")
    kind = multipart.media_type(content_type)
    body = await request.body()
    if kind == "application/json":
        return _json_loads(body, "statements"), {}, False
    if kind == "multipart/mixed":
        parts = multipart.parse(body, content_type or "")
        if not parts or multipart.media_type(parts[0].content_type) != "application/json":
            raise BadRequest(
                "the first part of multipart/mixed must be the statements, "
                "application/json (Communication 1.5.2)"
            )
        attachments: dict[str, multipart.Part] = {}
        for i, part in enumerate(parts[1:], start=2):
            sha2 = part.headers.get("x-experience-api-hash")
            if not sha2:
                raise BadRequest(
                    f"part {i} has no X-Experience-API-Hash header (Communication 1.5.2)"
                )
            encoding = part.headers.get("content-transfer-encoding", "binary").lower()
            if encoding != "binary":
                raise BadRequest(
                    f"part {i}: Content-Transfer-Encoding must be binary, got "
                    f"{encoding!r} (Communication 1.5.2)"
                )
            if not multipart.hash_matches(part.body, sha2):
                raise BadRequest(
                    f"part {i}: its data does not hash to its X-Experience-API-Hash {sha2[:16]}… "
                    "(Communication 1.5.2)"
                )
            attachments[sha2.lower()] = part
        return _json_loads(parts[0].body, "statements"), attachments, True
    raise BadRequest(
        f"statements are sent as application/json or multipart/mixed, got "
        f"{content_type!r} (Communication 1.5)"
    )


async def _headers(
    extra: dict[str, str] | None = None, through: datetime | None = None
) -> dict[str, str]:
    consistent = primitives.format_timestamp(through) if through else await _consistent_through()
    return {CONSISTENT_THROUGH: consistent, **(extra or {})}


@router.get("/about", openapi_extra=openapi.ABOUT)
async def about() -> JSONResponse:
    """Communication 2.8: the versions this LRS speaks, and its extensions."""
    return JSONResponse(
        {
            "version": list(versions.SUPPORTED),
            "extensions": {"https://nxce.example/xapi/extensions/nxce": {"service": "nxce"}},
        }
    )


@router.put("/statements", status_code=204, openapi_extra=openapi.PUT_STATEMENT)
async def put_statement(request: Request) -> Response:
    """Communication 2.1.1: store one statement under `statementId`; 204."""
    principal = await _principal(request)
    _require_write(principal)
    parameters = dict(request.query_params)
    statement_id = parameters.pop("statementId", None)
    if statement_id is None:
        raise BadRequest("PUT /statements needs the statementId parameter (Communication 2.1.1)")
    if parameters:
        raise BadRequest(f"PUT /statements takes only statementId, got {sorted(parameters)[0]!r}")
    if not primitives.is_uuid(statement_id):
        raise BadRequest(f"statementId must be a UUID, got {statement_id!r}")
    statement, parts, is_multipart = await _statements_body(request)
    if not isinstance(statement, dict):
        raise BadRequest("PUT /statements takes one statement, a JSON object")
    if "id" in statement and str(statement["id"]).lower() != statement_id.lower():
        raise BadRequest(
            f"statement id {statement['id']!r} differs from statementId "
            f"{statement_id!r} (Communication 2.1.1)"
        )
    statement = {**statement, "id": statement.get("id", statement_id)}
    await store.store(
        statements=[statement],
        version=_version(request),
        writer=_writer(request, principal),
        parts=parts,
        multipart=is_multipart,
        single=True,
        published=hooks(request).events.published,
        counted=hooks(request).events.counted,
    )
    return Response(status_code=204, headers=await _headers())


@router.post("/statements", openapi_extra=openapi.POST_STATEMENTS)
async def post_statements(request: Request) -> Response:
    """Communication 2.1.2: store one statement or an array; 200 with their ids."""
    principal = await _principal(request)
    _require_write(principal)
    if request.query_params:
        raise BadRequest(
            f"POST /statements takes no parameters, got {sorted(request.query_params)[0]!r}"
        )
    body, parts, is_multipart = await _statements_body(request)
    single = isinstance(body, dict)
    statements = [body] if single else body
    if not isinstance(statements, list):
        raise BadRequest("POST /statements takes a statement object or an array of them")
    ids = await store.store(
        statements=statements,
        version=_version(request),
        writer=_writer(request, principal),
        parts=parts,
        multipart=is_multipart,
        single=single,
        published=hooks(request).events.published,
        counted=hooks(request).events.counted,
    )
    return JSONResponse(ids, headers=await _headers())


def _boolean(parameters: dict[str, str], name: str) -> bool:
    value = parameters.get(name)
    if value is None:
        return False
    if value not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false, got {value!r} (Communication 2.1.3)")
    return value == "true"


def _agent_key(value: str) -> str:
    if len(value) > MAX_AGENT_CHARS:
        raise BadRequest(f"agent must be at most {MAX_AGENT_CHARS} characters, got {len(value)}")
    agent = json_input.loads(value, "agent")
    checker = ActorChecker(versions.V2)
    try:
        checker.actor(agent, "agent")
    except StatementInvalid as error:
        raise BadRequest(f"{error} (Communication 2.1.3)") from None
    key = identity.ifi_key(agent)
    if key is None:
        raise BadRequest("agent must be an Agent or an identified Group, not an anonymous one")
    return key


def _timestamp_us(parameters: dict[str, str], name: str) -> int | None:
    value = parameters.get(name)
    if value is None:
        return None
    moment = primitives.parse_timestamp(value)
    if moment is None:
        raise BadRequest(f"{name} must be an ISO 8601 timestamp with a time zone, got {value!r}")
    return int(moment.timestamp() * 1_000_000)


def _query(parameters: dict[str, str]) -> query.Query:
    unknown = sorted(set(parameters) - _QUERY_PARAMETERS)
    if unknown:
        raise BadRequest(f"GET /statements has no parameter {unknown[0]!r} (Communication 2.1.3)")
    for name in ("verb", "activity"):
        if name in parameters and not primitives.is_iri(parameters[name]):
            raise BadRequest(f"{name} must be an IRI, got {parameters[name]!r}")
    if "registration" in parameters and not primitives.is_uuid(parameters["registration"]):
        raise BadRequest(f"registration must be a UUID, got {parameters['registration']!r}")
    limit = parameters.get("limit", "0")
    if not limit.isdigit() or not limit.isascii():
        raise BadRequest(f"limit must be a non-negative integer, got {limit!r}")
    return query.Query(
        agent=_agent_key(parameters["agent"]) if "agent" in parameters else None,
        verb=parameters.get("verb"),
        activity=parameters.get("activity"),
        registration=parameters.get("registration"),
        related_activities=_boolean(parameters, "related_activities"),
        related_agents=_boolean(parameters, "related_agents"),
        since_us=_timestamp_us(parameters, "since"),
        until_us=_timestamp_us(parameters, "until"),
        limit=int(limit),
        ascending=_boolean(parameters, "ascending"),
    )


def _cursor(filters: query.Query, parameters: dict[str, str]) -> str:
    """An opaque, stateless `more` token: the original parameters and where to go on."""
    state = {"p": parameters, "t": filters.through_us, "a": filters.after_us}
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _uncursor(token: str) -> tuple[dict[str, str], int | None, int | None]:
    """The cursor's parameters and bounds, checked like a request's: a cursor is only a
    bookmark, and nothing in it is trusted beyond what the client could ask directly."""
    invalid = BadRequest("more is not a cursor this LRS issued")
    if len(token) > 20_000:
        raise invalid
    try:
        state = json_input.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)), "more")
    except (BadRequest, ValueError):
        raise invalid from None
    if not isinstance(state, dict) or not isinstance(state.get("p"), dict):
        raise invalid
    parameters = state["p"]
    bounds = (state.get("t"), state.get("a"))
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in parameters.items()):
        raise invalid
    if not all(b is None or (type(b) is int and 0 <= b < 2**62) for b in bounds):
        raise invalid
    if "more" in parameters or (
        "format" in parameters and parameters["format"] not in formats.FORMATS
    ):
        raise invalid
    return dict(parameters), bounds[0], bounds[1]


def _statement_body(record: StatementRecord, format_: str, languages: list[str]) -> dict[str, Any]:
    return formats.render(json_input.stored(record.document), format_, languages)


def _last_modified(records: list[StatementRecord]) -> dict[str, str]:
    if not records:
        return {}
    newest = max(r.stored for r in records)
    return {"Last-Modified": format_datetime(newest.astimezone(UTC), usegmt=True)}


async def _respond(
    payload: Any,
    records: list[StatementRecord],
    with_attachments: bool,
    through: datetime | None = None,
) -> Response:
    headers = await _headers(_last_modified(records), through)
    if not with_attachments:
        return JSONResponse(payload, headers=headers)
    stored = await query.attachments_for(records)
    content_type, body = multipart.build(
        json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        [(a.sha2, a.content_type, a.data) for a in stored],
    )
    return Response(body, media_type=None, headers={**headers, "Content-Type": content_type})


@router.get("/statements", openapi_extra=openapi.GET_STATEMENTS)
async def get_statements(request: Request) -> Response:
    """Communication 2.1.3: one statement by id, or a page of a query with `more`."""
    principal = await _principal(request)
    restriction = _read_restriction(request, principal)
    parameters = dict(request.query_params)
    if len(parameters) != len(request.query_params.multi_items()):
        raise BadRequest("each parameter of GET /statements may be given once")
    format_ = parameters.get("format", "exact")
    if format_ not in formats.FORMATS:
        raise BadRequest(f"format must be exact, ids or canonical, got {format_!r}")
    with_attachments = _boolean(parameters, "attachments")
    languages = formats.accepted_languages(request.headers.get("accept-language"))
    single = [n for n in ("statementId", "voidedStatementId") if n in parameters]
    if single:
        if len(single) == 2:
            raise BadRequest(
                "give statementId or voidedStatementId, not both (Communication 2.1.3)"
            )
        extra = sorted(set(parameters) - _SINGLE_PARAMETERS)
        if extra:
            raise BadRequest(
                f"{single[0]} goes with format and attachments only, got "
                f"{extra[0]!r} (Communication 2.1.3)"
            )
        wanted = parameters[single[0]]
        if not primitives.is_uuid(wanted):
            raise BadRequest(f"{single[0]} must be a UUID, got {wanted!r}")
        record = await query.get(
            statement_id=wanted, voided=single[0] == "voidedStatementId", visible=restriction
        )
        return await _respond(
            _statement_body(record, format_, languages), [record], with_attachments
        )
    through: datetime | None = None  # a later page: now
    if "more" in parameters:
        if len(parameters) > 1:
            raise BadRequest("more goes alone: the cursor carries the query")
        original, through_us, after_us = _uncursor(parameters["more"])
        filters = _query(original)
        filters = replace(filters, through_us=through_us, after_us=after_us)
        parameters = original
        format_ = parameters.get("format", "exact")
        with_attachments = _boolean(parameters, "attachments")
    else:
        filters = _query(parameters)
        # The first page sees up to the high-water mark, and Consistent-Through is that
        # mark: every statement stored at or before it, by any replica, is in this query,
        # so a `since` pull from it misses nothing stored while this one ran.
        through_us = await query.latest_stored_us()
        through = sequence.time_of(through_us)
        filters = replace(filters, through_us=through_us)
    records, more = await query.find(
        query=filters, visible=restriction, with_attachments=with_attachments
    )
    result: dict[str, Any] = {
        "statements": [_statement_body(r, format_, languages) for r in records],
    }
    if more:
        following = replace(filters, after_us=records[-1].stored_us)
        prefix = request.scope.get("root_path", "")
        result["more"] = (
            f"{prefix}/xapi/statements?{urlencode({'more': _cursor(following, parameters)})}"
        )
    else:
        result["more"] = ""
    return await _respond(result, records, with_attachments, through)
